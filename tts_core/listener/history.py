"""History: how the last messages ended, for ``GetHistory`` (the dashboard shows it on open).

A bounded ring of the queue's end events (played, skipped, failed, dropped, rejected,
filtered), newest last, each with its reason and stage when it has one. It listens to
the manager's event bus from the listener's start to its stop, whether or not a client
is subscribed, so a page opened later still sees what happened before it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from tts_core.domain.events import Event
from tts_core.runtime.manager import TTSQueueManager

HISTORY_SIZE = 200  # end events kept; GetHistory's largest limit
ENDINGS = frozenset({"playback_finished", "skipped", "failed", "dropped", "rejected", "filtered"})


class History:
    """The last ``size`` end events of ``manager``'s queue. ``start()`` listens, ``stop()``
    stops; ``recent(limit)`` is safe from any thread."""

    def __init__(self, manager: TTSQueueManager, size: int = HISTORY_SIZE) -> None:
        self.manager = manager
        self.size = size
        self._ends: deque[Event] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._unsubscribe: Callable[[], None] | None = None

    def start(self) -> None:
        if self._unsubscribe is None:
            self._unsubscribe = self.manager.subscribe(self.record)

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def record(self, event: Event) -> None:
        """Keep ``event`` if it says how a message ended (the manager's event thread)."""
        if event.get("event") in ENDINGS:
            with self._lock:
                self._ends.append(event)

    def recent(self, limit: int = HISTORY_SIZE) -> list[dict[str, Any]]:
        """Up to ``limit`` end events, newest first (copies)."""
        with self._lock:
            newest = list(self._ends)[-limit:] if limit > 0 else []
        return [dict(event) for event in reversed(newest)]
