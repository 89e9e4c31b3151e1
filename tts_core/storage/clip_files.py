"""Clip files on disk: one folder per run, a file per synthesized clip.

Which clips stay and for how long is decided by tts_core.runtime.retention; this
module writes and deletes the files, and removes the whole folder at the end of a run.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

from tts_core.domain.audio import Clip


class ClipFiles:
    """Parameters: ``folder`` (default: a new temporary folder, removed by ``cleanup``)."""

    def __init__(self, folder: Path | None = None) -> None:
        self._own_folder = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="obs-tts-clips-")) if folder is None else folder
        self.folder.mkdir(parents=True, exist_ok=True)
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
        """Delete a clip's file, if it has one."""
        if clip is not None and clip.path is not None:
            clip.path.unlink(missing_ok=True)

    def cleanup(self) -> None:
        with self._lock:
            self._closed = True
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)
