"""Pushed events: an event after a quiet spell is written at once; a burst goes out in a
few large writes (at most one per FLUSH_INTERVAL_SECONDS), every event once, in order."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from doubles import wait_until

from tts_core.listener.push import FLUSH_INTERVAL_SECONDS, EventPush


class FakeManager:
    """Just the event bus side: ``publish`` calls the subscriber from this (test) thread,
    as the manager's event thread does."""

    def __init__(self) -> None:
        self.callback: Callable[[dict[str, Any]], None] | None = None

    def subscribe(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        self.callback = callback
        return lambda: setattr(self, "callback", None)

    def publish(self, n: int) -> None:
        assert self.callback is not None
        self.callback({"event": "queued", "message_id": f"m{n}", "priority": "NORMAL", "text": f"event {n}"})


class Page:
    """A subscriber that records each write: (loop time, the events' ids)."""

    peer = "127.0.0.1:1"

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.writes: list[tuple[float, list[str]]] = []
        self.after_first_write: Callable[[], None] | None = None

    def send(self, texts: list[str]) -> bool:
        if self.after_first_write is not None and not self.writes:
            self.loop.call_soon(self.after_first_write)
        self.writes.append((self.loop.time(), [json.loads(text)["message_id"] for text in texts]))
        return True

    async def close(self, code: int, reason: str) -> None:
        raise AssertionError("a page that reads is never closed")

    def ids(self) -> list[str]:
        return [i for _, ids in list(self.writes) for i in ids]


@pytest.fixture
def rig() -> Iterator[tuple[asyncio.AbstractEventLoop, FakeManager, Page]]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-loop", daemon=True)
    thread.start()
    manager, page = FakeManager(), Page(loop)
    push = EventPush(manager, loop)  # type: ignore[arg-type]  # only subscribe() is used
    loop.call_soon_threadsafe(push.set, page, frozenset({"queued"}))
    assert wait_until(lambda: manager.callback is not None)
    try:
        yield loop, manager, page
    finally:
        loop.call_soon_threadsafe(push.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def test_an_event_after_a_quiet_spell_is_written_at_once_and_alone(rig, monkeypatch):
    _, manager, page = rig
    # With a minute between writes, an event that waited for the interval would miss this wait.
    monkeypatch.setattr("tts_core.listener.push.FLUSH_INTERVAL_SECONDS", 60.0)
    manager.publish(0)
    assert wait_until(lambda: page.ids() == ["m0"], timeout=20)
    assert len(page.writes) == 1


def test_a_burst_goes_out_in_one_write_every_event_once_in_order(rig):
    loop, manager, page = rig
    busy, release = threading.Event(), threading.Event()

    def hold_the_loop() -> None:  # the loop is busy with other clients while the burst arrives
        busy.set()
        release.wait(10)

    loop.call_soon_threadsafe(hold_the_loop)
    assert busy.wait(5)
    for n in range(200):
        manager.publish(n)
    release.set()
    expected = [f"m{n}" for n in range(200)]
    assert wait_until(lambda: page.ids() == expected)
    assert len(page.writes) == 1


def test_events_right_after_a_write_wait_for_the_interval_then_go_together(rig):
    _, manager, page = rig
    page.after_first_write = lambda: (manager.publish(1), manager.publish(2))  # arrive just after it
    manager.publish(0)
    assert wait_until(lambda: page.ids() == ["m0", "m1", "m2"])
    (first, _), (second, ids) = page.writes
    assert ids == ["m1", "m2"]
    assert second - first >= FLUSH_INTERVAL_SECONDS - 0.002  # a timer may run up to 1 ms early
