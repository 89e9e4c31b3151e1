"""Counters and latency percentiles behind get_stats()."""

from __future__ import annotations

import threading
from collections import deque

LATENCY_WINDOW = 1000  # latest messages the percentiles are computed over


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
        self._latencies_ms: deque[float] = deque(maxlen=LATENCY_WINDOW)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def record_latency(self, ms: float) -> None:
        with self._lock:
            self._latencies_ms.append(ms)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def latency_percentiles(self) -> dict[str, float | None]:
        with self._lock:
            values = sorted(self._latencies_ms)
        return {f"p{p}": _percentile(values, p) for p in (50, 95, 99)}


def _percentile(sorted_values: list[float], p: int) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1)))
    return round(sorted_values[index], 1)
