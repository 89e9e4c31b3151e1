"""A queue process for the crash test: `crash_child.py DATA_DIR OUT_DIR [N [HOLD_AT]]`.

Starts a persisting queue with the real espeak engine and the wav-dir sink (real-time
clock at 4x), adds N messages if N is given, prints "queued" and plays until idle.
Prints "playing <message id>" as each clip starts. Clip number HOLD_AT (1 = the first
of this run), if given, does not end by itself within a minute, so a kill on its line
always lands while it is playing.
"""

from __future__ import annotations

import sys
import threading

from tts_core import TTSConfig, TTSQueueManager
from tts_core.domain.audio import Clip
from tts_core.domain.message import TTSMessage
from tts_core.sinks import WavDirSink

HOLD_SECONDS = 60.0  # far longer than the test takes to read a line and kill


def _say(line: str) -> None:
    # one write per line: the player thread and the main thread both print
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class AnnouncingSink(WavDirSink):
    """The wav-dir sink that says which clip starts; clip number ``hold_at`` is held open.

    Parameters: ``folder`` and ``speed`` as WavDirSink; ``hold_at`` (0 = none)."""

    def __init__(self, folder: str, speed: float, hold_at: int) -> None:
        super().__init__(folder, speed)
        self.hold_at = hold_at
        self.started = 0

    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None:
        self.started += 1
        _say(f"playing {message.id}")
        if self.started == self.hold_at:
            stop.wait(HOLD_SECONDS)
        super().play(clip, message, stop)


def main() -> None:
    data_dir, out_dir = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    hold_at = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    config = TTSConfig(persist=True, data_dir=data_dir, rate_limit_per_minute=0)
    manager = TTSQueueManager(config, sink=AnnouncingSink(out_dir, speed=0.25, hold_at=hold_at))
    manager.start()
    priorities = ["LOW", "NORMAL", "HIGH", "URGENT"]
    for i in range(count):
        manager.add_message(f"message number {i}", priorities[i % 4])
    _say("queued")
    manager.wait_until_idle(timeout=120)
    manager.stop()
    _say("idle")


if __name__ == "__main__":
    main()
