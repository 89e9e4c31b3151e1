"""The rate limit never lets lower-priority messages hold the next engine token (issue 8)."""

from __future__ import annotations

from doubles import EventLog, RecordingSink, ToneEngine, assert_accounting, wait_until

from tts_core import TTSConfig


def test_urgent_arriving_while_workers_wait_for_a_token_gets_the_next_token(make_manager):
    engine, sink, log = ToneEngine(200), RecordingSink(), EventLog()
    # One token a second, no burst: the first LOW uses the only token at once, so every
    # worker is waiting for the next token when the URGENT message arrives.
    config = TTSConfig(rate_limit_per_minute=60, rate_limit_burst=1, max_concurrent_workers=3)
    manager = make_manager(config, engine=engine, sink=sink)
    manager.subscribe(log)
    manager.start()
    lows = [manager.add_message(f"low {i}", "LOW") for i in range(4)]
    assert wait_until(lambda: len(engine.calls) >= 1)
    urgent = manager.add_message("urgent", "URGENT")
    assert wait_until(lambda: len(engine.calls) >= 2)
    assert engine.calls[1][0] == "urgent", f"the next token went to {engine.calls[1][0]!r}"
    assert manager.wait_until_idle(30)
    played = sink.ids()
    assert played.index(urgent) <= 1, f"URGENT played as clip {played.index(urgent) + 1}: {played}"
    assert sorted(played) == sorted([*lows, urgent])
    stats = assert_accounting(manager)
    assert stats["played"] == 5 and stats["engine_calls"] == 5, stats


def test_tokens_are_not_wasted_when_several_workers_race_for_one_message(make_manager):
    engine, sink = ToneEngine(5), RecordingSink()
    config = TTSConfig(rate_limit_per_minute=1, rate_limit_burst=3, max_concurrent_workers=3)
    manager = make_manager(config, engine=engine, sink=sink)
    manager.start()
    # Three separate arrivals, each raced by three workers for a token: the losers give
    # theirs back, so the burst of three covers all three (a lost token costs 60 s here).
    ids = []
    for i in range(3):
        ids.append(manager.add_message(f"m{i}", "NORMAL"))
        assert wait_until(lambda n=i + 1: len(engine.calls) >= n)
    assert manager.wait_until_idle(30)
    assert sink.ids() == ids
    assert_accounting(manager)
