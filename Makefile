# OBS TTS Queue. `make demo` and `make test` do all set-up on a fresh Debian/Ubuntu machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# Every Python OBS loads (Ubuntu 22.04: 3.10, Debian 12: 3.11, Ubuntu 24.04: 3.12, Fedora and
# Debian 13: 3.13). $(PYTHON) runs everything; each other one runs the pure and component tests
# in its own .venv-X.Y. A missing one fails `make test` (scripts/find-python.sh says how to get it).
SUPPORTED_PYTHONS := 3.10 3.11 3.12 3.13
MAIN_PYTHON := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
OTHER_PYTHONS ?= $(filter-out $(MAIN_PYTHON),$(SUPPORTED_PYTHONS))

.PHONY: demo test lint unit pure integration e2e bench system-deps clean screenshots pythons $(OTHER_PYTHONS:%=unit-%)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

.venv-%/.installed: pyproject.toml
	@test -x .venv-$*/bin/python || { py="$$(scripts/find-python.sh $*)" && "$$py" -m venv .venv-$*; }
	.venv-$*/bin/python -m pip install --quiet --upgrade pip
	.venv-$*/bin/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: $(STAMP)
	@scripts/install-system-deps.sh espeak-ng
	$(PY) -m tts_core.cli demo

system-deps:
	@scripts/install-system-deps.sh espeak-ng obs-studio xvfb ffmpeg sox xdotool curl dbus at-spi2-core gdb chromium openssl

lint: $(STAMP)
	$(VENV)/bin/ruff check tts_core tests bench $(wildcard obs_tts_queue.py)
	$(VENV)/bin/mypy tts_core $(wildcard obs_tts_queue.py)

# The other Pythons' venvs are made first, so a missing interpreter fails at once. The tests
# with real OBS run one at a time (they measure timing and share one X display); the rest,
# which mostly wait on threads and sockets, run in three processes side by side.
test: system-deps $(STAMP) $(OTHER_PYTHONS:%=.venv-%/.installed) lint
	OBS_TTS_REQUIRE_E2E=1 $(PY) -m pytest -q tests/e2e
	OBS_TTS_REQUIRE_E2E=1 $(PY) -m pytest -q -n 3 --ignore=tests/e2e
	@$(MAKE) --no-print-directory -j3 --output-sync=target pythons

# The pure and component tests (with the OBS script on the fake obspython) on the other Pythons,
# side by side (`make test` runs them with -j3: they mostly wait, about 0.25 core each).
pythons: $(OTHER_PYTHONS:%=unit-%)

$(OTHER_PYTHONS:%=unit-%): unit-%: .venv-%/.installed
	.venv-$*/bin/python -m pytest -q tests/pure tests/threaded

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

# docs/img/obs-properties.png from a real OBS under Xvfb, docs/img/dashboard-*.png from Chromium (not part of make test)
screenshots: system-deps $(STAMP)
	$(PY) scripts/obs_screenshot.py docs/img/obs-properties.png
	$(PY) scripts/obs_ducking_screenshot.py docs/img/obs-ducking-filter.png
	OBS_TTS_SCREENSHOTS=1 $(PY) -m pytest -q tests/browser/test_dashboard_page.py -k dock  # docs/img/dashboard-*.png

clean:
	rm -rf $(VENV) $(SUPPORTED_PYTHONS:%=.venv-%) demo-output .pytest_cache .mypy_cache .ruff_cache
