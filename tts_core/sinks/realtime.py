"""The default sink outside OBS: holds each clip for its true duration, plays nothing.

Timing then behaves like real playback (queue waits, look-ahead, skip), which makes it
the sink for tests, benchmarks and `obs-tts serve` without a sound output.
"""

from __future__ import annotations

import threading
import time

from tts_core.domain.audio import Clip
from tts_core.domain.message import TTSMessage
from tts_core.sinks.base import Sink


class RealtimeSink(Sink):
    """Blocks ``play`` for ``clip.duration_ms * speed`` milliseconds (``speed`` < 1 = faster)."""

    name = "realtime"

    def __init__(self, speed: float = 1.0) -> None:
        if speed < 0:
            raise ValueError(f"speed must be >= 0, got {speed}")
        self.speed = speed

    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None:
        deadline = time.monotonic() + clip.duration_ms * self.speed / 1000.0
        # Event.wait can return a little early on some platforms; finish the remainder.
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            stop.wait(remaining)
