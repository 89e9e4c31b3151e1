"""Helpers for the captions overlay tests: a real queue and listener whose clips play in
real time, a bot connection that speaks, and a sampler inside the page that records which
word is highlighted, every few milliseconds, for the test to read afterwards."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from doubles import wait_until
from websockets.sync.client import connect

from tts_core import TTSConfig, TTSQueueManager
from tts_core.listener import ListenerServer
from tts_core.sinks.realtime import RealtimeSink

# Ten words espeak-ng speaks in about 3.5 s.
SPOKEN = "one two three four five six seven eight nine ten"
PAGE_TIMEOUT_MS = 30_000  # generous: only a failing test waits this long

# Runs in the page: records the highlighted word every 10 ms (timers, never a sleep in the test).
SAMPLER = """() => {
  const box = document.querySelector('.tts-caption');
  window.samples = [];
  setInterval(() => {
    const current = document.querySelector('.tts-word.current');
    window.samples.push({t: performance.now(), hidden: box.hidden,
                         index: current ? Number(current.dataset.index) : null,
                         text: current ? current.textContent : null,
                         shown: [...document.querySelectorAll('.tts-word')].map(w => w.textContent)});
  }, 10);
}"""
SHOWN_THEN_HIDDEN = """() => window.samples.some(s => !s.hidden)
                            && document.querySelector('.tts-caption').hidden"""


@dataclass
class Stack:
    manager: TTSQueueManager
    server: ListenerServer
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def speak(self, text: str = SPOKEN, username: str = "Alice", token: str = "") -> str:
        """Queue ``text`` through a bot's WebSocket; returns its message id."""
        with connect(f"ws://127.0.0.1:{self.server.port}/", open_timeout=5) as ws:
            if token:
                ws.send(json.dumps({"request": "Authenticate", "token": token, "id": "a"}))
                assert json.loads(ws.recv(timeout=5))["status"] == "ok"
            ws.send(json.dumps({"type": "tts", "text": text, "username": username, "id": "s"}))
            reply = json.loads(ws.recv(timeout=5))
        assert reply["status"] == "ok", reply
        return str(reply["message_id"])

    def request(self, name: str) -> None:
        """Send the request ``name`` (Skip, Stop, ...) as a bot would."""
        with connect(f"ws://127.0.0.1:{self.server.port}/", open_timeout=5) as ws:
            ws.send(json.dumps({"request": name, "id": "r"}))
            assert json.loads(ws.recv(timeout=5))["status"] == "ok"

    def event(self, name: str, message_id: str, timeout: float = 30.0) -> dict[str, Any]:
        """The event ``name`` about ``message_id``, once it was published."""
        def found() -> dict[str, Any] | None:
            return next((e for e in list(self.events)
                         if e["event"] == name and e["message_id"] == message_id), None)
        assert wait_until(found, timeout), f"no {name} for {message_id}: {self.events}"
        event = found()
        assert event is not None
        return event


@contextmanager
def captions_stack(make_manager: Callable[..., TTSQueueManager], engine: object,
                   **listener: Any) -> Iterator[Stack]:
    """A started queue with ``engine``, clips held for their real duration, and a listener."""
    config = TTSConfig(rate_limit_per_minute=0)
    config.listener.port = 0
    for key, value in listener.items():
        setattr(config.listener, key, value)
    manager = make_manager(config, engine=engine, sink=RealtimeSink())
    stack = Stack(manager, ListenerServer(manager))
    manager.subscribe(stack.events.append)
    manager.start()
    stack.server.start()
    try:
        yield stack
    finally:
        stack.server.stop()


def open_overlay(page: Any, stack: Stack, query: str = "") -> None:
    """Open the overlay, wait until it subscribed, and start the sampler."""
    page.goto(f"{stack.http}/overlay{query}")
    page.wait_for_function("() => document.documentElement.dataset.captions === 'ready'",
                           timeout=PAGE_TIMEOUT_MS)
    page.evaluate(SAMPLER)


def samples_of_one_clip(page: Any) -> list[dict[str, Any]]:
    """The samples taken while the caption was shown, once it has been shown and hidden again."""
    page.wait_for_function(SHOWN_THEN_HIDDEN, timeout=PAGE_TIMEOUT_MS)
    samples: list[dict[str, Any]] = page.evaluate("window.samples")
    return [s for s in samples if not s["hidden"]]


def highlighted(samples: list[dict[str, Any]]) -> list[int]:
    """The highlighted word's index in every sample that has one."""
    return [s["index"] for s in samples if s["index"] is not None]


def first_seen(samples: list[dict[str, Any]]) -> dict[int, float]:
    """When (page time, ms) each word index was first highlighted."""
    seen: dict[int, float] = {}
    for s in samples:
        if s["index"] is not None:
            seen.setdefault(s["index"], s["t"])
    return seen
