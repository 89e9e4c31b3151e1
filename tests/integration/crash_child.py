"""A queue process for the crash test: `crash_child.py DATA_DIR OUT_DIR [N]`.

Starts a persisting queue with the real espeak engine and the wav-dir sink (real-time
clock at 4x), adds N messages if N is given, prints "queued" and plays until idle.
"""

from __future__ import annotations

import sys

from tts_core import TTSConfig, TTSQueueManager
from tts_core.sinks import WavDirSink


def main() -> None:
    data_dir, out_dir = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    config = TTSConfig(persist=True, data_dir=data_dir, rate_limit_per_minute=0)
    manager = TTSQueueManager(config, sink=WavDirSink(out_dir, speed=0.25))
    manager.start()
    priorities = ["LOW", "NORMAL", "HIGH", "URGENT"]
    for i in range(count):
        manager.add_message(f"message number {i}", priorities[i % 4])
    print("queued", flush=True)
    manager.wait_until_idle(timeout=120)
    manager.stop()
    print("idle", flush=True)


if __name__ == "__main__":
    main()
