"""The event bus: events are delivered on one dispatcher thread, in order, so a slow or
failing subscriber never stalls the player or the workers."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from tts_core.domain.events import Event, Subscriber

log = logging.getLogger(__name__)

FLUSH_TIMEOUT_SECONDS = 10.0


class EventBus:
    """Fan-out of events to subscribers on a dedicated thread.

    ``flush()`` waits until every event published so far has been delivered, so a
    caller (a test, a command that prints what happened) never sleeps to let events
    through.
    """

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._delivery = threading.Condition(threading.Lock())
        self._published = 0  # events queued for delivery so far
        self._delivered = 0

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Register ``callback(event)``; returns a function that unsubscribes it."""
        if not callable(callback):
            raise TypeError(f"subscriber must be callable, got {type(callback).__name__}")
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, event: Event) -> None:
        log.info("%s %s %s", event["event"], event["message_id"], event["priority"])
        if self._subscribers:
            with self._delivery:
                self._published += 1
                self._queue.put(event)

    def flush(self, timeout: float | None = FLUSH_TIMEOUT_SECONDS) -> bool:
        """Block until every event published before this call has been delivered to the
        subscribers; False if ``timeout`` ran out, or if the bus is not running (then
        they wait for ``start``). Called from a subscriber, it returns at once."""
        thread = self._thread
        if thread is threading.current_thread():
            return False
        with self._delivery:
            target = self._published
            if thread is None or not thread.is_alive():
                return self._delivered >= target
            return self._delivery.wait_for(lambda: self._delivered >= target, timeout)

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="tts-events", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Deliver every event published so far (within ``timeout``), then end the thread."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            with self._lock:
                subscribers = list(self._subscribers)
            for callback in subscribers:
                try:
                    callback(event)
                except Exception:
                    log.exception("event subscriber %r failed on %s", callback, event["event"])
            with self._delivery:
                self._delivered += 1
                self._delivery.notify_all()
