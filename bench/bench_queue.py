"""Enqueue+dequeue throughput of the queue, and memory with 100,000 pending messages.

Targets (issue 2): >= 50,000 enqueue+dequeue per second; 100,000 pending messages in
<= 100 MB RSS. Run: .venv/bin/python bench/bench_queue.py
"""

from __future__ import annotations

import subprocess
import sys
import time

from common import median, table

from tts_core.domain.audio import silent_wav
from tts_core.domain.message import MessagePriority, TTSMessage
from tts_core.runtime.message_queue import MessageQueue

N = 100_000
RUNS = 5
PRIORITIES = list(MessagePriority)


def queue_round_trip(n: int) -> float:
    """Put n messages of mixed priority, then take each through synthesis and playback."""
    queue = MessageQueue(max_size=n)
    messages = [TTSMessage(text=f"message {i}", priority=PRIORITIES[i % 4], seq=i) for i in range(n)]
    start = time.perf_counter()
    for msg in messages:
        queue.put(msg)
    for _ in range(n):
        claimed = queue.claim(1)
        assert claimed is not None
        queue.mark_ready(claimed, None)
        played = queue.take_next_to_play(0)
        assert played is claimed
        queue.end_playback(played, skipped=False)
    return n / (time.perf_counter() - start)


def manager_enqueue(n: int) -> float:
    """add_message() calls per second on a paused manager (text clean-up, events, ids)."""
    from tts_core import TTSConfig, TTSQueueManager

    manager = TTSQueueManager(TTSConfig(max_queue_size=n), engine=lambda text, **kw: silent_wav(10))
    manager.pause()
    start = time.perf_counter()
    for i in range(n):
        manager.add_message(f"message {i}", PRIORITIES[i % 4])
    return n / (time.perf_counter() - start)


MEMORY_CHILD = """
import re, sys
sys.path.insert(0, {root!r})
def rss_kb():
    return int(re.search(r"VmRSS:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
from tts_core import TTSConfig, TTSQueueManager
from tts_core.domain.audio import silent_wav
import tts_core.audio.normalize  # numpy (about 11 MB), loaded by the first clip's normalization anyway
m = TTSQueueManager(TTSConfig(max_queue_size={n}), engine=lambda text, **kw: silent_wav(10))
m.pause()
m.start()
before = rss_kb()
for i in range({n}):
    m.add_message("Thanks for the follow, viewer number %d! Enjoy the stream." % i, "NORMAL")
after = rss_kb()
assert m.get_stats()["pending"] == {n}
print(before, after)
m.stop()
"""


def memory_with_pending(n: int) -> tuple[float, float]:
    """RSS (MB) of a fresh process before and after queuing n messages."""
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", MEMORY_CHILD.format(root=root, n=n)],
                         capture_output=True, text=True, check=True).stdout
    before_kb, after_kb = (int(x) for x in out.split())
    return before_kb / 1024, after_kb / 1024


def main() -> None:
    round_trips = [queue_round_trip(N) for _ in range(RUNS)]
    enqueues = [manager_enqueue(N) for _ in range(RUNS)]
    memory = [memory_with_pending(N) for _ in range(3)]
    table(
        f"Queue throughput ({N:,} messages, median of {RUNS} runs) and memory ({N:,} pending)",
        ["measure", "median", "target"],
        [
            ["queue enqueue+dequeue / s", f"{median(round_trips):,.0f}", ">= 50,000"],
            ["manager add_message / s", f"{median(enqueues):,.0f}", "-"],
            ["RSS with 100,000 pending (MB)", f"{median([m[1] for m in memory]):.1f}", "<= 100"],
            ["  of which the messages (MB; the rest: Python, tts_core, numpy)",
             f"{median([m[1] - m[0] for m in memory]):.1f}", "-"],
        ],
    )


if __name__ == "__main__":
    main()
