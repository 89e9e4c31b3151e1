"""A sink that writes every played clip to a folder, with ``timeline.jsonl``.

Each clip is written as ``NNNN-<message_id>.<wav|mp3>`` and held for its duration
(like RealtimeSink, so ``started_at``/``ended_at`` are real playback times); one JSON
line per clip records message_id, priority, text, file, started_at, ended_at
(Unix seconds), whether it was skipped, and whether it was the message's alert sound
(``alert``: played right before its speech, tts_core.runtime.alerts).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from tts_core.domain.audio import Clip
from tts_core.domain.message import TTSMessage
from tts_core.sinks.base import Sink
from tts_core.sinks.realtime import RealtimeSink

TIMELINE_FILE = "timeline.jsonl"


class WavDirSink(Sink):
    """Parameters: ``folder`` (created if missing), ``speed`` (1.0 = real time, 0 = instant)."""

    name = "wav-dir"

    def __init__(self, folder: str | Path, speed: float = 1.0) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._clock = RealtimeSink(speed)
        self._count = sum(1 for _ in self.folder.glob("[0-9][0-9][0-9][0-9]-*"))
        self._timeline = (self.folder / TIMELINE_FILE).open("a", encoding="utf-8")

    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None:
        self._count += 1
        name = f"{self._count:04d}-{message.id}.{clip.format}"
        (self.folder / name).write_bytes(clip.data)
        started = time.time()
        self._clock.play(clip, message, stop)
        line = {
            "message_id": message.id,
            "priority": message.priority.name,
            "text": message.text,
            "file": name,
            "duration_ms": clip.duration_ms,
            "started_at": started,
            "ended_at": time.time(),
            "skipped": stop.is_set(),
            "alert": clip is not message.clip,
        }
        self._timeline.write(json.dumps(line) + "\n")
        self._timeline.flush()

    def close(self) -> None:
        self._timeline.close()
