"""The player is away (OBS closed, obs-websocket down): messages wait, none fails."""

from __future__ import annotations

import threading

from doubles import EventLog, RecordingSink, ToneEngine, assert_accounting, wait_until

from tts_core import TTSConfig
from tts_core.sinks.base import SinkUnavailable


class FlakySink(RecordingSink):
    """A sink that can be switched away; ``drop_mid_clip`` makes the next play() raise
    SinkUnavailable half-way through the clip, like OBS killed while a clip plays."""

    label = "OBS"

    def __init__(self, probe: bool) -> None:
        super().__init__(name="fake-obs")
        self.away = threading.Event()
        self.drop_mid_clip = threading.Event()
        self.cut: list[str] = []
        self.looks_while_away = 0  # how often the player asked (or tried) while away
        if probe:
            self.unavailable_reason = self._reason

    def _reason(self) -> str | None:
        if not self.away.is_set():
            return None
        self.looks_while_away += 1
        return "OBS is not running"

    def play(self, clip, message, stop):  # type: ignore[no-untyped-def]
        if self.away.is_set():
            self.looks_while_away += 1
            raise SinkUnavailable("lost the connection to OBS")
        if self.drop_mid_clip.is_set():
            self.drop_mid_clip.clear()
            stop.wait(clip.duration_ms / 2000)
            self.cut.append(message.id)
            self.away.set()
            raise SinkUnavailable("lost the connection to OBS")
        super().play(clip, message, stop)




def _run(make_manager, probe: bool) -> None:
    sink, log = FlakySink(probe), EventLog()
    manager = make_manager(TTSConfig(rate_limit_per_minute=0), engine=ToneEngine(200), sink=sink)
    manager.subscribe(log)
    manager.start()
    sink.drop_mid_clip.set()
    ids = [manager.add_message(f"message {i}") for i in range(8)]
    assert wait_until(lambda: manager.get_stats()["player_state"] == "waiting for OBS")
    stats = assert_accounting(manager)
    assert stats["failed"] == 0 and stats["played"] == 0 and stats["pending"] == 8
    assert stats["waiting_for_sink"]
    assert sink.cut == [ids[0]]
    looks = sink.looks_while_away
    assert wait_until(lambda: sink.looks_while_away > looks)  # the player looked again: still away
    assert assert_accounting(manager)["failed"] == 0 and sink.ids() == []
    sink.away.clear()
    assert manager.wait_until_idle(20)
    assert sink.ids() == ids, "playback resumes in order, the cut clip first"
    stats = assert_accounting(manager)
    assert stats["failed"] == 0 and stats["played"] == 8
    assert stats["player_state"] == "idle" and stats["waiting_for_sink"] is None
    assert not log.named("failed")


def test_sink_with_probe_away_mid_clip_then_back(make_manager):
    _run(make_manager, probe=True)


def test_sink_without_probe_away_mid_clip_then_back(make_manager):
    _run(make_manager, probe=False)


def test_stop_while_waiting_for_the_sink_keeps_the_message_pending(make_manager):
    sink = FlakySink(probe=False)
    sink.away.set()
    manager = make_manager(TTSConfig(rate_limit_per_minute=0), engine=ToneEngine(50), sink=sink)
    manager.start()
    manager.add_message("waits")
    assert wait_until(lambda: manager.get_stats()["player_state"] == "waiting for OBS")
    manager.stop()
    stats = assert_accounting(manager)
    assert stats["failed"] == 0 and stats["pending"] == 1
