"""A queue process for the exactly-once crash test: `ended_child.py DATA_DIR MODE [N]`.

``run``: a persisting, paused queue; queues N messages and prints "queued <ids as JSON>";
then reads commands from stdin: "clear" (prints "cleared <count> <journal_state>"),
"play" (resumes, prints "played <count> <journal_state>" once all have played); the
parent kills it with SIGKILL afterwards. ``count``: starts paused on the same journal,
prints "stats <JSON>" (accepted, pending ids, journal_state) and stops.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for doubles

from doubles import RecordingSink, ToneEngine, wait_until

from tts_core import TTSConfig, TTSQueueManager


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    data_dir, mode = sys.argv[1], sys.argv[2]
    config = TTSConfig(persist=True, data_dir=data_dir, rate_limit_per_minute=0)
    manager = TTSQueueManager(config, engine=ToneEngine(2), sink=RecordingSink(speed=0))
    manager.pause()
    manager.start()
    if mode == "count":
        stats = manager.get_stats()
        pending = [m["message_id"] for m in manager.get_queue(limit=1000)]
        _say("stats " + json.dumps({"accepted": stats["accepted"], "pending": pending,
                                    "journal_state": stats["journal_state"]}))
        manager.stop()
        return
    ids = [manager.add_message(f"message {i}", "NORMAL") for i in range(int(sys.argv[3]))]
    _say("queued " + json.dumps(ids))
    for command in sys.stdin:
        if command.strip() == "clear":
            _say(f"cleared {manager.clear()} {manager.get_stats()['journal_state']}")
        elif command.strip() == "play":
            manager.resume()
            wait_until(lambda: manager.get_stats()["played"] == len(ids) and manager.queue.wait_idle(0), 60)
            _say(f"played {manager.get_stats()['played']} {manager.get_stats()['journal_state']}")


if __name__ == "__main__":
    main()
