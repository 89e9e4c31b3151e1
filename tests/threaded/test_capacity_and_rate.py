"""Capacity with priority shedding, RuntimeError at capacity, and the rate limit."""

from __future__ import annotations

import pytest
from doubles import EventLog, RecordingSink, ToneEngine, assert_accounting

from tts_core import MessagePriority, QueueFull, TTSConfig


def _paused(make_manager, size: int, **config):
    log, sink = EventLog(), RecordingSink()
    manager = make_manager(
        TTSConfig(max_queue_size=size, rate_limit_per_minute=0, **config), engine=ToneEngine(1), sink=sink
    )
    manager.subscribe(log)
    manager.pause()
    manager.start()
    return manager, log, sink


def test_full_queue_evicts_the_newest_message_of_the_lowest_lower_priority(make_manager):
    manager, log, _sink = _paused(make_manager, 4)
    normal = manager.add_message("normal", "NORMAL")
    low_old = manager.add_message("low old", "LOW")
    low_new = manager.add_message("low new", "LOW")
    high = manager.add_message("high", "HIGH")
    urgent = manager.add_message("urgent", "URGENT")  # full: evicts "low new"
    dropped = log.wait_for("dropped", low_new)
    assert dropped["reason"] == "queue_full"
    high2 = manager.add_message("high 2", "HIGH")  # evicts "low old"
    log.wait_for("dropped", low_old)
    urgent2 = manager.add_message("urgent 2", "URGENT")  # evicts "normal"
    log.wait_for("dropped", normal)
    stats = assert_accounting(manager)
    assert stats["dropped"] == 3 and stats["pending"] == 4
    assert [m["message_id"] for m in manager.get_queue()] == [urgent, urgent2, high, high2]


def test_full_queue_without_lower_priority_raises_runtime_error(make_manager):
    manager, _log, _ = _paused(make_manager, 3)
    for i in range(3):
        manager.add_message(f"urgent {i}", MessagePriority.URGENT)
    with pytest.raises(RuntimeError, match="queue is full"):
        manager.add_message("one more urgent", "URGENT")  # URGENT is never evicted
    with pytest.raises(QueueFull):
        manager.add_message("a low one", "LOW")
    stats = assert_accounting(manager)
    assert stats["accepted"] == 3 and stats["dropped"] == 0


def test_same_priority_is_not_evicted(make_manager):
    manager, _, _ = _paused(make_manager, 2)
    manager.add_message("high a", "HIGH")
    manager.add_message("high b", "HIGH")
    with pytest.raises(RuntimeError):
        manager.add_message("high c", "HIGH")


def test_held_messages_count_towards_capacity_and_can_be_evicted(make_manager):
    manager, log, _ = _paused(make_manager, 2)
    held = manager.add_message("held low", "LOW", hold_seconds=60)
    manager.add_message("normal", "NORMAL")
    manager.add_message("high", "HIGH")
    log.wait_for("dropped", held)
    assert_accounting(manager)


def test_rate_limit_bounds_engine_calls_and_loses_nothing(make_manager):
    engine, sink = ToneEngine(1), RecordingSink()
    per_minute, burst = 600, 2  # 10 calls a second after a burst of 2
    manager = make_manager(
        TTSConfig(rate_limit_per_minute=per_minute, rate_limit_burst=burst), engine=engine, sink=sink
    )
    manager.start()
    ids = [manager.add_message(f"m{i}", "NORMAL") for i in range(12)]
    assert manager.wait_until_idle(20)
    assert sink.ids() == ids, "rate-limited messages wait; none is lost"
    times = [t for _, t in engine.calls]
    first = times[0]
    for i, t in enumerate(times):
        allowed = burst + (t - first) * per_minute / 60 + 0.5  # tokens available by time t
        assert i + 1 <= allowed, f"call {i + 1} at +{t - first:.3f}s exceeds the rate"
    assert times[-1] - first >= (12 - burst) / 10 * 0.9
    assert_accounting(manager)
