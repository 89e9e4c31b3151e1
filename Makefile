# OBS TTS Queue. `make demo` and `make test` do all set-up on a fresh Debian/Ubuntu machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint unit pure integration e2e bench system-deps clean screenshots

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	@scripts/install-system-deps.sh espeak-ng
	$(PY) -m tts_core.cli demo

system-deps:
	@scripts/install-system-deps.sh espeak-ng obs-studio xvfb ffmpeg sox xdotool curl dbus at-spi2-core gdb

lint: $(STAMP)
	$(VENV)/bin/ruff check tts_core tests bench $(wildcard obs_tts_queue.py)
	$(VENV)/bin/mypy tts_core $(wildcard obs_tts_queue.py)

test: system-deps $(STAMP) lint
	OBS_TTS_REQUIRE_E2E=1 $(PY) -m pytest -q

# pure: no threads, sleeps, sockets or subprocesses; threaded: components with their threads.
unit: $(STAMP)
	$(PY) -m pytest -q tests/pure tests/threaded

pure: $(STAMP)
	$(PY) -m pytest -q tests/pure

integration: $(STAMP)
	$(PY) -m pytest -q tests/integration

e2e: system-deps $(STAMP)
	OBS_TTS_REQUIRE_E2E=1 $(PY) -m pytest -q tests/e2e

# Every benchmark runs, each within BENCH_TIMEOUT seconds; failures are listed at the end.
BENCH_TIMEOUT ?= 600
bench: system-deps $(STAMP)
	@failed=""; \
	for b in bench/bench_*.py; do \
	  echo "== $$b"; \
	  timeout --kill-after=10 $(BENCH_TIMEOUT) $(PY) $$b; rc=$$?; \
	  if [ $$rc -eq 124 ] || [ $$rc -eq 137 ]; then echo "!! $$b: no result within $(BENCH_TIMEOUT) s"; fi; \
	  if [ $$rc -ne 0 ]; then echo "!! $$b failed (exit $$rc)"; failed="$$failed $$b"; fi; \
	done; \
	if [ -n "$$failed" ]; then echo "== failed:$$failed"; exit 1; fi; \
	echo "== all benchmarks passed"

# docs/img/obs-properties.png from a real OBS under Xvfb (not part of make test)
screenshots: system-deps $(STAMP)
	$(PY) scripts/obs_screenshot.py docs/img/obs-properties.png

clean:
	rm -rf $(VENV) demo-output .pytest_cache .mypy_cache .ruff_cache
