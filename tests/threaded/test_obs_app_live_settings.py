"""The OBS script applies settings live through TTSQueueManager.reconfigure (issue 7 item 4):
the clip that plays is not cut and played again, and a failed apply shows in the status line."""

from __future__ import annotations

from typing import Any

from doubles import EventLog, ToneEngine, wait_until
from obs_fake import FakeFrames, FakeObs

from tts_core.obs.script.api import ObsApi
from tts_core.obs.script.app import ObsTTSApp
from tts_core.obs.script.pump import Pump
from tts_core.obs.script.settings import DEFAULTS

MEDIA = "TTS Audio"
CLIP_SECONDS = 0.8




def _app(settings: dict[str, Any]) -> tuple[ObsTTSApp, FakeFrames]:
    obs, pump = FakeObs(), Pump()
    app = ObsTTSApp(ObsApi(obs), pump, {**DEFAULTS, **settings}, listener_factory=None, debounce_s=0.05,
                    engine=ToneEngine(round(CLIP_SECONDS * 1000)))  # as long as the fake OBS plays it
    app.media_source.frontend_ready()
    frames = FakeFrames(obs, pump, clip_seconds=CLIP_SECONDS)
    app.start()
    assert wait_until(lambda: app.is_running)
    return app, frames


def test_workers_and_retries_change_while_a_clip_plays_without_cutting_it(monkeypatch, tmp_path):
    monkeypatch.setenv("OBS_TTS_DATA_DIR", str(tmp_path))
    app, frames = _app({"max_concurrent_workers": 2})
    try:
        manager = app.manager
        assert manager is not None
        log = EventLog()
        manager.subscribe(log)
        ids = [manager.add_message(f"message {n}") for n in range(3)]
        log.wait_for("playback_started", ids[0])
        app.settings_changed({**app.applied, "max_concurrent_workers": 1, "max_retries": 0,
                              "rate_limit_per_minute": 120, "max_queue_size": 50})
        assert wait_until(lambda: manager.config.max_concurrent_workers == 1 and manager.queue.max_size == 50)
        assert app.manager is manager and manager.get_stats()["now_playing"] == ids[0]
        log.wait_for("playback_finished", ids[-1], timeout=30)
        starts = [e["message_id"] for e in log.named("playback_started")]
        assert starts == ids, "each clip started once: the playing one was not cut and replayed"
        assert log.named("skipped") == [] and "settings" not in app.errors
    finally:
        assert app.shutdown()
        frames.stop()


def test_a_failed_apply_keeps_the_queue_and_shows_in_the_status_line(monkeypatch, tmp_path):
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("a file where the data folder should be")
    monkeypatch.setenv("OBS_TTS_DATA_DIR", str(not_a_folder))
    app, frames = _app({"persist": False})
    try:
        manager = app.manager
        assert manager is not None
        app.settings_changed({**app.applied, "persist": True, "max_concurrent_workers": 1})
        assert wait_until(lambda: "settings" in app.errors)
        status = app.status_text()
        assert "not applied, the previous settings keep running" in status, status
        assert "journal folder" in status, status
        assert app.manager is manager and manager.is_running
        assert manager.config.persist is False and manager.config.max_concurrent_workers == 3
        msg = manager.add_message("still playing")
        assert wait_until(lambda: manager.get_stats()["played"] == 1), msg
    finally:
        assert app.shutdown()
        frames.stop()
