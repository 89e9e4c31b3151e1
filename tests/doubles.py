"""In-memory engines and sinks for unit tests (dramatiq's `stub` idea), and the helpers
every test shares: waiting on a condition, the accounting invariant, the event log and
the one policy for tests the environment cannot run (`skip_or_fail`).

The real engines and sinks are exercised for real elsewhere; these make timing and
failures controllable so queue semantics can be checked exactly.
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, NoReturn

import pytest

from tts_core import TTSQueueManager
from tts_core.domain.audio import Clip, silent_wav
from tts_core.domain.message import TTSMessage
from tts_core.engines.base import Engine
from tts_core.sinks.base import Sink


class ToneEngine(Engine):
    """Returns a silent WAV of ``duration_ms`` (or per-text durations) and records calls."""

    name = "tone"

    def __init__(self, duration_ms: int = 5, durations: dict[str, int] | None = None) -> None:
        self.duration_ms = duration_ms
        self.durations = durations or {}
        self.calls: list[tuple[str, float]] = []
        self._lock = threading.Lock()

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        with self._lock:
            self.calls.append((text, time.monotonic()))
        return silent_wav(self.durations.get(text, self.duration_ms), sample_rate=8000)


class FlakyEngine(ToneEngine):
    """Fails ``fail_rate`` of calls at random (seeded), like a throttled cloud voice."""

    def __init__(self, fail_rate: float, seed: int = 1, duration_ms: int = 2) -> None:
        super().__init__(duration_ms)
        self.fail_rate = fail_rate
        self.random = random.Random(seed)
        self.failures = 0

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        with self._lock:
            fail = self.random.random() < self.fail_rate
            if fail:
                self.failures += 1
        if fail:
            raise ConnectionError("HTTP 429 Too Many Requests")
        return super().synthesize(text)


class HangingEngine(ToneEngine):
    """Never returns for texts in ``hang_on`` (until ``release`` is set)."""

    def __init__(self, hang_on: set[str], first_call_only: bool = False) -> None:
        super().__init__(5)
        self.hang_on = hang_on
        self.first_call_only = first_call_only
        self.release = threading.Event()
        self.hung: list[str] = []

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        if text in self.hang_on and not (self.first_call_only and text in self.hung):
            self.hung.append(text)
            self.release.wait(30)
        return super().synthesize(text)


@dataclass
class Played:
    message_id: str
    priority: str
    text: str
    start: float
    end: float
    skipped: bool
    seq: int = 0


@dataclass
class RecordingSink(Sink):
    """Holds each clip for its duration (like RealtimeSink) and records what played when.

    ``max_concurrent`` counts clips inside play() at once: it must never exceed 1.
    """

    speed: float = 1.0
    name: str = "recording"
    played: list[Played] = field(default_factory=list)
    max_concurrent: int = 0
    on_start: Any = None
    _active: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None:
        with self._lock:
            self._active += 1
            self.max_concurrent = max(self.max_concurrent, self._active)
        start = time.monotonic()
        try:
            if self.on_start is not None:
                self.on_start(message)
            deadline = start + clip.duration_ms * self.speed / 1000
            while not stop.is_set() and time.monotonic() < deadline:
                stop.wait(max(0.0, deadline - time.monotonic()))
        finally:
            with self._lock:
                self._active -= 1
            self.played.append(
                Played(
                    message.id,
                    message.priority.name,
                    message.text,
                    start,
                    time.monotonic(),
                    stop.is_set(),
                    message.seq,
                )
            )

    def ids(self) -> list[str]:
        return [p.message_id for p in self.played]


def wait_until(condition: Any, timeout: float = 20.0) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` seconds pass; its last value as a bool.
    Generous by default: it only ever waits that long when the test is failing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return bool(condition())


def on_ci() -> bool:
    """True when the environment variable CI is "true" (as CI services set it)."""
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str, *, required: bool = False) -> NoReturn:
    """Skip the running test for an environmental reason (a program not installed, a port
    taken, no root), or fail it loudly under CI=true or when ``required``: there a
    skipped test would hide exactly what it exists to catch.

    Parameters: ``reason`` says what is missing and how to provide it; ``required`` fails
    outside CI too (e.g. OBS_TTS_REQUIRE_E2E=1)."""
    __tracebackhide__ = True  # pytest reports the caller's line, not this one
    if required or on_ci():
        why = "CI=true" if on_ci() else "required here"
        pytest.fail(f"{reason} ({why}: a test that cannot run fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def assert_accounting(manager: TTSQueueManager) -> dict[str, Any]:
    """The invariant: every accepted message is played, failed, dropped, rejected or pending."""
    s = manager.get_stats()
    total = s["played"] + s["failed"] + s["dropped"] + s["rejected"] + s["pending"] + s["in_flight"]
    assert s["accepted"] == total, f"accounting broken: {s}"
    return s


class EventLog:
    """Collects events from manager.subscribe; wait_for blocks until one matches."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._cond = threading.Condition()

    def __call__(self, event: dict[str, Any]) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def named(self, name: str) -> list[dict[str, Any]]:
        with self._cond:
            return [e for e in self.events if e["event"] == name]

    def wait_for(self, name: str, message_id: str | None = None, timeout: float = 10.0) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            for e in self.events:
                if e["event"] == name and (message_id is None or e["message_id"] == message_id):
                    return e
            return None

        with self._cond:
            found = self._cond.wait_for(find, timeout)
        assert found, f"no {name} event for {message_id} within {timeout} s; got {self.events[-5:]}"
        return found
