"""Token bucket that bounds engine calls per minute; callers wait, nothing is lost."""

from __future__ import annotations

import threading
import time

RECHECK_SECONDS = 0.25


class TokenBucket:
    """Allows ``burst`` calls at once, refilled at ``per_minute`` tokens a minute.

    Parameters: ``per_minute`` (0 = unlimited), ``burst`` (bucket size, >= 1).
    """

    def __init__(self, per_minute: float, burst: int = 1) -> None:
        self.per_minute = per_minute
        self.burst = max(1, burst)
        self._tokens = float(self.burst)
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.per_minute / 60.0)
        self._last = now

    def configure(self, per_minute: float, burst: int) -> None:
        """Change the rate live; tokens already saved are kept (up to the new burst)."""
        with self._lock:
            self._refill(time.monotonic())
            self.per_minute = per_minute
            self.burst = max(1, burst)
            self._tokens = min(self._tokens, float(self.burst))

    def refund(self) -> None:
        """Give back a token taken for work that turned out to be gone."""
        if self.per_minute <= 0:
            return
        with self._lock:
            self._tokens = min(float(self.burst), self._tokens + 1.0)

    def try_acquire(self) -> float:
        """Take a token and return 0.0, or return the seconds until one is available."""
        if self.per_minute <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            self._refill(now)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) * 60.0 / self.per_minute

    def acquire(self, cancel: threading.Event | None = None, timeout: float | None = None) -> bool:
        """Wait for a token; False if ``cancel`` was set or ``timeout`` ran out first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = self.try_acquire()
            if wait == 0.0:
                return True
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    return False
            wait = min(wait, RECHECK_SECONDS)  # a rate changed by configure() applies soon
            if cancel is not None:
                if cancel.wait(wait):
                    return False
            else:
                time.sleep(wait)
