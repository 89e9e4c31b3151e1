"""Log records into OBS's log from any thread: queued here, written on OBS's thread.

Python scripts write to the OBS log with ``obspython.script_log``; like every
obspython call it belongs on an OBS thread, so records from the player, workers and
listener wait in a queue that the pump flushes each frame (and the script once more
at unload).
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable

# obspython's LOG_ERROR, LOG_WARNING, LOG_INFO, LOG_DEBUG
OBS_LEVELS = ((logging.ERROR, 100), (logging.WARNING, 200), (logging.INFO, 300), (logging.DEBUG, 400))
FLUSH_LIMIT = 50


def obs_level(levelno: int) -> int:
    for python_level, obs_level_value in OBS_LEVELS:
        if levelno >= python_level:
            return obs_level_value
    return 400


class QueuedLogHandler(logging.Handler):
    """Parameters: ``write(obs_level, line)`` (``obspython.script_log``), ``level``."""

    def __init__(self, write: Callable[[int, str], None], level: int = logging.INFO) -> None:
        super().__init__(level)
        self.write = write
        self.records: queue.SimpleQueue[tuple[int, str]] = queue.SimpleQueue()
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.records.put((obs_level(record.levelno), self.format(record)))
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
