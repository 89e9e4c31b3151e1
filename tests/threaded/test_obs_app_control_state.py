"""What the script keeps across an OBS restart (paused, disabled) and what the status says."""

from __future__ import annotations

from pathlib import Path

import pytest
from doubles import ToneEngine, wait_until
from obs_fake import FakeFrames, FakeObs

from tts_core.obs.script.api import ObsApi
from tts_core.obs.script.app import ObsTTSApp
from tts_core.obs.script.pump import Pump
from tts_core.obs.script.settings import DEFAULTS


def test_paused_and_disabled_come_back_paused_and_disabled(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    monkeypatch.setenv("OBS_TTS_DATA_DIR", str(tmp_path))
    obs, pump = FakeObs(), Pump()
    frames = FakeFrames(obs, pump)
    first = ObsTTSApp(ObsApi(obs), pump, DEFAULTS, listener_factory=None, engine=ToneEngine(20))
    first.media_source.frontend_ready()
    first.start()
    try:
        assert wait_until(lambda: first.is_running)
        assert first.manager is not None
        first.manager.pause()
        kept = first.manager.add_message("kept while paused")
        first.manager.disable()
        saved = first.control_state()
        assert saved == {"paused": True, "disabled": True}
    finally:
        assert first.shutdown()

    second = ObsTTSApp(ObsApi(obs), pump, DEFAULTS, listener_factory=None, engine=ToneEngine(20),
                       start_state=saved)
    second.media_source.frontend_ready()
    second.start()
    try:
        assert wait_until(lambda: second.is_running)
        manager = second.manager
        assert manager is not None and manager.paused and not manager.enabled
        status = second.status_text()
        assert "PAUSED" in status.splitlines()[0] and "DISABLED" in status.splitlines()[0], status
        assert [m["message_id"] for m in manager.get_queue(10)] == [kept]
        manager.resume()
        assert wait_until(lambda: manager.get_stats()["played"] == 1)
        assert second.control_state() == {"paused": False, "disabled": True}
    finally:
        assert second.shutdown()
        frames.stop()


def test_switching_engine_keeps_a_voice_it_has_and_says_which_it_chose(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    app = ObsTTSApp(ObsApi(FakeObs()), Pump(), DEFAULTS, listener_factory=None)
    app._voices = {"espeak": [("en-us", "en-us"), ("de", "de")], "gtts": [("en", "English (en)")]}
    assert app.voice_for_engine("espeak", "de") == "de" and "voice" not in app.notes
    assert app.voice_for_engine("gtts", "de") == ""
    assert "gtts has no voice 'de'; it speaks with its default voice" in app.notes["voice"]
    assert app.voice_for_engine("espeak", "en-us") == "en-us" and "voice" not in app.notes
    app._voices["piper"] = []  # voices not known (not installed): the voice stays
    assert app.voice_for_engine("piper", "de") == "de"
