"""Clip files on disk: one folder per run, a file per synthesized clip.

Which clips stay and for how long is decided by tts_core.runtime.retention; this
module writes and deletes the files, and removes the whole folder at the end of a run.

A process killed before its end leaves its folder behind. Each folder this program
creates (``obs-tts-clips-XXXXXXXX`` in the temporary folder) holds an ``owner.json``:
the owner's pid and, where the system tells it (Linux), the process's start time, so a
pid reused by another process is not mistaken for the owner. A new run removes the
folders whose owner is gone: only folders with that name and that marker, owned by this
user, whose pid no longer runs or now belongs to a process started at another time.
On Windows nothing is removed (there is no safe way to ask about a pid without a
third-party package); the folders stay as before.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

from tts_core.domain.audio import Clip

log = logging.getLogger(__name__)

PREFIX = "obs-tts-clips-"
OWNER_FILE = "owner.json"
_OUR_NAME = re.compile(re.escape(PREFIX) + r"[A-Za-z0-9_]{8}")  # tempfile.mkdtemp's names


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), or None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # after "pid (name) ": state is field 3
    return fields[19] if len(fields) > 19 else None  # field 22: starttime


def _owner_gone(owner: dict[str, object]) -> bool:
    pid, started = owner.get("pid"), owner.get("started")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: alive, someone else's
        pass
    now_started = process_start(pid)
    return isinstance(started, str) and now_started is not None and now_started != started


def remove_abandoned(folder: Path | None = None) -> list[Path]:
    """Remove the clip folders in ``folder`` (default: the temporary folder) whose owner
    process is gone; returns what was removed."""
    if sys.platform == "win32":
        return []
    removed = []
    try:
        entries = list((folder or Path(tempfile.gettempdir())).iterdir())
    except OSError:
        return []
    for entry in entries:
        if not _OUR_NAME.fullmatch(entry.name):
            continue
        try:
            if entry.is_symlink() or not entry.is_dir() or entry.stat().st_uid != os.getuid():
                continue
            owner = json.loads((entry / OWNER_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # no marker: not provably ours, or its owner is still writing it
        if isinstance(owner, dict) and _owner_gone(owner):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    if removed:
        log.info("removed %d clip folder(s) left by earlier processes that ended without cleaning up",
                 len(removed))
    return removed


class ClipFiles:
    """Parameters: ``folder`` (default: a new temporary folder, removed by ``cleanup``)."""

    def __init__(self, folder: Path | None = None) -> None:
        self._own_folder = folder is None
        if folder is None:
            remove_abandoned()
            folder = Path(tempfile.mkdtemp(prefix=PREFIX))
            owner = {"pid": os.getpid(), "started": process_start(os.getpid())}
            (folder / OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")
        self.folder = folder
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
