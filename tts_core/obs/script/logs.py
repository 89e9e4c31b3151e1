"""Log records into OBS's log from any thread: queued here, written on OBS's thread.

Python scripts write to the OBS log with ``obspython.script_log``; like every
obspython call it belongs on an OBS thread, so records from the player, workers and
listener wait in a queue that the pump flushes each frame (and the script once more
at unload).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

# obspython's LOG_ERROR, LOG_WARNING, LOG_INFO, LOG_DEBUG
OBS_LEVELS = ((logging.ERROR, 100), (logging.WARNING, 200), (logging.INFO, 300), (logging.DEBUG, 400))
FLUSH_LIMIT = 50


def obs_level(levelno: int) -> int:
    for python_level, obs_level_value in OBS_LEVELS:
        if levelno >= python_level:
            return obs_level_value
    return 400


# Waits that are part of normal operation: the player logs them when it starts waiting,
# but nobody has to act, so they must not open OBS's Script Log window (INFO there).
EXPECTED_WAITS = ("OBS is still loading the scene collection",)
REPEAT_WINDOW_SECONDS = 600.0  # a warning of the same kind within this time is written as INFO


class WarnOnce:
    """OBS opens its Script Log window over everything for each warning or error a
    script writes. A streamer must see a problem once, not have the window pop up for
    every failed message or wrong token: the first warning of a kind (the same logger
    and message template) stays a warning; repeats within ``window_s`` are written as
    INFO lines that count them, and the next one after a quiet ``window_s`` warns again.
    Expected waits (``EXPECTED_WAITS``) are INFO. ``clock``: monotonic seconds."""

    def __init__(self, window_s: float = REPEAT_WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self.clock = clock
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}  # kind -> (last seen, repeats)
        self._lock = threading.Lock()

    def level_and_note(self, record: logging.LogRecord) -> tuple[int, str]:
        """The Python level to write ``record`` at, and a note to put before it ("" none)."""
        if record.levelno < logging.WARNING:
            return record.levelno, ""
        if any(wait in record.getMessage() for wait in EXPECTED_WAITS):
            return logging.INFO, ""
        kind = (record.name, str(record.msg))
        now = self.clock()
        with self._lock:
            last, repeats = self._seen.get(kind, (None, 0))
            if last is None or now - last >= self.window_s:
                self._seen[kind] = (now, 0)
                return record.levelno, ""
            self._seen[kind] = (now, repeats + 1)
        return logging.INFO, f"(again: {repeats + 1} more like this since the warning) "


class QueuedLogHandler(logging.Handler):
    """Parameters: ``write(obs_level, line)`` (``obspython.script_log``), ``level``,
    ``policy`` (which warnings stay warnings; None: all)."""

    def __init__(self, write: Callable[[int, str], None], level: int = logging.INFO,
                 policy: WarnOnce | None = None) -> None:
        super().__init__(level)
        self.write = write
        self.policy = policy
        self.records: queue.SimpleQueue[tuple[int, str]] = queue.SimpleQueue()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            levelno, note = self.policy.level_and_note(record) if self.policy else (record.levelno, "")
            line = self.format(record)
            if levelno != record.levelno:
                line = line.replace(record.levelname, logging.getLevelName(levelno), 1)
            if note:
                head, sep, tail = line.partition(": ")
                line = f"{head}{sep}{note}{tail}"
            self.records.put((obs_level(levelno), line))
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)

    def flush_to_obs(self, limit: int = FLUSH_LIMIT) -> int:
        """Write up to ``limit`` queued lines (on an OBS thread); returns how many."""
        done = 0
        while done < limit:
            try:
                level, line = self.records.get_nowait()
            except queue.Empty:
                break
            self.write(level, line)
            done += 1
        return done
