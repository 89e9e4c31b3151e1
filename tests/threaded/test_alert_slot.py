"""The alert slot: a message's alert sound, then its speech, back to back on the player
thread; nothing (not even URGENT) between them; skip, alert-only, a file gone at play
time, replay, a message recovered from the journal; one event pair and one count each."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from doubles import EventLog, ToneEngine, assert_accounting, wait_until

from tts_core import StreamerBotIntegration, TTSConfig
from tts_core.domain.audio import Clip, silent_wav
from tts_core.domain.message import MessagePriority, TTSMessage
from tts_core.sinks.base import Sink, SinkUnavailable

ALERT_MS = 300


@dataclass
class Part:
    message_id: str
    kind: str  # "alert" or "speech"
    start: float
    end: float
    skipped: bool


@dataclass
class SlotSink(Sink):
    """Holds each clip for its duration and records whether it was an alert or the speech."""

    name: str = "slots"
    parts: list[Part] = field(default_factory=list)
    alert_started: threading.Event = field(default_factory=threading.Event)
    concurrent: int = 0
    max_concurrent: int = 0

    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None:
        kind = "speech" if clip is message.clip else "alert"
        self.concurrent += 1
        self.max_concurrent = max(self.max_concurrent, self.concurrent)
        start = time.monotonic()
        if kind == "alert":
            self.alert_started.set()
        deadline = start + clip.duration_ms / 1000
        while not stop.is_set() and time.monotonic() < deadline:
            stop.wait(max(0.0, deadline - time.monotonic()))
        self.concurrent -= 1
        self.parts.append(Part(message.id, kind, start, time.monotonic(), stop.is_set()))

    def order(self) -> list[tuple[str, str]]:
        return [(p.message_id, p.kind) for p in self.parts]


def alert_file(tmp_path: Path, name: str = "alert.wav") -> Path:
    path = tmp_path / name
    path.write_bytes(silent_wav(ALERT_MS, sample_rate=8000))
    return path


def donation_alert(sound: Path) -> dict:
    return {"donation": [{"min_amount": 0, "file": str(sound)}]}


def running(make_manager, tmp_path, alerts, engine_ms=400, **queue):
    config = TTSConfig.from_dict({"tts_queue": {"rate_limit_per_minute": 0, **queue}, "alerts": alerts})
    sink = SlotSink()
    manager = make_manager(config, engine=ToneEngine(engine_ms), sink=sink)
    integration = StreamerBotIntegration(manager)
    log = EventLog()
    manager.subscribe(log)
    manager.start()
    return manager, integration, sink, log


def test_alert_then_speech_one_message_one_event_pair(make_manager, tmp_path):
    sound = alert_file(tmp_path)
    manager, bot, sink, log = running(make_manager, tmp_path, donation_alert(sound))
    msg_id = bot.process_donation("Alice", 5.0, "hi")
    assert manager.wait_until_idle(20)
    manager.events.flush()
    assert sink.order() == [(msg_id, "alert"), (msg_id, "speech")]
    alert, speech = sink.parts
    assert speech.start - alert.end < 0.05  # back to back on the player thread
    assert [e["event"] for e in log.events if e["message_id"] == msg_id] == \
        ["queued", "playback_started", "playback_finished"]
    started, finished = log.named("playback_started")[0], log.named("playback_finished")[0]
    assert (started["duration_ms"], started["alert_ms"]) == (ALERT_MS + 400, ALERT_MS)  # the whole slot
    assert finished["duration_ms"] >= ALERT_MS + 400 - 20  # the alert's time is in the slot
    stats = assert_accounting(manager)
    assert stats["played"] == 1 and stats["engine_calls"] == 1


def test_urgent_arriving_during_the_alert_plays_after_the_speech(make_manager, tmp_path):
    sound = alert_file(tmp_path)
    manager, bot, sink, _ = running(make_manager, tmp_path, donation_alert(sound))
    donation = bot.process_donation("Alice", 5.0, "hi")
    assert sink.alert_started.wait(20)
    urgent = manager.add_message("urgent news", MessagePriority.URGENT)
    normal = manager.add_message("later", MessagePriority.LOW)
    assert manager.wait_until_idle(20)
    assert sink.order() == [(donation, "alert"), (donation, "speech"), (urgent, "speech"), (normal, "speech")]
    assert sink.max_concurrent == 1


def test_skip_during_the_alert_skips_the_whole_message(make_manager, tmp_path):
    sound = alert_file(tmp_path)
    manager, bot, sink, log = running(make_manager, tmp_path, donation_alert(sound))
    donation = bot.process_donation("Alice", 5.0, "hi")
    after = manager.add_message("next one")
    assert sink.alert_started.wait(20)
    assert manager.skip() == donation
    assert manager.wait_until_idle(20)
    manager.events.flush()
    assert sink.order() == [(donation, "alert"), (after, "speech")]
    assert sink.parts[0].skipped
    assert [e["event"] for e in log.events if e["message_id"] == donation] == \
        ["queued", "playback_started", "skipped"]
    stats = assert_accounting(manager)
    assert stats["played"] == 2


def test_an_alert_only_follow_plays_the_sound_alone(make_manager, tmp_path):
    sound = alert_file(tmp_path)
    manager, bot, sink, log = running(make_manager, tmp_path,
                                      {"follow": {"file": str(sound), "alert_only": True}})
    engine = manager.engine
    follow = bot.process_follow("Bob")
    assert manager.wait_until_idle(20)
    manager.events.flush()
    assert sink.order() == [(follow, "alert")]
    assert engine.calls == []  # nothing was synthesized
    assert log.named("playback_started")[0]["text"] == ""
    assert assert_accounting(manager)["played"] == 1


def test_an_empty_template_with_an_alert_plays_the_sound_alone(make_manager, tmp_path):
    sound = alert_file(tmp_path)
    config = TTSConfig.from_dict({"tts_queue": {"rate_limit_per_minute": 0},
                                  "streamer_bot": {"templates": {"follow": ""}},
                                  "alerts": {"follow": {"file": str(sound)}}})
    sink = SlotSink()
    manager = make_manager(config, engine=ToneEngine(400), sink=sink)
    bot = StreamerBotIntegration(manager)
    manager.start()
    follow = bot.process_follow("Bob")
    assert manager.wait_until_idle(20)
    assert sink.order() == [(follow, "alert")]


def test_a_file_gone_at_play_time_the_message_is_still_spoken(make_manager, tmp_path, caplog):
    sound = alert_file(tmp_path)
    manager, bot, sink, _ = running(make_manager, tmp_path, donation_alert(sound))
    manager.pause()
    first = bot.process_donation("Alice", 5.0, "one")
    second = bot.process_donation("Carol", 6.0, "two")
    sound.unlink()
    manager.resume()
    assert manager.wait_until_idle(20)
    assert sink.order() == [(first, "speech"), (second, "speech")]
    warnings = [r for r in caplog.records if "cannot play" in r.getMessage()]
    assert len(warnings) == 1 and str(sound) in warnings[0].getMessage()
    assert assert_accounting(manager)["played"] == 2


def test_replay_plays_the_alert_again(make_manager, tmp_path):
    sound = alert_file(tmp_path)
    manager, bot, sink, _ = running(make_manager, tmp_path, donation_alert(sound))
    donation = bot.process_donation("Alice", 5.0, "hi")
    assert manager.wait_until_idle(20)
    again = manager.replay(donation)
    assert manager.wait_until_idle(20)
    assert sink.order() == [(donation, "alert"), (donation, "speech"), (again, "alert"), (again, "speech")]


def test_a_message_recovered_from_the_journal_keeps_its_alert(make_manager, tmp_path):
    sound = alert_file(tmp_path)
    alerts = {"donation": [{"min_amount": 0, "file": str(sound)}]}
    config = TTSConfig.from_dict({"tts_queue": {"persist": True, "data_dir": str(tmp_path / "data"),
                                                "rate_limit_per_minute": 0}, "alerts": alerts})
    first = make_manager(config, engine=ToneEngine(400), sink=SlotSink())
    bot = StreamerBotIntegration(first)
    first.pause()
    first.start()
    donation = bot.process_donation("Alice", 5.0, "hi")
    first.stop()
    # The next run has no alerts configured any more: the message keeps the one it was given.
    later = TTSConfig.from_dict({"tts_queue": {"persist": True, "data_dir": str(tmp_path / "data"),
                                               "rate_limit_per_minute": 0}})
    sink = SlotSink()
    second = make_manager(later, engine=ToneEngine(400), sink=sink)
    second.start()
    assert wait_until(lambda: len(sink.parts) == 2)
    assert sink.order() == [(donation, "alert"), (donation, "speech")]


def test_the_sink_hears_that_the_speech_follows_the_alert(make_manager, tmp_path):
    """What the OBS sink asks at the alert's end (no gap while the speech is handed over)."""
    sound = alert_file(tmp_path)
    manager, bot, sink, _ = running(make_manager, tmp_path, donation_alert(sound))
    manager.pause()
    bot.process_donation("Alice", 5.0, "hi")
    assert wait_until(lambda: manager.get_queue(1) and manager.get_queue(1)[0]["state"] == "ready")
    assert not manager.alert_playing
    manager.resume()
    assert sink.alert_started.wait(20)
    assert manager.alert_playing
    assert manager.wait_until_idle(20)
    assert not manager.alert_playing


def test_stop_during_the_alert_plays_the_whole_message_again_at_the_next_start(make_manager, tmp_path):
    sound = alert_file(tmp_path)
    manager, bot, sink, _ = running(make_manager, tmp_path, donation_alert(sound))
    donation = bot.process_donation("Alice", 5.0, "hi")
    assert sink.alert_started.wait(20)
    manager.stop()
    assert sink.order() == [(donation, "alert")]  # cut by the stop
    manager.start()
    assert manager.wait_until_idle(20)
    assert sink.order() == [(donation, "alert"), (donation, "alert"), (donation, "speech")]
    assert assert_accounting(manager)["played"] == 1


@dataclass
class LosingSink(SlotSink):
    """Goes away (SinkUnavailable) once, during the first alert: OBS closed mid-sound."""

    lost: bool = False

    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None:
        if clip is not message.clip and not self.lost:
            self.lost = True
            self.parts.append(Part(message.id, "alert", time.monotonic(), time.monotonic(), False))
            raise SinkUnavailable("OBS is not running")
        super().play(clip, message, stop)


def test_the_sink_going_away_during_the_alert_replays_alert_and_speech(make_manager, tmp_path):
    sound = alert_file(tmp_path)
    config = TTSConfig.from_dict({"tts_queue": {"rate_limit_per_minute": 0}, "alerts": donation_alert(sound)})
    sink = LosingSink()
    manager = make_manager(config, engine=ToneEngine(300), sink=sink)
    bot = StreamerBotIntegration(manager)
    manager.start()
    donation = bot.process_donation("Alice", 5.0, "hi")
    assert manager.wait_until_idle(20)
    assert sink.order() == [(donation, "alert"), (donation, "alert"), (donation, "speech")]
    stats = assert_accounting(manager)
    assert (stats["played"], stats["failed"]) == (1, 0)
