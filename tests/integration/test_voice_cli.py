"""`obs-tts say/voices/doctor` with the new engines, against loopback services."""

from __future__ import annotations

# ruff: noqa: F811 - the fixtures imported from fakes.fixtures are test arguments
import json
import os
import subprocess
import sys
from pathlib import Path

from fakes.fixtures import PROXY_VARIABLES, azure_server, no_proxy  # noqa: F401 - fixtures
from fakes.usp import UspServer

ROOT = Path(__file__).resolve().parents[2]


def obs_tts(*args: str, data_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES}
    env.update(PYTHONPATH=str(ROOT), OBS_TTS_DATA_DIR=str(data_dir))
    return subprocess.run([sys.executable, "-m", "tts_core.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, check=False)


def _config(tmp_path: Path, engine: dict) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"engine": engine}))
    return path


def test_say_out_through_the_configured_azure_engine(azure_server: UspServer, tmp_path):
    config = _config(tmp_path, {"name": "azure", "voice": "en-US-JennyNeural", "fallback": ["espeak"],
                                "azure": {"key": "k" * 32, "host": f"ws://127.0.0.1:{azure_server.port}"}})
    out = tmp_path / "clip.wav"
    done = obs_tts("say", "Thanks for the raid!", "--config", str(config), "--out", str(out),
                   data_dir=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert out.read_bytes()[:4] == b"RIFF" and "engine azure" in done.stdout
    assert '<voice name="en-US-JennyNeural">Thanks for the raid!</voice>' in azure_server.ssml_bodies[0]
    assert "k" * 32 not in done.stdout + done.stderr


def test_say_falls_back_when_the_key_is_refused_and_says_so(azure_server: UspServer, tmp_path):
    azure_server.handshake_status = 401
    config = _config(tmp_path, {"name": "azure", "fallback": ["espeak"],
                                "azure": {"key": "k" * 32, "host": f"ws://127.0.0.1:{azure_server.port}"}})
    out = tmp_path / "clip.wav"
    done = obs_tts("say", "Hello chat", "--config", str(config), "--out", str(out), data_dir=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "engine espeak instead of azure" in done.stdout
    played = obs_tts("say", "Hello chat", "--config", str(config), data_dir=tmp_path)
    assert played.returncode == 0 and "engine espeak instead of azure" in played.stdout


def test_say_engine_option_overrides_the_config_and_piper_speaks(tmp_path):
    config = _config(tmp_path, {"name": "espeak", "voice": "de"})
    out = tmp_path / "clip.wav"
    done = obs_tts("say", "Hello chat", "--config", str(config), "--engine", "piper", "--out", str(out),
                   data_dir=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "engine piper" in done.stdout and out.read_bytes()[:4] == b"RIFF"


def test_voices_of_gtts_and_piper(tmp_path):
    gtts = obs_tts("voices", "--engine", "gtts", "--language", "de", data_dir=tmp_path)
    assert gtts.returncode == 0 and any(line.split()[0] == "de" for line in gtts.stdout.splitlines()[1:-1])
    piper = obs_tts("voices", "--engine", "piper", data_dir=tmp_path)
    assert piper.returncode == 0 and "en_US-joe-medium" in piper.stdout


def test_doctor_checks_the_configured_chain(azure_server: UspServer, tmp_path):
    config = _config(tmp_path, {"name": "azure", "fallback": ["espeak"],
                                "azure": {"key": "k" * 32, "host": f"ws://127.0.0.1:{azure_server.port}"}})
    good = obs_tts("doctor", "--config", str(config), data_dir=tmp_path)
    assert "engine chain: azure > espeak" in good.stdout and "ok    engine azure" in good.stdout, good.stdout
    assert "--    engine gtts" in good.stdout  # optional, not contacted
    azure_server.handshake_status = 401
    bad = obs_tts("doctor", "--config", str(config), data_dir=tmp_path)
    assert bad.returncode == 1 and "FAIL  engine azure: azure: the key was refused" in bad.stdout
    assert "k" * 32 not in bad.stdout
