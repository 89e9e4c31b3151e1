"""Clip files on disk: written after synthesis, deleted after playback.

The last ``keep`` played clips stay for ``replay``; everything else is removed as soon
as its message ends, and the whole folder when the manager stops.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path

from tts_core.audio import Clip
from tts_core.message import TTSMessage

log = logging.getLogger(__name__)


class ClipFiles:
    """Parameters: ``keep`` (played clips kept for replay), ``folder`` (default: a temp dir)."""

    def __init__(self, keep: int = 5, folder: Path | None = None) -> None:
        self.keep = keep
        self._own_folder = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="obs-tts-clips-")) if folder is None else folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._played: OrderedDict[str, TTSMessage] = OrderedDict()
        self._lock = threading.Lock()
        self._closed = False

    def write(self, msg_id: str, clip: Clip) -> Clip | None:
        """Write a clip's file; None once ``cleanup`` ran (a late engine call writes nothing)."""
        path = self.folder / f"{msg_id}.{clip.format}"
        with self._lock:
            if self._closed:
                return None
            path.write_bytes(clip.data)
        return replace(clip, path=path)

    def discard(self, clip: Clip | None) -> None:
        """Delete a clip's file, unless a kept played message still uses it (replays share it)."""
        if clip is None or clip.path is None:
            return
        with self._lock:
            if any(m.clip is clip for m in self._played.values()):
                return
        clip.path.unlink(missing_ok=True)

    def played(self, msg: TTSMessage) -> None:
        """Keep a played message's clip for replay; delete the oldest beyond ``keep``."""
        with self._lock:
            self._played[msg.id] = msg
            evicted = []
            while len(self._played) > self.keep:
                evicted.append(self._played.popitem(last=False)[1])
        for old in evicted:
            self.discard(old.clip)

    def for_replay(self, msg_id: str | None = None) -> TTSMessage | None:
        """The played message ``msg_id`` (default: the last one) if its clip is kept."""
        with self._lock:
            if not self._played:
                return None
            if msg_id is None:
                return next(reversed(self._played.values()))
            return self._played.get(msg_id)

    def cleanup(self) -> None:
        with self._lock:
            self._closed = True
            self._played.clear()
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)
