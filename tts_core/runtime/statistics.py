"""Statistics: how long accepted messages waited before they started playing.

The counts behind ``get_stats()`` (accepted, played, failed ...) change with the
queue's transitions, under its lock (tts_core.domain.counters.Counters), so that the
accounting invariant holds at any instant; this piece keeps what is measured.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence

from tts_core.domain.message import TTSMessage
from tts_core.runtime.lifecycle import LifecyclePiece

LATENCY_WINDOW = 1000  # latest messages the percentiles are computed over
LATENCY_PERCENTILES = (50, 95, 99)


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) of ``values`` by the nearest rank; raises
    ValueError when ``values`` is empty."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Statistics(LifecyclePiece):
    """Latency from acceptance to the start of playback, over the last ``window`` messages.

    Parameters: ``window`` (messages kept, default LATENCY_WINDOW).
    """

    def __init__(self, window: int = LATENCY_WINDOW) -> None:
        self._lock = threading.Lock()
        self._latencies_ms: deque[float] = deque(maxlen=window)

    def started(self, msg: TTSMessage, latency_ms: float) -> None:
        with self._lock:
            self._latencies_ms.append(latency_ms)

    def latency_ms(self) -> dict[str, float | None]:
        """``{"p50": ms, "p95": ms, "p99": ms}``, rounded to 0.1 ms; None before any clip played."""
        with self._lock:
            values = list(self._latencies_ms)
        return {f"p{p}": round(percentile(values, p), 1) if values else None for p in LATENCY_PERCENTILES}
