"""Retries: what happens after an engine call failed (dramatiq's Retries middleware, for us).

- ``PermanentEngineError`` (unknown voice, bad key, a request the service refuses) and
  audio that is neither WAV nor MP3: the message fails at once; retrying cannot help.
- ``EngineRateLimited`` (HTTP 429): retried, after at least the ``retry_after`` the
  service asked for (and never sooner than the backoff).
- A time-out, ``TransientEngineError``, any other ``EngineError`` or exception: retried
  with exponential backoff (``backoff`` seconds, doubled each attempt, capped at
  ``MAX_BACKOFF_SECONDS``).

Any message fails once it has had ``max_retries`` retries.
"""

from __future__ import annotations

from dataclasses import dataclass

from tts_core.domain.audio import AudioFormatError
from tts_core.domain.engine_errors import EngineError, EngineRateLimited, PermanentEngineError

MAX_BACKOFF_SECONDS = 30.0


@dataclass(frozen=True)
class Verdict:
    """``retry``: try again after ``delay`` seconds; else fail with ``error``."""

    retry: bool
    delay: float
    error: str


class RetryPolicy:
    """Parameters: ``max_retries`` (retries after the first attempt), ``backoff`` (first
    retry delay in seconds), ``max_backoff`` (cap of the doubling)."""

    def __init__(self, max_retries: int, backoff: float, max_backoff: float = MAX_BACKOFF_SECONDS) -> None:
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff

    def after_failure(self, error: BaseException, attempts: int) -> Verdict:
        """Decide about a message whose attempt number ``attempts`` raised ``error``."""
        if isinstance(error, PermanentEngineError):
            return Verdict(False, 0.0, str(error))
        if isinstance(error, AudioFormatError):
            return Verdict(False, 0.0, f"engine returned unplayable audio: {error}")
        text = describe(error)
        if attempts > self.max_retries:
            return Verdict(False, 0.0, text)
        delay = min(self.max_backoff, self.backoff * 2 ** (attempts - 1))
        if isinstance(error, EngineRateLimited) and error.retry_after is not None:
            delay = max(delay, error.retry_after)
        return Verdict(True, delay, text)


def describe(error: BaseException) -> str:
    """``Type: text`` for unexpected errors; our own engine errors speak for themselves."""
    if isinstance(error, EngineError):
        return str(error) or type(error).__name__
    return f"{type(error).__name__}: {error}"
