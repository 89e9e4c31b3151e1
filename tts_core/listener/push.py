"""Pushes the queue's events to the WebSocket clients that subscribed to them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Protocol

from tts_core.domain.events import Event
from tts_core.listener.protocol import encode
from tts_core.runtime.manager import TTSQueueManager

log = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 1008
FLUSH_INTERVAL_SECONDS = 0.01  # a burst: its events go out together, one write at most this often


class Subscriber(Protocol):
    peer: str

    def send(self, texts: list[str]) -> bool: ...

    async def close(self, code: int, reason: str) -> None: ...


class EventPush:
    """Pushes the manager's events to subscribed WebSocket clients.

    The manager calls back on its event thread; events are batched into one loop
    callback (not one per event). The listener subscribes to the manager only while
    some client is subscribed, so an unwatched queue pays nothing.

    Parameters: ``manager``, ``loop`` (the listener's).
    """

    def __init__(self, manager: TTSQueueManager, loop: asyncio.AbstractEventLoop) -> None:
        self.manager = manager
        self.loop = loop
        self._subscribers: dict[Subscriber, frozenset[str]] = {}
        self._pending: deque[Event] = deque()
        self._lock = threading.Lock()
        self._scheduled = False
        self._last_flush = -FLUSH_INTERVAL_SECONDS
        self._unsubscribe: Callable[[], None] | None = None

    def set(self, client: Subscriber, names: frozenset[str]) -> None:
        """Push ``names`` to ``client`` from now on (empty: nothing)."""
        if names:
            self._subscribers[client] = names
        else:
            self._subscribers.pop(client, None)
        if self._subscribers and self._unsubscribe is None:
            self._unsubscribe = self.manager.subscribe(self._on_event)
        elif not self._subscribers and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def close(self) -> None:
        self._subscribers.clear()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event: Event) -> None:  # manager's event thread
        with self._lock:
            self._pending.append(event)
            if self._scheduled:
                return
            self._scheduled = True
        with contextlib.suppress(RuntimeError):  # loop closed: the listener is stopping
            self.loop.call_soon_threadsafe(self._arm)

    def _arm(self) -> None:  # loop thread
        """Flush now, or, within FLUSH_INTERVAL of the last flush, at its end: an event
        after a quiet spell goes out at once, a burst goes out in a few large writes."""
        now = self.loop.time()
        when = self._last_flush + FLUSH_INTERVAL_SECONDS
        if when <= now:
            self._flush()
        else:
            self.loop.call_at(when, self._flush)

    def _flush(self) -> None:  # loop thread
        self._last_flush = self.loop.time()
        with self._lock:
            events = list(self._pending)
            self._pending.clear()
            self._scheduled = False
        texts = [(event["event"], encode(event)) for event in events]
        for client, names in list(self._subscribers.items()):
            wanted = [text for name, text in texts if name in names]
            if wanted and not client.send(wanted):
                log.warning("listener: subscriber %s is too slow; disconnecting it", client.peer)
                self._subscribers.pop(client, None)
                self.loop.create_task(client.close(CLOSE_TOO_SLOW, "subscriber too slow"))
