"""Engine ``auto`` on this machine: real espeak-ng where it is installed; with espeak-ng
hidden from the PATH the default configuration (engine espeak) speaks with pyttsx3 and
says so, in the queue's status, in `obs-tts say` and in `obs-tts doctor`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from doubles import skip_or_fail

from tts_core import TTSConfig
from tts_core.domain.audio import Clip
from tts_core.engines import AutoEngine
from tts_core.engines.chain import engine_from_config
from tts_core.engines.support import installed

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def espeak_ng() -> str:
    path = shutil.which("espeak-ng")
    if path is None:
        skip_or_fail("espeak-ng is not installed (`make system-deps` installs it)")
    return path


@pytest.fixture
def hidden_espeak(tmp_path, monkeypatch, espeak_ng) -> str:
    """A PATH without espeak-ng (pyttsx3's driver loads libespeak itself, not the program)."""
    if not installed("pyttsx3"):
        skip_or_fail("pyttsx3 is not installed: pip install -e '.[dev]'")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("espeak-ng") is None and shutil.which("espeak") is None
    return str(empty)


def test_auto_speaks_with_espeak_ng_where_it_is_installed(espeak_ng):
    engine = AutoEngine()
    assert engine.chosen == "espeak" and engine.status() == "voice: espeak-ng"
    clip = Clip.from_bytes(engine.synthesize("Thanks for the follow", voice="en-us"))
    assert clip.format == "wav" and 500 < clip.duration_ms < 5000
    assert engine.health() is None


def test_without_espeak_ng_the_default_config_speaks_with_pyttsx3_and_says_so(hidden_espeak):
    config = TTSConfig()
    assert config.engine.name == "espeak"  # the default is unchanged
    chain = engine_from_config(config)
    try:
        clip = Clip.from_bytes(chain.synthesize("Thanks for the follow"))
        assert clip.format == "wav" and 300 < clip.duration_ms < 10000
        assert "voice: system voice (pyttsx3) (espeak: espeak-ng is not installed)" in chain.status()
    finally:
        chain.close()
    auto = AutoEngine()
    assert auto.chosen == "pyttsx3" and "system voice (pyttsx3)" in auto.status()


def _obs_tts(path: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "tts_core.cli", *args], capture_output=True, text=True,
                          timeout=120, env=env, check=False)


def test_obs_tts_say_and_doctor_without_espeak_ng(hidden_espeak, tmp_path):
    out = tmp_path / "hello.wav"
    said = _obs_tts(hidden_espeak, "say", "Hello chat", "--out", str(out))
    assert said.returncode == 0, said.stderr
    assert "espeak-ng is not installed: system voice (pyttsx3) speaks instead" in said.stderr
    assert Clip.from_bytes(out.read_bytes()).duration_ms > 300
    doctor = _obs_tts(hidden_espeak, "doctor")
    assert "ok    engine espeak: voice: system voice (pyttsx3)" in doctor.stdout, doctor.stdout
    assert "ok    engine auto: voice: system voice (pyttsx3)" in doctor.stdout, doctor.stdout


def test_obs_tts_say_names_the_engine_and_voice_that_really_spoke(hidden_espeak, tmp_path):
    """espeak-ng missing: the configured espeak is spoken by pyttsx3, and `say` says so
    (it used to print "engine espeak")."""
    played = _obs_tts(hidden_espeak, "say", "Hello chat")
    assert played.returncode == 0, played.stderr
    spoke = next(line for line in played.stdout.splitlines() if line.startswith("spoke "))
    assert "engine pyttsx3 instead of espeak" in spoke and "engine espeak," not in spoke, spoke
    assert ", voice " in spoke, spoke
    written = _obs_tts(hidden_espeak, "say", "Hello chat", "--out", str(tmp_path / "hello.wav"))
    assert written.returncode == 0, written.stderr
    assert "engine pyttsx3 instead of espeak" in written.stdout, written.stdout
    auto = _obs_tts(hidden_espeak, "say", "Hello chat", "--engine", "auto")
    assert auto.returncode == 0, auto.stderr
    line = next(line for line in auto.stdout.splitlines() if line.startswith("spoke "))
    assert "engine pyttsx3, voice " in line and "instead of" not in line, line


def test_obs_tts_doctor_names_the_engine_that_speaks_the_chain(hidden_espeak):
    doctor = _obs_tts(hidden_espeak, "doctor")
    assert "engine chain: espeak (espeak-ng is not installed: system voice (pyttsx3) speaks)" \
        in doctor.stdout, doctor.stdout


def test_obs_tts_serve_start_line_names_the_engine_that_speaks(hidden_espeak, tmp_path):
    env = {**os.environ, "PATH": hidden_espeak, "PYTHONPATH": str(ROOT)}
    serve = subprocess.Popen(
        [sys.executable, "-m", "tts_core.cli", "serve", "--port", "0", "--no-persist",
         "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        assert serve.stdout is not None
        line = serve.stdout.readline()  # blocks until serve prints its start line (or exits)
    finally:
        serve.terminate()
        serve.wait(timeout=60)
    assert line.startswith("obs-tts serve: listening on"), line
    assert "engine espeak (espeak-ng is not installed: system voice (pyttsx3) speaks)" in line, line


def test_obs_tts_say_with_espeak_ng_names_espeak_and_its_voice(espeak_ng):
    played = _obs_tts(os.environ["PATH"], "say", "Hello chat", "--voice", "en-us")
    assert played.returncode == 0, played.stderr
    assert "engine espeak, voice en-us" in played.stdout, played.stdout
