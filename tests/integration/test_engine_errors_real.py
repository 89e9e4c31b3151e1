"""Real espeak-ng: an unknown voice is a permanent error (fails at once), and an unknown
``engine.voice`` in the config is refused at start by the manager, the OBS script and
`obs-tts serve`, naming the key and close matches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from doubles import EventLog, RecordingSink, assert_accounting, wait_until
from obs_fake import FakeObs

from tts_core import TTSConfig, TTSQueueManager
from tts_core.config import EngineConfig
from tts_core.engines import EspeakEngine
from tts_core.obs.script.api import ObsApi
from tts_core.obs.script.app import ObsTTSApp
from tts_core.obs.script.pump import Pump
from tts_core.obs.script.settings import DEFAULTS

ROOT = Path(__file__).resolve().parents[2]


def test_unknown_voice_of_one_message_fails_at_once(make_manager):
    log = EventLog()
    manager = make_manager(TTSConfig(rate_limit_per_minute=0, max_retries=3, retry_backoff_seconds=0.2),
                           engine=EspeakEngine(), sink=RecordingSink(speed=0))
    manager.subscribe(log)
    manager.start()
    bad = manager.add_message("hello", "NORMAL", voice="xx-nope")
    good = manager.add_message("hello", "NORMAL", voice="en-us")
    failed = log.wait_for("failed", bad, timeout=20)
    assert failed["attempts"] == 1 and "unknown espeak voice 'xx-nope'" in failed["error"]
    log.wait_for("playback_finished", good, timeout=20)
    assert assert_accounting(manager)["retried"] == 0


def test_manager_refuses_unknown_configured_voice(make_manager):
    manager: TTSQueueManager = make_manager(TTSConfig(engine=EngineConfig(voice="en-uss")))
    with pytest.raises(ValueError, match=r"^engine\.voice: unknown voice 'en-uss' for engine espeak; "
                                         r"close matches: .*en-us"):
        manager.start()
    assert not manager.is_running


def test_obs_script_shows_the_unknown_voice(tmp_path, monkeypatch):
    monkeypatch.setenv("OBS_TTS_DATA_DIR", str(tmp_path))
    app = ObsTTSApp(ObsApi(FakeObs()), Pump(), {**DEFAULTS, "voice": "en-uss"}, listener_factory=None)
    app.start()
    try:
        wait_until(lambda: "engine.voice" in app.status_text(), 20)
        status = app.status_text()
        assert status.startswith("Not running") and "engine.voice: unknown voice 'en-uss'" in status, status
        assert "en-us" in status
    finally:
        assert app.shutdown()


def test_serve_refuses_unknown_configured_voice(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"engine": {"name": "espeak", "voice": "en-uss"}}))
    done = subprocess.run(
        [sys.executable, "-m", "tts_core.cli", "serve", "--config", str(config), "--port", "0",
         "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
    )
    assert done.returncode == 2, done
    assert "engine.voice: unknown voice 'en-uss'" in done.stderr and "en-us" in done.stderr
    assert "Traceback" not in done.stderr


def test_pyttsx3_unknown_voice_is_permanent():
    from tts_core.engines import PermanentEngineError, Pyttsx3Engine

    engine = Pyttsx3Engine()
    with pytest.raises(PermanentEngineError, match="unknown pyttsx3 voice 'xx-nope'"):
        engine.synthesize("hello", voice="xx-nope")
    assert engine.synthesize("hello")[:4] == b"RIFF"  # the engine still works
