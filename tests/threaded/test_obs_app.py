"""ObsTTSApp: the queue as the script runs it, with a fake OBS whose frames run on a thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from doubles import ToneEngine, wait_until
from obs_fake import FakeFrames, FakeItem, FakeObs

from tts_core.obs.script.api import ObsApi
from tts_core.obs.script.app import ObsTTSApp
from tts_core.obs.script.pump import Pump
from tts_core.obs.script.settings import DEFAULTS

MEDIA = "TTS Audio"


class FakeListener:
    instances: list[FakeListener] = []

    def __init__(self, manager: Any, integration: Any) -> None:
        self.port = manager.config.listener.port
        self.url = f"ws://127.0.0.1:{self.port}/"
        self.running = False
        FakeListener.instances.append(self)

    def start(self) -> None:
        self.running = True

    def stop(self, timeout: float = 1.0) -> None:
        self.running = False


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[ObsTTSApp]:
    monkeypatch.setenv("OBS_TTS_DATA_DIR", str(tmp_path))
    FakeListener.instances.clear()
    obs, pump = FakeObs(), Pump()
    settings = {**DEFAULTS, "max_concurrent_workers": 2}
    tts = ObsTTSApp(ObsApi(obs), pump, settings, listener_factory=FakeListener, debounce_s=0.1,
                    engine=ToneEngine(20))
    tts.media_source.frontend_ready()
    frames = FakeFrames(obs, pump)
    tts.start()
    assert wait_until(lambda: tts.is_running)
    yield tts
    assert tts.shutdown()
    frames.stop()




def test_plays_messages_through_the_media_source(app: ObsTTSApp) -> None:
    assert app.manager is not None and FakeListener.instances[0].running
    for n in range(3):
        app.manager.add_message(f"message {n}")
    assert wait_until(lambda: app.manager is not None and app.manager.get_stats()["played"] == 3)
    assert "Queue: 0" in app.status_text() and "played: 3" in app.status_text()


def test_keystrokes_apply_once_when_quiet(app: ObsTTSApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tts_core.obs.script.app")
    latest = dict(app.applied)
    for size in range(100, 110):  # keystrokes, well within the debounce time
        latest = {**latest, "max_queue_size": size}
        app.settings_changed(latest)
    assert wait_until(lambda: app.manager is not None and app.manager.queue.max_size == 109)
    assert app.applied == latest  # nothing is left to apply: no second apply can come
    assert caplog.text.count("applying settings") == 1


def test_restart_settings_keep_the_pending_queue(app: ObsTTSApp) -> None:
    manager = app.manager
    assert manager is not None
    manager.pause()
    ids = [manager.add_message(f"kept {n}") for n in range(3)]
    app.settings_changed({**app.applied, "max_concurrent_workers": 1, "max_retries": 0})
    assert wait_until(lambda: manager.config.max_concurrent_workers == 1 and manager.is_running)
    assert app.manager is manager
    assert [m["message_id"] for m in manager.get_queue()] == ids


def test_a_new_port_restarts_only_the_listener(app: ObsTTSApp) -> None:
    manager = app.manager
    app.settings_changed({**app.applied, "listener_port": 9999})
    assert wait_until(lambda: len(FakeListener.instances) == 2)
    assert not FakeListener.instances[0].running and FakeListener.instances[1].running
    assert FakeListener.instances[1].port == 9999 and app.manager is manager


def test_priorities_and_voice_apply_live(app: ObsTTSApp) -> None:
    assert app.manager is not None and app.integration is not None
    app.settings_changed({**app.applied, "priority_chat": "URGENT", "voice": "en-us"})
    assert wait_until(lambda: app.integration is not None
                 and app.integration.config.priorities["chat"] == "URGENT")
    assert app.manager.config.engine.voice == "en-us"


def test_controls(app: ObsTTSApp) -> None:
    manager = app.manager
    assert manager is not None
    assert app.toggle_pause() is True and manager.paused
    manager.add_message("one")
    assert app.clear() == 1
    assert app.toggle_pause() is False
    assert app.test_voice() is not None
    # idle includes the recorded end: the played clip is kept for replay by then
    assert manager.wait_until_idle(10) and manager.get_stats()["played"] == 1
    assert app.replay() is not None


def test_shutdown_stops_every_thread_it_started(app: ObsTTSApp) -> None:
    assert app.shutdown()
    names = [t.name for t in threading.enumerate()]
    leftover = [name for name in names if name.startswith("tts-") and name != "tts-pyttsx3"]
    assert leftover == []


def test_moderation_and_voices_groups_apply_live(app: ObsTTSApp) -> None:
    assert app.manager is not None and app.integration is not None
    app.settings_changed({**app.applied, "moderation_bad_words": "scam", "voice_aliases": "brian=en-gb",
                          "approve_donations_from": 50.0})
    assert wait_until(lambda: app.integration is not None and "bad_words" in app.integration.pipeline.names())
    bot = app.integration
    said = bot.submit("tts", {"text": "brian: this is a ѕсаm"})  # noqa: RUF001 - Cyrillic look-alikes
    assert said.voice == "en-gb" and app.manager.get_message(said.message_id)["text"] == "this is a bleep"
    big = bot.submit("donation", {"donor_name": "a", "amount": 60})
    assert app.manager.get_queue()[-1]["message_id"] == big.message_id
    assert app.manager.get_queue()[-1]["hold_reason"] == "donation of 60 (approval from 50)"


def test_status_line_and_warning_say_what_is_wrong_with_the_media_source(app: ObsTTSApp) -> None:
    obs = app.api.obs
    assert obs.current_scene is not None
    assert wait_until(lambda: MEDIA in obs.sources)
    assert app.setup_warning() == ""
    obs.current_scene.items.append(FakeItem(obs.sources[MEDIA]))  # the streamer adds it to the live scene
    assert wait_until(lambda: "hid it there" in app.setup_warning())
    assert app.setup_warning().startswith("The script changed your setup:")
    obs.rename(MEDIA, "Voice")
    assert app.manager is not None
    app.manager.add_message("this one waits")
    waiting = "WAITING FOR OBS: media source 'TTS Audio' was renamed to 'Voice'"
    assert wait_until(lambda: waiting in app.status_text())
    stats = app.manager.get_stats()
    assert stats["pending"] == 1 and stats["failed"] == 0
    app.sink.failures_in_a_row, app.sink.last_failure = 2, "media source 'X' did not start the clip"
    assert "2 clip(s) in a row failed: media source 'X' did not start the clip" in app.status_text()
