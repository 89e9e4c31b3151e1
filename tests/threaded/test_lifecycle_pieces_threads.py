"""EventBus.flush on the bus's own thread."""

from __future__ import annotations

import threading

from tts_core.domain.events import Event
from tts_core.domain.message import MessagePriority, TTSMessage
from tts_core.runtime.bus import EventBus


def _msg(text: str = "hello", seq: int = 1) -> TTSMessage:
    return TTSMessage(text=text, priority=MessagePriority.NORMAL, seq=seq)


def test_flush_returns_once_everything_published_so_far_is_delivered():
    bus, delivered, gate = EventBus(), [], threading.Event()

    def slow(event: Event) -> None:
        gate.wait(5)
        delivered.append(event["message_id"])

    bus.subscribe(slow)
    msg = _msg()
    bus.publish({"event": "queued", "message_id": msg.id, "priority": "NORMAL"})
    assert not bus.flush(0), "not running: nothing is delivered yet"
    bus.start()
    try:
        assert not bus.flush(0.01), "the subscriber is still busy"
        gate.set()
        assert bus.flush()
        assert delivered == [msg.id]
    finally:
        bus.stop()


def test_flush_from_a_subscriber_does_not_wait_for_itself():
    bus, answers = EventBus(), []
    bus.subscribe(lambda event: answers.append(bus.flush()))
    bus.start()
    try:
        bus.publish({"event": "queued", "message_id": "x", "priority": "NORMAL"})
        assert bus.flush()
        assert answers == [False]
    finally:
        bus.stop()

