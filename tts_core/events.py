"""The event bus: one dict shape for Python callbacks, WebSocket push and logs.

Events are delivered on one dispatcher thread, in order, so a slow or failing
subscriber never stalls the player or the workers.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from tts_core.message import TTSMessage

log = logging.getLogger(__name__)

EVENT_NAMES = (
    "queued",
    "playback_started",
    "playback_finished",
    "skipped",
    "failed",
    "dropped",
    "rejected",
    "filtered",  # an event not spoken by design (no message_id); carries stage and reason
)

Event = dict[str, Any]
Subscriber = Callable[[Event], None]


def event_dict(name: str, message_id: str | None, priority: str, text: str, *, event_type: str = "tts",
               username: str | None = None, **extra: Any) -> Event:
    """The one event shape: ``event``, ``message_id``, ``priority``, ``text``, ``ts``, then
    ``event_type`` (when not ``tts``), ``username`` (when known) and ``extra``."""
    event: Event = {"event": name, "message_id": message_id, "priority": priority, "text": text,
                    "ts": time.time()}
    if event_type != "tts":
        event["event_type"] = event_type
    if username:
        event["username"] = username
    event.update(extra)
    return event


def make_event(name: str, msg: TTSMessage, **extra: Any) -> Event:
    """An event about ``msg`` (also its voice, and the engine that spoke it)."""
    about: dict[str, Any] = {}
    if msg.voice:
        about["voice"] = msg.voice
    if msg.engine:
        about["engine"] = msg.engine
        if msg.fallback_from:
            about["fallback_from"] = msg.fallback_from
    return event_dict(name, msg.id, msg.priority.name, msg.text, event_type=msg.event_type,
                      username=msg.username, **about, **extra)


def filtered_event(event_type: str, username: str | None, priority: str, text: str, stage: str,
                   reason: str) -> Event:
    """An event that is not spoken by design (no message id): which stage stopped it and why."""
    return event_dict("filtered", None, priority, text, event_type=event_type, username=username,
                      stage=stage, reason=reason)


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
