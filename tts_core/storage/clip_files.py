"""Clip files on disk: one folder per run, a file per synthesized clip.

Which clips stay and for how long is decided by tts_core.runtime.retention; this
module writes and deletes the files, and removes the whole folder at the end of a run.

A process killed before its end leaves its folder behind. Each folder this program
creates in the temporary folder names its owner: ``obs-tts-clips-<pid>-<start>-XXXXXXXX``,
where ``<start>`` is when the process started (Linux; ``x`` where the system does not
tell), so a pid reused by another process is not mistaken for the owner. A new run
removes the folders whose owner is gone: only folders named so, owned by this user,
whose pid no longer runs or now belongs to a process started at another time.
On Windows nothing is removed (there is no safe way to ask about a pid without a
third-party package); the folders stay as before.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from tts_core.domain.audio import Clip

log = logging.getLogger(__name__)

PREFIX = "obs-tts-clips-"
# <pid>-<start>- then tempfile.mkdtemp's 8 random characters
_OUR_NAME = re.compile(re.escape(PREFIX) + r"(\d+)-(\d+|x)-[a-z0-9_]{8}")


def folder_prefix(pid: int) -> str:
    """The start of the name of a clip folder owned by process ``pid``."""
    return f"{PREFIX}{pid}-{process_start(pid) or 'x'}-"


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), or None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # after "pid (name) ": state is field 3
    return fields[19] if len(fields) > 19 else None  # field 22: starttime


def _owner_gone(pid: int, started: str) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: alive, someone else's
        pass
    now_started = process_start(pid)
    return started != "x" and now_started is not None and now_started != started


# A clip folder the OBS script wrote a clip back into after the queue deleted it: OBS saved
# that clip's path in its scene collection at exit and checks it at its next start (before
# the script's queue starts), so the folder is kept for a day although its owner is gone.
KEPT_FOR_OBS = ".kept-for-obs"
KEPT_FOR_OBS_SECONDS = 24 * 3600.0


def kept_for_obs(folder: Path, now: float | None = None) -> bool:
    """Whether ``folder`` holds a clip OBS's saved scene collection may still point to."""
    try:
        age = (time.time() if now is None else now) - (folder / KEPT_FOR_OBS).stat().st_mtime
    except OSError:
        return False
    return age < KEPT_FOR_OBS_SECONDS


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
        ours = _OUR_NAME.fullmatch(entry.name)
        if ours is None:
            continue  # not ours, or made by a version that did not name the owner
        try:
            if entry.is_symlink() or not entry.is_dir() or entry.stat().st_uid != os.getuid():
                continue
        except OSError:
            continue
        if _owner_gone(int(ours.group(1)), ours.group(2)) and not kept_for_obs(entry):
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
            folder = Path(tempfile.mkdtemp(prefix=folder_prefix(os.getpid())))
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
