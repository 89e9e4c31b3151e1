"""The gapless hand-over: near a clip's end the player cues the next message to a sink
that ``cues_next``; the sink starts it the moment the clip ends, and the player records
that end before the next start. Events stay in order, Skip never cuts the next message,
a pause, Clear, Remove or an URGENT message in the last moments withdraws the cue, and
the accounting adds up at every step.

``StepSink`` plays each clip in two steps the test lets go: up to "near the end" (where
it asks ``next_up``, as the OBS sinks do), then to "the end" (where it starts the cued
clip if it may, as the OBS sinks do on the frame that sees the end).
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from typing import Any

from doubles import EventLog, ToneEngine, assert_accounting, wait_until

from tts_core import TTSConfig
from tts_core.domain.audio import Clip
from tts_core.domain.message import MessagePriority, TTSMessage
from tts_core.sinks.base import Cue, Sink

WAIT_SECONDS = 10.0  # only ever waited this long when a test fails


class StepSink(Sink):
    name = "steps"
    cues_next = True

    def __init__(self) -> None:
        self.started: list[str] = []  # texts, in the order the sink started their clips
        self.cut: list[str] = []  # texts whose clip a stop cut
        self._cued: Cue | None = None
        self._cond = threading.Condition()
        self._at: tuple[str, str] | None = None
        self._go = 0

    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None:
        cued, self._cued = self._cued, None
        adopted = cued is not None and not cued.decision.withdraw() and cued.message is message
        if not adopted:
            self.started.append(message.text)
        self._hold("near the end", message.text, stop)
        if not stop.is_set() and self.next_up is not None:
            self._cued = self.next_up()
            self._hold("the end", message.text, stop)
        if stop.is_set():
            self.cut.append(message.text)
        cue = self._cued
        if cue is not None and cue.clip is not None and not cue.stop.is_set() and cue.decision.claim():
            self.started.append(cue.message.text)  # on the "frame" that sees this clip end

    def _hold(self, where: str, text: str, stop: threading.Event) -> None:
        with self._cond:
            self._at = (where, text)
            self._cond.notify_all()
            deadline = time.monotonic() + WAIT_SECONDS
            while not (self._go > 0 or stop.is_set()) and time.monotonic() < deadline:
                self._cond.wait(0.01)  # a stop (skip) is an Event: looked at often
            if self._go > 0 and not stop.is_set():
                self._go -= 1
            self._at = None

    def wait_at(self, where: str, text: str) -> None:
        with self._cond:
            assert self._cond.wait_for(lambda: self._at == (where, text), WAIT_SECONDS), \
                f"the sink is not at {where} of {text!r} (at {self._at})"

    def go(self) -> None:
        with self._cond:
            self._go += 1
            self._cond.notify_all()

    def reach_end(self, text: str) -> None:
        """Let ``text``'s clip reach its last moments (the next one is cued then, if ready)."""
        self.wait_at("near the end", text)
        self.go()
        self.wait_at("the end", text)

    def play_through(self, text: str) -> None:
        """Let ``text``'s clip reach its end."""
        self.wait_at("near the end", text)
        self.go()
        self.wait_at("the end", text)
        self.go()


def running(make_manager: Any, *texts: str) -> tuple[Any, StepSink, EventLog, list[str]]:
    sink = StepSink()
    manager = make_manager(TTSConfig(rate_limit_per_minute=0, pause_between_clips_ms=0),
                           engine=ToneEngine(5), sink=sink)
    log = EventLog()
    manager.subscribe(log)
    manager.pause()  # every clip is synthesized before the first one plays
    manager.start()
    ids = [manager.add_message(text, MessagePriority.NORMAL) for text in texts]
    assert wait_until(lambda: all(q["state"] == "ready" for q in manager.get_queue(10)), WAIT_SECONDS)
    manager.resume()
    return manager, sink, log, ids


def order(log: EventLog, manager: Any) -> list[tuple[str, str]]:
    return [(e["event"], e["text"]) for e in log.events
            if e["event"] in ("playback_started", "playback_finished", "skipped", "dropped")]


def test_the_next_clip_starts_at_the_end_and_its_start_is_recorded_after_that_end(make_manager) -> None:
    manager, sink, log, ids = running(make_manager, "one", "two", "three")
    sink.reach_end("one")  # "two" is cued now
    stats = assert_accounting(manager)
    assert stats["in_flight"] == 2 and stats["pending"] == 1
    assert [q["text"] for q in manager.get_queue(10)] == ["three"]
    assert [e for e in order(log, manager) if e[1] != "one"] == []  # nothing of "two" is said yet
    sink.go()
    sink.play_through("two")
    sink.play_through("three")
    log.wait_for("playback_finished", ids[2])
    assert sink.started == ["one", "two", "three"]
    assert order(log, manager) == [("playback_started", "one"), ("playback_finished", "one"),
                                   ("playback_started", "two"), ("playback_finished", "two"),
                                   ("playback_started", "three"), ("playback_finished", "three")]
    assert wait_until(lambda: manager.get_stats()["in_flight"] == 0, WAIT_SECONDS)
    stats = assert_accounting(manager)
    assert stats["played"] == 3 and stats["pending"] == 0 and stats["skipped"] == 0


def test_a_skip_in_the_last_moments_cuts_only_the_clip_playing(make_manager) -> None:
    manager, sink, log, ids = running(make_manager, "one", "two")
    sink.reach_end("one")  # "two" is cued: the sink starts it when "one" ends
    assert manager.skip() == ids[0]
    sink.play_through("two")  # "two" plays to its end: the skip did not reach it
    log.wait_for("playback_finished", ids[1])
    assert sink.started == ["one", "two"] and sink.cut == ["one"]
    finished = {e["message_id"]: e for e in log.named("playback_finished")}
    assert [e["message_id"] for e in log.named("skipped")] == [ids[0]]
    assert finished[ids[1]].get("skipped") in (None, False)
    assert wait_until(lambda: manager.get_stats()["in_flight"] == 0, WAIT_SECONDS)
    stats = assert_accounting(manager)
    assert stats["played"] == 2 and stats["skipped"] == 1


def test_a_skip_after_the_cued_clip_started_cuts_that_one(make_manager) -> None:
    manager, sink, log, ids = running(make_manager, "one", "two", "three")
    sink.reach_end("one")
    sink.go()
    sink.wait_at("near the end", "two")  # "two" plays now
    assert manager.skip() == ids[1]
    sink.play_through("three")
    log.wait_for("playback_finished", ids[2])
    assert sink.cut == ["two"] and [e["message_id"] for e in log.named("skipped")] == [ids[1]]


def test_pause_in_the_last_moments_withdraws_the_cue(make_manager) -> None:
    manager, sink, log, ids = running(make_manager, "one", "two")
    sink.reach_end("one")
    manager.pause()
    assert [q["text"] for q in manager.get_queue(10)] == ["two"]  # back in line, first
    sink.go()
    log.wait_for("playback_finished", ids[0])
    assert wait_until(lambda: manager.get_stats()["in_flight"] == 0, WAIT_SECONDS)
    assert sink.started == ["one"] and not log.named("playback_started")[1:]
    stats = assert_accounting(manager)
    assert stats["pending"] == 1 and stats["played"] == 1
    manager.resume()
    sink.play_through("two")
    log.wait_for("playback_finished", ids[1])
    assert sink.started == ["one", "two"]


def test_an_urgent_message_in_the_last_moments_plays_before_the_cued_one(make_manager) -> None:
    manager, sink, log, ids = running(make_manager, "one", "two")
    sink.reach_end("one")
    urgent = manager.add_message("urgent", MessagePriority.URGENT)
    sink.go()
    sink.play_through("urgent")
    sink.play_through("two")
    log.wait_for("playback_finished", ids[1])
    assert sink.started == ["one", "urgent", "two"]
    assert [e["message_id"] for e in log.named("playback_started")] == [ids[0], urgent, ids[1]]


def test_remove_in_the_last_moments_drops_the_cued_message(make_manager) -> None:
    manager, sink, log, ids = running(make_manager, "one", "two", "three")
    sink.reach_end("one")  # "two" is cued
    assert manager.remove(ids[1])
    sink.go()
    sink.play_through("three")
    log.wait_for("playback_finished", ids[2])
    assert sink.started == ["one", "three"]
    assert [e["message_id"] for e in log.named("dropped")] == [ids[1]]
    assert wait_until(lambda: manager.get_stats()["in_flight"] == 0, WAIT_SECONDS)
    stats = assert_accounting(manager)
    assert stats["played"] == 2 and stats["dropped"] == 1


def test_clear_in_the_last_moments_drops_the_cued_message_too(make_manager) -> None:
    manager, sink, log, ids = running(make_manager, "one", "two", "three")
    sink.reach_end("one")  # "two" is cued
    assert manager.clear() == 2
    sink.go()
    log.wait_for("playback_finished", ids[0])
    assert wait_until(lambda: manager.get_stats()["in_flight"] == 0, WAIT_SECONDS)
    assert sink.started == ["one"]
    assert sorted(e["message_id"] for e in log.named("dropped")) == sorted(ids[1:])
    stats = assert_accounting(manager)
    assert stats["played"] == 1 and stats["dropped"] == 2 and stats["pending"] == 0


def test_the_remote_sink_sets_the_next_clip_before_the_end_is_recorded(make_manager, tmp_path) -> None:
    from test_obs_remote import MEDIA, FakeObs  # the loopback obs-websocket server

    from tts_core.obs.remote.sink import RemoteObsSink

    fake = FakeObs(clip_s=0.4)  # each clip "plays" 0.4 s: the next is cued 0.25 s before its end
    posted: dict[str, float] = {}  # message id -> when OBS got its SetInputSettings (wall clock)
    answer = fake.handle

    def handle(ws: Any, kind: str, data: dict[str, Any]) -> Any:
        if kind == "SetInputSettings" and data.get("inputName") == MEDIA:
            posted.setdefault(Path(data["inputSettings"]["local_file"]).stem, time.time())
        return answer(ws, kind, data)

    fake.handle = handle  # type: ignore[method-assign]
    sink = RemoteObsSink.from_options(port=fake.port, media_source=MEDIA, timeout=2.0)
    try:
        manager = make_manager(TTSConfig(rate_limit_per_minute=0, pause_between_clips_ms=0),
                               engine=ToneEngine(400), sink=sink)
        log = EventLog()
        manager.subscribe(log)
        manager.pause()
        manager.start()
        ids = [manager.add_message(f"message {i}", MessagePriority.NORMAL) for i in range(3)]
        assert wait_until(lambda: all(q["state"] == "ready" for q in manager.get_queue(10)), WAIT_SECONDS)
        manager.resume()
        assert manager.wait_until_idle(30)
        log.wait_for("playback_finished", ids[-1])  # delivered by the event thread
        finished = {e["message_id"]: e["ts"] for e in log.named("playback_finished")}
        for before, after in itertools.pairwise(ids):
            assert posted[after] <= finished[before]  # set in OBS before the player recorded the end
        assert [(e["event"], e["message_id"]) for e in log.events if e["event"].startswith("playback")] == \
            [(kind, i) for i in ids for kind in ("playback_started", "playback_finished")]
        stats = assert_accounting(manager)
        assert stats["played"] == 3 and stats["failed"] == 0 and stats["in_flight"] == 0
    finally:
        sink.close()
        fake.stop_server()
