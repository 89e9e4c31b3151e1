"""The lifecycle pieces of tts_core.runtime, each alone (no queue, no threads), and
EventBus.flush."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tts_core.domain.audio import Clip, silent_wav
from tts_core.domain.events import Event
from tts_core.domain.message import MessagePriority, TTSMessage
from tts_core.runtime.bus import EventBus
from tts_core.runtime.journal import Journal
from tts_core.runtime.lifecycle import Lifecycle, LifecyclePiece, Outcome
from tts_core.runtime.publishing import EventPublishing
from tts_core.runtime.retention import ClipRetention
from tts_core.runtime.statistics import Statistics, percentile
from tts_core.storage.clip_files import ClipFiles
from tts_core.storage.journal_store import MessageStore


def _msg(text: str = "hello", seq: int = 1) -> TTSMessage:
    return TTSMessage(text=text, priority=MessagePriority.NORMAL, seq=seq)


class RecordingBus(EventBus):
    """Keeps what is published instead of delivering it."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[Event] = []

    def publish(self, event: Event) -> None:
        self.published.append(event)


# -- statistics -------------------------------------------------------------------------

def test_percentile_is_the_nearest_rank_and_refuses_no_values():
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert [percentile(values, p) for p in (0, 50, 95, 100)] == [1.0, 3.0, 5.0, 5.0]
    with pytest.raises(ValueError):
        percentile([], 50)


def test_statistics_reports_latency_percentiles_of_started_messages():
    stats = Statistics(window=3)
    assert stats.latency_ms() == {"p50": None, "p95": None, "p99": None}
    for latency in (900.0, 10.0, 20.04, 30.0):  # the window keeps the last three
        stats.started(_msg(), latency)
    assert stats.latency_ms() == {"p50": 20.0, "p95": 30.0, "p99": 30.0}


# -- publishing -------------------------------------------------------------------------

def test_publishing_turns_every_step_into_its_event():
    bus = RecordingBus()
    publishing = EventPublishing(bus)
    msg = _msg()
    msg.clip = Clip.from_bytes(silent_wav(120))
    publishing.accepted(msg, held=False)
    publishing.started(msg, 12.34)
    for outcome in Outcome:
        publishing.ended(msg, outcome, reason="x")
    publishing.dropped(msg, "cleared")
    publishing.rejected_on_arrival(msg, reason="disabled", error="TTS is disabled")
    names = [e["event"] for e in bus.published]
    assert names == ["queued", "playback_started", "playback_finished", "skipped", "failed", "rejected",
                     "dropped", "rejected"]
    assert bus.published[0]["held"] is False
    assert bus.published[1]["latency_ms"] == 12.3 and bus.published[1]["duration_ms"] == 120
    assert bus.published[6]["reason"] == "cleared" and bus.published[7]["error"] == "TTS is disabled"
    assert {e["message_id"] for e in bus.published} == {msg.id}


# -- the lifecycle ------------------------------------------------------------------------

def test_lifecycle_calls_every_piece_in_order():
    calls: list[tuple[str, str]] = []

    class Recorder(LifecyclePiece):
        def __init__(self, name: str) -> None:
            self.name = name

        def started(self, msg: TTSMessage, latency_ms: float) -> None:
            calls.append((self.name, "started"))

        def ended(self, msg: TTSMessage, outcome: Outcome, **details: Any) -> None:
            calls.append((self.name, outcome.name))

    lifecycle = Lifecycle([Recorder("journal"), LifecyclePiece(), Recorder("publishing")])
    msg = _msg()
    lifecycle.accepted(msg)  # a hook nobody overrides does nothing
    lifecycle.started(msg, 1.0)
    lifecycle.ended(msg, Outcome.SKIPPED)
    assert calls == [("journal", "started"), ("publishing", "started"), ("journal", "SKIPPED"),
                     ("publishing", "SKIPPED")]


# -- clip retention ---------------------------------------------------------------------

def _with_clip(clips: ClipFiles, text: str, seq: int) -> TTSMessage:
    msg = _msg(text, seq)
    msg.clip = clips.write(msg.id, Clip.from_bytes(silent_wav(10)))
    return msg


def test_retention_keeps_the_last_played_clips_and_deletes_the_rest(tmp_path: Path):
    clips = ClipFiles(tmp_path)
    retention = ClipRetention(keep=2)
    retention.attach(clips)
    played = [_with_clip(clips, f"played {i}", i) for i in range(3)]
    failed, dropped = _with_clip(clips, "failed", 10), _with_clip(clips, "dropped", 11)
    for msg in played:
        retention.ended(msg, Outcome.PLAYED)
    retention.ended(failed, Outcome.FAILED)
    retention.dropped(dropped, "cleared")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{m.id}.wav" for m in played[1:])
    assert retention.for_replay() is played[2] and retention.for_replay(played[0].id) is None

    retention.apply_settings(keep=1)
    replay = _msg("replay", 20)
    replay.clip = played[2].clip  # a replay shares the original's clip
    retention.ended(replay, Outcome.SKIPPED)
    assert [p.name for p in tmp_path.iterdir()] == [f"{played[2].id}.wav"], "the shared clip stays"
    retention.detach()
    assert retention.for_replay() is None


# -- the journal ------------------------------------------------------------------------

def test_journal_holds_a_message_from_admission_to_its_end(tmp_path: Path):
    journal = Journal()
    assert journal.open(tmp_path / "journal.sqlite3", []) == ([], 1)
    kept, refused = _msg("kept", 1), _msg("refused", 2)
    assert journal.admit(kept, lambda m: "queued") == "queued"

    def full(msg: TTSMessage) -> None:
        raise RuntimeError("queue is full")

    with pytest.raises(RuntimeError):
        journal.admit(refused, full)
    journal.started(kept, 5.0)
    journal.close()

    store = MessageStore(tmp_path / "journal.sqlite3")
    recovered = store.recover()
    assert [m.id for m in recovered] == [kept.id], "the refused message left the journal"
    assert recovered[0].metadata == {"recovered_playing": True}
    store.close()

    journal = Journal()
    again, next_seq = journal.open(tmp_path / "journal.sqlite3", [])
    assert [m.id for m in again] == [kept.id] and next_seq == 2
    journal.ended(again[0], Outcome.PLAYED)
    journal.close()
    store = MessageStore(tmp_path / "journal.sqlite3")
    assert store.recover() == []
    store.close()


# -- EventBus.flush -----------------------------------------------------------------------


