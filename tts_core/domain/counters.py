"""The counts behind get_stats(), kept by the queue under its lock."""

from __future__ import annotations

import threading


class Counters:
    """Thread-safe counts of what happened to accepted messages.

    Invariant: accepted == played + failed + dropped + rejected + pending + in_flight.
    ``skipped`` clips are counted in ``played`` too (they started playing).
    """

    FIELDS = (
        "accepted",
        "played",
        "skipped",
        "failed",
        "dropped",
        "rejected",
        "retried",
        "worker_restarts",
        "engine_timeouts",
        "engine_calls",
        "fallbacks",
        "cache_hits",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(self.FIELDS, 0)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
