"""Engine failures: retries with backoff, time-outs, dead workers. Nothing stalls."""

from __future__ import annotations

import threading

from doubles import (
    EventLog,
    FlakyEngine,
    HangingEngine,
    RecordingSink,
    ToneEngine,
    assert_accounting,
    wait_until,
)

from tts_core import TTSConfig


def test_engine_failing_30_percent_retries_then_fails_and_everything_ends(make_manager):
    engine, sink, log = FlakyEngine(0.3, seed=7), RecordingSink(speed=0), EventLog()
    config = TTSConfig(
        max_retries=2, retry_backoff_seconds=0.001, rate_limit_per_minute=0, max_queue_size=500
    )
    manager = make_manager(config, engine=engine, sink=sink)
    manager.subscribe(log)
    manager.start()
    ids = [manager.add_message(f"message {i}", "NORMAL") for i in range(300)]
    assert manager.wait_until_idle(30)
    assert manager.events.flush()
    stats = assert_accounting(manager)
    failed = {e["message_id"] for e in log.named("failed")}
    played = set(sink.ids())
    assert played | failed == set(ids) and not played & failed
    assert stats["failed"] == len(failed) > 0, "with 30% failures and 3 attempts, some fail (2.7%)"
    assert all(e["attempts"] == 3 and "429" in e["error"] for e in log.named("failed"))
    assert stats["retried"] > 50
    assert stats["engine_calls"] == stats["accepted"] + stats["retried"]
    assert [i for i in sink.ids()] == [i for i in ids if i in played], "order kept around failures"


def test_hanging_engine_times_out_and_the_queue_moves_on(make_manager):
    engine, sink, log = HangingEngine({"hangs"}), RecordingSink(speed=0), EventLog()
    config = TTSConfig(
        engine_timeout_seconds=0.3, max_retries=1, retry_backoff_seconds=0.01, rate_limit_per_minute=0
    )
    manager = make_manager(config, engine=engine, sink=sink)
    manager.subscribe(log)
    manager.start()
    before = manager.add_message("before", "NORMAL")
    hung = manager.add_message("hangs", "NORMAL")
    after = [manager.add_message(f"after {i}", "NORMAL") for i in range(5)]
    failed = log.wait_for("failed", hung, timeout=10)
    assert "timed out" in failed["error"] and failed["attempts"] == 2
    assert manager.wait_until_idle(10)
    assert sink.ids() == [before, *after]
    stats = assert_accounting(manager)
    assert stats["engine_timeouts"] == 2 and stats["active_workers"] == 3
    engine.release.set()


def test_engine_that_hangs_once_succeeds_on_retry(make_manager):
    engine, sink = HangingEngine({"slow start"}, first_call_only=True), RecordingSink(speed=0)
    config = TTSConfig(engine_timeout_seconds=0.3, max_retries=2, retry_backoff_seconds=0.01)
    manager = make_manager(config, engine=engine, sink=sink)
    manager.start()
    msg = manager.add_message("slow start")
    assert manager.wait_until_idle(10)
    assert sink.ids() == [msg]
    engine.release.set()


class WorkerKilled(BaseException):
    """Escapes `except Exception`: the worker thread dies as if killed."""


def test_worker_killed_mid_run_is_restarted_and_its_message_still_plays(make_manager):
    killed = threading.Event()

    class KillingEngine(ToneEngine):
        def synthesize(self, text, voice=None, rate=None, volume=None):
            if text == "victim" and not killed.is_set():
                killed.set()
                raise WorkerKilled
            return super().synthesize(text)

    sink = RecordingSink(speed=0)
    manager = make_manager(TTSConfig(rate_limit_per_minute=0), engine=KillingEngine(2), sink=sink)
    manager.start()
    ids = [manager.add_message(t) for t in ("one", "victim", "three", "four")]
    assert manager.wait_until_idle(10)
    assert sink.ids() == ids
    assert wait_until(lambda: manager.get_stats()["active_workers"] == 3)
    stats = assert_accounting(manager)
    assert stats["worker_restarts"] == 1 and stats["active_workers"] == 3


def test_sink_error_fails_only_that_message(make_manager):
    class BrokenSink(RecordingSink):
        def play(self, clip, message, stop):
            if message.text == "broken":
                raise OSError("device unplugged")
            super().play(clip, message, stop)

    log, sink = EventLog(), BrokenSink(speed=0)
    manager = make_manager(TTSConfig(), engine=ToneEngine(1), sink=sink)
    manager.subscribe(log)
    manager.start()
    a, broken, c = (manager.add_message(t) for t in ("a", "broken", "c"))
    assert manager.wait_until_idle(10)
    assert sink.ids() == [a, c]
    assert "device unplugged" in log.wait_for("failed", broken)["error"]
    assert_accounting(manager)


def test_seed_style_engine_returning_non_audio_fails_clearly_without_retries(make_manager):
    log = EventLog()
    manager = make_manager(TTSConfig(), engine=lambda text, **kw: b"audio_data", sink=RecordingSink(speed=0))
    manager.subscribe(log)
    manager.start()
    msg = manager.add_message("hello")
    failed = log.wait_for("failed", msg)
    assert "neither WAV nor MP3" in failed["error"] and failed["attempts"] == 1
    assert_accounting(manager)
