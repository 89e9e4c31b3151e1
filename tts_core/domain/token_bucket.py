"""The one token bucket: it bounds engine calls per minute (callers wait, nothing is
lost) and frames per second on a listener connection (beyond it a frame is refused).

The clock is injected, so the arithmetic is tested without sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

RECHECK_SECONDS = 0.25  # a blocked acquire() looks again this often, so configure() applies soon


class TokenBucket:
    """Allows ``burst`` takes at once, refilled at ``per_minute`` tokens a minute.

    Parameters: ``per_minute`` (0 = unlimited), ``burst`` (bucket size, at least 1; the
    bucket starts full), ``clock`` (seconds, monotonic). Thread-safe.
    """

    def __init__(self, per_minute: float, burst: float = 1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.burst = max(1.0, float(burst))
        self.clock = clock
        self._tokens = self.burst
        self._last = clock()
        self._lock = threading.Lock()

    @classmethod
    def per_second(cls, rate: float, clock: Callable[[], float] = time.monotonic) -> TokenBucket:
        """``rate`` takes a second (0 = unlimited), in bursts of one second's worth."""
        return cls(rate * 60.0, max(1.0, rate), clock)

    @property
    def unlimited(self) -> bool:
        return self.per_minute <= 0

    def configure(self, per_minute: float, burst: float) -> None:
        """Change the rate live; tokens already saved are kept (up to the new burst)."""
        with self._lock:
            self._refill()
            self.per_minute = per_minute
            self.burst = max(1.0, float(burst))
            self._tokens = min(self._tokens, self.burst)

    def try_take(self) -> float:
        """Take a token and return 0.0, or return the seconds until one is there (none taken)."""
        if self.unlimited:
            return 0.0
        with self._lock:
            self._refill()
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) * 60.0 / self.per_minute

    def refund(self) -> None:
        """Give back a token taken for work that turned out to be gone."""
        if self.unlimited:
            return
        with self._lock:
            self._tokens = min(self.burst, self._tokens + 1.0)

    def acquire(self, cancel: threading.Event | None = None, timeout: float | None = None) -> bool:
        """Wait for a token and take it; False if ``cancel`` was set or ``timeout`` seconds
        (of ``clock``) ran out first."""
        cancel = cancel or threading.Event()
        deadline = None if timeout is None else self.clock() + timeout
        while True:
            wait = self.try_take()
            if wait == 0.0:
                return True
            if deadline is not None:
                wait = min(wait, deadline - self.clock())
                if wait <= 0:
                    return False
            if cancel.wait(min(wait, RECHECK_SECONDS)):
                return False

    def _refill(self) -> None:
        now = self.clock()
        if self.per_minute > 0:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.per_minute / 60.0)
        self._last = now
