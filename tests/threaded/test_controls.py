"""Pause, resume, skip, clear, replay, enable/disable, hold and moderator approval."""

from __future__ import annotations

import time

import pytest
from doubles import EventLog, RecordingSink, ToneEngine, assert_accounting, wait_until

from tts_core import TTSConfig


@pytest.fixture
def setup(make_manager):
    def build(duration_ms: int = 50, **config):
        log, sink = EventLog(), RecordingSink()
        manager = make_manager(
            TTSConfig(rate_limit_per_minute=0, **config), engine=ToneEngine(duration_ms), sink=sink
        )
        manager.subscribe(log)
        manager.start()
        return manager, log, sink

    return build


def test_pause_lets_the_current_clip_finish_and_starts_nothing_new(setup):
    manager, log, sink = setup(300)
    first = manager.add_message("first")
    second = manager.add_message("second")
    log.wait_for("playback_started", first)
    manager.pause()
    finished = log.wait_for("playback_finished", first)
    assert finished["duration_ms"] >= 250, "pause must not cut the current clip"
    third = manager.add_message("accepted while paused")
    # Paused with the next two clips ready: the player sees them and starts neither.
    assert wait_until(lambda: manager.get_stats()["player_state"] == "paused"
                      and all(manager.get_message(m)["state"] == "ready" for m in (second, third)))
    assert sink.ids() == [first]
    assert manager.get_stats()["paused"] is True
    manager.resume()
    assert manager.wait_until_idle(10)
    assert sink.ids() == [first, second, third]
    assert_accounting(manager)


def test_skip_cuts_only_the_current_clip(setup):
    manager, log, _sink = setup(2000)
    long_one = manager.add_message("a very long donation message")
    nxt = manager.add_message("next")
    log.wait_for("playback_started", long_one)
    assert manager.skip() == long_one
    skipped = log.wait_for("skipped", long_one)
    assert skipped["duration_ms"] < 1000
    log.wait_for("playback_started", nxt, timeout=3)
    assert manager.skip() == nxt
    assert manager.wait_until_idle(5)
    assert manager.skip() is None  # nothing playing: a no-op
    stats = assert_accounting(manager)
    assert stats["skipped"] == 2 and stats["played"] == 2


def test_clear_drops_pending_messages_but_not_the_playing_one(setup):
    manager, log, sink = setup(400)
    playing = manager.add_message("playing")
    log.wait_for("playback_started", playing)
    pending = [manager.add_message(f"pending {i}") for i in range(5)]
    assert manager.clear() == 5
    for msg_id in pending:
        log.wait_for("dropped", msg_id)
    assert {e["message_id"] for e in log.named("dropped")} == set(pending)
    assert all(e["reason"] == "cleared" for e in log.named("dropped"))
    assert manager.wait_until_idle(5)
    assert sink.ids() == [playing]
    stats = assert_accounting(manager)
    assert stats["dropped"] == 5


def test_replay_plays_the_last_clip_again_next(setup):
    manager, _log, sink = setup(30)
    with pytest.raises(LookupError, match="nothing to replay"):
        manager.replay()
    first = manager.add_message("thanks for the sub")
    assert manager.wait_until_idle(5)
    again = manager.replay()
    assert again != first
    assert manager.wait_until_idle(5)
    assert [p.text for p in sink.played] == ["thanks for the sub", "thanks for the sub"]
    assert manager.replay(first)  # by id, while its clip is kept
    assert manager.wait_until_idle(5)
    assert len(sink.played) == 3
    assert_accounting(manager)


def test_replay_keeps_only_the_last_few_clips(setup):
    manager, _, _ = setup(1, replay_keep=2)
    ids = [manager.add_message(f"m{i}") for i in range(4)]
    assert manager.wait_until_idle(5)
    with pytest.raises(LookupError):
        manager.replay(ids[0])
    assert manager.replay(ids[3])


def test_disable_rejects_new_messages_until_enabled(setup):
    manager, log, sink = setup(1)
    manager.disable()
    refused = manager.add_message("while disabled")
    assert log.wait_for("rejected", refused)["reason"] == "disabled"
    manager.enable()
    ok = manager.add_message("enabled again")
    assert manager.wait_until_idle(5)
    assert sink.ids() == [ok]
    assert assert_accounting(manager)["rejected"] == 1


def test_hold_gives_moderators_time_to_remove_a_message(setup):
    manager, _log, sink = setup(1)
    added = time.monotonic()
    held = manager.add_message("bad words", hold_seconds=0.5)
    kept = manager.add_message("fine words", hold_seconds=0.5)
    assert manager.get_stats()["held"] == 2
    assert manager.remove(held)
    assert manager.wait_until_idle(5)
    assert sink.ids() == [kept]
    assert sink.played[0].start - added >= 0.5, "a held message waits out its hold time"
    assert_accounting(manager)


def test_messages_needing_approval_wait_for_a_moderator(setup):
    manager, log, sink = setup(1)
    a = manager.add_message("approve me", needs_approval=True)
    r = manager.add_message("reject me", needs_approval=True)
    assert manager.get_stats()["held"] == 2, "nothing needing approval is even synthesized"
    assert sink.ids() == []
    assert manager.approve(a) and manager.reject(r)
    assert not manager.approve("no-such-id")
    assert manager.wait_until_idle(5)
    assert sink.ids() == [a]
    assert log.wait_for("rejected", r)["reason"] == "moderator"
    assert_accounting(manager)


def test_stop_keeps_pending_messages_and_restart_plays_them(make_manager):
    sink, log = RecordingSink(), EventLog()
    manager = make_manager(TTSConfig(rate_limit_per_minute=0), engine=ToneEngine(300), sink=sink)
    manager.subscribe(log)
    manager.start()
    ids = [manager.add_message(f"m{i}") for i in range(3)]
    log.wait_for("playback_started", ids[0])
    t = time.monotonic()
    manager.stop()
    assert time.monotonic() - t < 2.0
    assert manager.get_stats()["pending"] == 3, "the interrupted clip is pending again"
    manager.start()
    assert manager.wait_until_idle(5)
    assert sink.ids()[-3:] == ids
    assert_accounting(manager)


def test_dropping_a_replay_keeps_the_original_clip_for_the_next_replay(setup):
    manager, log, _ = setup(30)
    first = manager.add_message("thanks for the raid")
    assert manager.wait_until_idle(5)
    manager.pause()
    manager.replay(first)
    assert manager.clear() == 1  # the replay is dropped before it plays
    manager.resume()
    again = manager.replay(first)
    assert manager.wait_until_idle(5)
    assert log.wait_for("playback_finished", again)
    kept = manager.retention.for_replay(first)
    assert kept is not None and kept.clip.path.exists(), "the kept clip file must survive"


def test_messages_added_before_start_are_journaled_too(make_manager, tmp_path):
    config = TTSConfig(persist=True, data_dir=str(tmp_path), rate_limit_per_minute=0)
    first = make_manager(config, engine=ToneEngine(1), sink=RecordingSink(speed=0))
    first.pause()
    early = first.add_message("queued before start")
    first.start()
    late = first.add_message("queued after start")
    first.stop()
    second = make_manager(config, engine=ToneEngine(1), sink=RecordingSink(speed=0))
    second.pause()
    second.start()
    assert [m["message_id"] for m in second.get_queue()] == [early, late]
