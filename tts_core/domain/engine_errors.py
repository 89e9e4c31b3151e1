"""What can go wrong when an engine speaks, as the retry policy and the workers see it.

``engines.base`` exports these too: they are part of the contract an engine keeps.
"""

from __future__ import annotations


class EngineError(RuntimeError):
    """The engine could not synthesize this text (worth a retry, unless permanent)."""


class TransientEngineError(EngineError):
    """A failure that may pass: time-out, network error, HTTP 5xx. Retried with backoff."""


class EngineRateLimited(TransientEngineError):
    """The service throttles us (HTTP 429). ``retry_after``: seconds it asked us to wait
    (its Retry-After header), or None; the retry waits at least that long."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentEngineError(EngineError):
    """Retrying cannot help: unknown voice, bad key or region, a request the service
    refuses. The message fails at once (or goes to the next engine of the fallback
    chain); the text says what to fix."""


class EngineUnavailable(RuntimeError):
    """The engine cannot run on this machine; the message says why and how to fix it."""
