"""Playback order, one clip at a time, and nothing lost, under concurrent producers."""

from __future__ import annotations

import itertools
import random
import threading
import time

from doubles import EventLog, RecordingSink, ToneEngine, assert_accounting, wait_until

from tts_core import MessagePriority, TTSConfig

ORDER = {p.name: int(p) for p in MessagePriority}


def test_1000_messages_from_8_threads_play_in_order_once_each_never_overlapping(make_manager):
    sink = RecordingSink()
    manager = make_manager(
        TTSConfig(max_queue_size=2000, max_concurrent_workers=3, rate_limit_per_minute=0),
        engine=ToneEngine(duration_ms=2),
        sink=sink,
    )
    manager.start()
    returned: dict[str, tuple[str, int, float]] = {}  # id -> (priority, arrival index, time added)
    lock = threading.Lock()

    def producer(n: int) -> None:
        rnd = random.Random(n)
        for i in range(125):
            priority = rnd.choice(list(MessagePriority))
            msg_id = manager.add_message(f"producer {n} message {i}", priority)
            with lock:
                returned[msg_id] = (priority.name, len(returned), time.monotonic())
            if rnd.random() < 0.1:
                time.sleep(0.002)

    threads = [threading.Thread(target=producer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert manager.wait_until_idle(timeout=60)

    played = sink.played
    ids = [p.message_id for p in played]
    assert len(ids) == 1000 and set(ids) == set(returned), "lost or duplicated messages"
    assert sink.max_concurrent == 1
    for before, after in itertools.pairwise(played):
        assert before.end <= after.start, f"clips overlap: {before} / {after}"

    # Order: a message M must not start while a message P ordered before it was already
    # queued before the previous clip ended (the moment the player chose the next clip).
    seq = {p.message_id: p.seq for p in played}  # the queue's own arrival order
    start_of = {p.message_id: p.start for p in played}
    violations = []
    for i in range(1, len(played)):
        m, prev_end = played[i], played[i - 1].end
        key_m = (-ORDER[m.priority], seq[m.message_id])
        for p_id, (p_prio, _, p_added) in returned.items():
            if p_added < prev_end and start_of[p_id] > m.start and (-ORDER[p_prio], seq[p_id]) < key_m:
                violations.append((m.text, p_id))
                break
    assert not violations, f"{len(violations)} order violations, e.g. {violations[:3]}"
    stats = assert_accounting(manager)
    assert stats["played"] == 1000 and stats["pending"] == 0


def test_within_one_priority_arrival_order_is_kept(make_manager):
    sink = RecordingSink()
    manager = make_manager(TTSConfig(rate_limit_per_minute=0), engine=ToneEngine(1), sink=sink)
    manager.pause()
    manager.start()
    texts = [f"high {i}" for i in range(20)]
    for t in texts:
        manager.add_message(t, "HIGH")
    manager.resume()
    assert manager.wait_until_idle(10)
    assert [p.text for p in sink.played] == texts


def test_urgent_arriving_mid_clip_plays_right_after_it(make_manager):
    log = EventLog()
    sink = RecordingSink()
    manager = make_manager(
        TTSConfig(rate_limit_per_minute=0), engine=ToneEngine(300, durations={"URGENT!": 50}), sink=sink
    )
    manager.subscribe(log)
    manager.start()
    first = manager.add_message("normal one", "NORMAL")
    for i in range(3):
        manager.add_message(f"low {i}", "LOW")
        manager.add_message(f"normal {i}", "NORMAL")
    log.wait_for("playback_started", first)
    urgent = manager.add_message("URGENT!", MessagePriority.URGENT)
    assert manager.wait_until_idle(20)
    order = sink.ids()
    assert order[0] == first
    assert order[1] == urgent, [p.text for p in sink.played]
    assert [p.text for p in sink.played[2:]] == [
        "normal 0",
        "normal 1",
        "normal 2",
        "low 0",
        "low 1",
        "low 2",
    ]
    assert_accounting(manager)


def test_higher_priority_plays_first_even_over_clips_already_synthesized(make_manager):
    engine = ToneEngine(100)
    sink = RecordingSink()
    manager = make_manager(
        TTSConfig(rate_limit_per_minute=0, max_concurrent_workers=3), engine=engine, sink=sink
    )
    manager.pause()
    manager.start()
    lows = [manager.add_message(f"low {i}", "LOW") for i in range(3)]
    assert wait_until(lambda: all(manager.get_message(m)["state"] == "ready" for m in lows)), \
        "look-ahead should have synthesized the low clips"
    high = manager.add_message("high", "HIGH")
    manager.resume()
    assert manager.wait_until_idle(10)
    assert sink.ids() == [high, *lows]


def test_fifo_mode_ignores_priorities(make_manager):
    sink = RecordingSink()
    manager = make_manager(
        TTSConfig(enable_priority_queue=False, rate_limit_per_minute=0), engine=ToneEngine(1), sink=sink
    )
    manager.pause()
    manager.start()
    ids = [manager.add_message(f"m{i}", p) for i, p in enumerate(["LOW", "URGENT", "NORMAL", "HIGH"])]
    manager.resume()
    assert manager.wait_until_idle(10)
    assert sink.ids() == ids
