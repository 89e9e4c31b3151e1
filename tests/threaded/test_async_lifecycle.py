"""Async done right (issue 8): ``await start()`` / ``await stop()`` never block the event
loop, an async engine call in flight at stop is cancelled and writes nothing, and threads
abandoned in hung engine calls are bounded and reported."""

from __future__ import annotations

import asyncio
import tempfile
import threading

from doubles import HangingEngine, RecordingSink, assert_accounting, wait_until

from tts_core import TTSConfig, TTSQueueManager
from tts_core.config import EngineConfig
from tts_core.domain.audio import silent_wav
from tts_core.runtime.workers import MAX_STUCK_THREADS


def test_await_stop_keeps_the_loop_running_and_cancels_the_async_call(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    record = {"cancelled": False, "finished": False}

    async def main() -> tuple[int, int]:
        call_started = asyncio.Event()

        async def engine(text: str, **kwargs: object) -> bytes:
            call_started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                record["cancelled"] = True
                raise
            record["finished"] = True
            return silent_wav(10, sample_rate=8000)

        manager = TTSQueueManager(TTSConfig(rate_limit_per_minute=0), engine=engine, sink=RecordingSink())
        stopping = False
        ticks = {"start": 0, "stop": 0}

        async def ticker() -> None:
            while True:
                if stopping:
                    ticks["stop"] += 1
                await asyncio.sleep(0)

        tick_task = asyncio.create_task(ticker())
        await manager.start()
        msg = manager.add_message("hello", "NORMAL")
        await asyncio.wait_for(call_started.wait(), 10)
        stopping = True
        await manager.stop()
        stopping = False
        tick_task.cancel()
        assert msg
        return ticks["stop"], manager.get_stats()["pending"]

    ticks_during_stop, pending = asyncio.run(main())
    assert ticks_during_stop > 0, "the event loop stood still while stop() ran"
    assert record["cancelled"] and not record["finished"], record
    assert pending == 1, "the cut message stays pending for the next start"
    assert list(tmp_path.iterdir()) == [], "no clip folder or file is left behind"


def test_await_start_runs_the_blocking_part_off_the_loop(tmp_path):
    async def main() -> list[str]:
        loop_thread = threading.get_ident()
        seen: list[str] = []

        class Engine(HangingEngine):
            def list_voices(self):  # called by start() to check the configured voice
                seen.append("same thread" if threading.get_ident() == loop_thread else "other thread")
                return []

        config = TTSConfig(rate_limit_per_minute=0, engine=EngineConfig(voice="en-us"))
        manager = TTSQueueManager(config, engine=Engine(set()), sink=RecordingSink())
        await manager.start()
        assert manager.is_running
        await manager.stop()
        return seen

    assert asyncio.run(main()) == ["other thread"]


def test_plain_start_and_stop_from_a_thread_still_finish_before_returning():
    manager = TTSQueueManager(TTSConfig(rate_limit_per_minute=0), engine=HangingEngine(set()),
                              sink=RecordingSink())
    done: list[bool] = []

    def run() -> None:
        manager.start()
        done.append(manager.is_running)
        manager.stop()
        done.append(manager.is_running)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert done == [True, False]


def test_threads_stuck_in_the_engine_are_bounded_and_reported(make_manager):
    engine = HangingEngine({f"m{i}" for i in range(40)})
    config = TTSConfig(rate_limit_per_minute=0, max_concurrent_workers=3, engine_timeout_seconds=0.05,
                       max_retries=0, max_queue_size=100)
    manager = make_manager(config, engine=engine, sink=RecordingSink(speed=0))
    manager.start()
    try:
        for i in range(40):
            manager.add_message(f"m{i}", "NORMAL")

        def settled() -> bool:
            # The bound is reached, no worker is left, and every call in the engine is counted
            # as abandoned (a worker between its claim and its call, or a thread timed out a
            # moment ago and not yet counted, makes these differ for an instant).
            stats = manager.get_stats()
            return (stats["abandoned_threads"] >= MAX_STUCK_THREADS and stats["active_workers"] == 0
                    and len(engine.hung) == stats["abandoned_threads"])

        # Once settled, no engine call can start until a stuck one returns: the count is final.
        assert wait_until(settled), (manager.get_stats(), len(engine.hung))
        most = manager.get_stats()["abandoned_threads"]
        # The workers that were in a call when the bound was reached are abandoned too; none
        # is replaced: no new engine call starts until a stuck one returns.
        assert MAX_STUCK_THREADS <= most <= MAX_STUCK_THREADS + config.max_concurrent_workers, most
        assert len(engine.hung) == most and manager.get_stats()["active_workers"] == 0
    finally:
        engine.release.set()  # a failure must not leave threads hanging into the next tests
    assert manager.wait_until_idle(30)
    stats = assert_accounting(manager)
    assert stats["failed"] == stats["engine_timeouts"] > 0 and stats["played"] + stats["failed"] == 40
    assert wait_until(lambda: manager.get_stats()["abandoned_threads"] == 0)


def test_unawaited_start_then_stop_on_a_loop_run_in_order():
    async def main() -> bool:
        manager = TTSQueueManager(TTSConfig(rate_limit_per_minute=0), engine=HangingEngine(set()),
                                  sink=RecordingSink())
        started = manager.start()  # not awaited yet: it runs anyway
        stopped = manager.stop()
        await started
        await stopped
        return manager.is_running

    assert asyncio.run(main()) is False
