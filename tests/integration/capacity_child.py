"""A queue process for the capacity crash test: `capacity_child.py DATA_DIR SIZE MODE`.

``fill``: a persisting queue of ``max_queue_size`` SIZE whose first clip never ends by
itself; prints "playing <id>" when it starts, then queues SIZE more messages (the queue
is exactly full with one clip playing) and prints "full <ids as JSON>"; waits to be killed.
``recover``: starts paused on the same journal and prints "stats <JSON>" with the
counts and the pending ids, then stops.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for doubles

from doubles import ToneEngine

from tts_core import TTSConfig, TTSQueueManager
from tts_core.domain.audio import Clip
from tts_core.domain.message import TTSMessage
from tts_core.sinks.base import Sink


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class HoldingSink(Sink):
    """Announces each clip and holds it until stopped (a minute at most)."""

    name = "holding"

    def __init__(self) -> None:
        self.started = threading.Event()

    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None:
        _say(f"playing {message.id}")
        self.started.set()
        stop.wait(60)


def main() -> None:
    data_dir, size, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    config = TTSConfig(persist=True, data_dir=data_dir, rate_limit_per_minute=0, max_queue_size=size)
    sink = HoldingSink()
    manager = TTSQueueManager(config, engine=ToneEngine(2), sink=sink)
    if mode == "recover":
        manager.pause()
        manager.start()
        stats = manager.get_stats()
        pending = [m["message_id"] for m in manager.get_queue(limit=size + 10)]
        _say("stats " + json.dumps({"accepted": stats["accepted"], "dropped": stats["dropped"],
                                    "pending": pending}))
        manager.stop()
        return
    manager.start()
    first = manager.add_message("the clip that plays", "NORMAL")
    sink.started.wait(30)
    ids = [first] + [manager.add_message(f"waiting {i}", "NORMAL") for i in range(size)]
    _say("full " + json.dumps(ids))
    threading.Event().wait(120)


if __name__ == "__main__":
    main()
