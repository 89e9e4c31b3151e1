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
