"""The seed README's Basic Usage runs as written, and the seed's API keeps its meaning."""

from __future__ import annotations

import asyncio
import runpy
import threading
import time
from pathlib import Path

from doubles import EventLog, RecordingSink, assert_accounting, wait_until

from tts_core import MessagePriority, TTSConfig, TTSQueueManager
from tts_core.engines import EspeakEngine

SEED_EXAMPLE = Path(__file__).with_name("seed_basic_usage.py")


def test_seed_basic_usage_runs_unchanged_and_stops_cleanly(caplog):
    threads_before = threading.active_count()
    started = time.monotonic()
    runpy.run_path(str(SEED_EXAMPLE), run_name="__main__")
    assert 5 <= time.monotonic() - started < 8
    # Its engine returns b"audio_data", which is not audio: both messages fail with a
    # clear reason instead of crashing or stalling.
    assert "neither WAV nor MP3" in caplog.text
    assert wait_until(lambda: threading.active_count() <= threads_before), "stop() must end every thread"


def test_seed_usage_with_a_real_async_engine_plays_urgent_first():
    espeak = EspeakEngine()
    sink, log = RecordingSink(speed=0.2), EventLog()
    loop_threads: list[str] = []

    async def main() -> dict:
        manager = TTSQueueManager(
            TTSConfig(max_queue_size=1000, max_concurrent_workers=3, rate_limit_per_minute=60)
        )

        async def tts_engine(text: str, **kwargs) -> bytes:
            loop_threads.append(threading.current_thread().name)
            return await asyncio.to_thread(espeak.synthesize, text, **kwargs)

        manager.set_tts_engine(tts_engine)
        manager.set_audio_sink(sink)
        manager.subscribe(log)
        manager.pause()  # so both are queued before the first plays
        await manager.start()
        manager.add_message("Hello world!", MessagePriority.NORMAL)
        manager.add_message("Urgent message!", MessagePriority.URGENT)
        manager.resume()
        assert await asyncio.to_thread(manager.wait_until_idle, 30)
        stats = manager.get_stats()
        await manager.stop()
        assert_accounting(manager)
        return stats

    stats = asyncio.run(main())
    assert [p.text for p in sink.played] == ["Urgent message!", "Hello world!"]
    assert loop_threads and set(loop_threads) == {"MainThread"}, "async engines run on the caller's loop"
    for key in (
        "queue_size",
        "total_processed",
        "total_failed",
        "active_workers",
        "pending",
        "dropped",
        "rejected",
        "retried",
        "worker_restarts",
        "latency_ms",
    ):
        assert key in stats
    assert stats["total_processed"] == 2 and stats["active_workers"] == 3
    assert stats["latency_ms"]["p50"] is not None


def test_seed_engine_object_with_generate_audio_is_accepted():
    class SeedStyleEngine:
        def generate_audio(self, text: str, **kwargs) -> bytes:
            return EspeakEngine().synthesize(text)

    sink = RecordingSink(speed=0)
    manager = TTSQueueManager(TTSConfig(), sink=sink)
    manager.set_tts_engine(SeedStyleEngine())
    manager.start()
    try:
        manager.add_message("from a seed style engine object")
        assert manager.wait_until_idle(10)
    finally:
        manager.stop()
    assert len(sink.played) == 1
