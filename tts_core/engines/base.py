"""The Engine protocol, the Voice record, and the adapter for plain callables."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


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


@dataclass(frozen=True)
class Voice:
    """A voice an engine offers. ``id`` is what ``voice=`` takes."""

    id: str
    name: str
    language: str = ""
    gender: str = ""
    file: str = ""  # the engine's own file or path name for the voice, if any


@runtime_checkable
class Engine(Protocol):
    """Turns text into audio bytes (WAV or MP3).

    ``synthesize`` may be called from several worker threads at once; an engine
    that cannot do that serializes internally. ``voice``/``rate``/``volume`` None
    means the engine's default (rate in words per minute, volume 0.0-1.0).
    """

    name: str

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes: ...

    def list_voices(self) -> list[Voice]: ...

    def close(self) -> None: ...


class SpeaksToCheck:
    """For engines whose health is best told by speaking: ``health()`` synthesizes a short
    text and returns None or what went wrong; ``check()`` does so with a default-built
    engine (``obs-tts doctor``)."""

    def synthesize(self, text: str, voice: str | None = None, rate: int | None = None,
                   volume: float | None = None) -> bytes:
        raise NotImplementedError

    def health(self) -> str | None:
        try:
            self.synthesize("test")
        except EngineError as exc:
            return str(exc)
        return None

    @classmethod
    def check(cls) -> str | None:
        try:
            return cls().health()
        except (EngineUnavailable, EngineError) as exc:
            return str(exc)


class CallableEngine:
    """Wraps the seed's engine form: ``fn(text, **kwargs) -> bytes``, sync or async.

    Async functions run on ``loop`` when it is running (the loop ``start()`` was
    awaited on, so loop-bound clients keep working), else on a private loop.
    """

    name = "callable"

    def __init__(self, fn: Callable[..., Any], loop: asyncio.AbstractEventLoop | None = None) -> None:
        if not callable(fn):
            raise TypeError(
                f"TTS engine must be callable (fn(text, **kwargs) -> bytes) or an Engine "
                f"object with synthesize(); got {type(fn).__name__}"
            )
        self.fn = fn
        self.loop = loop
        self.name = getattr(fn, "__qualname__", None) or type(fn).__name__

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        kwargs = {k: v for k, v in (("voice", voice), ("rate", rate), ("volume", volume)) if v is not None}
        result = self.fn(text, **kwargs)
        if inspect.isawaitable(result):
            loop = self.loop
            if loop is not None and loop.is_running():
                return asyncio.run_coroutine_threadsafe(_await(result), loop).result()
            return asyncio.run(_await(result))
        return result

    def list_voices(self) -> list[Voice]:
        return []

    def close(self) -> None:
        pass


async def _await(awaitable: Any) -> Any:
    return await awaitable


def as_engine(engine: object, loop: asyncio.AbstractEventLoop | None = None) -> Engine:
    """Accept an Engine object or a callable; raise TypeError for anything else."""
    if isinstance(engine, Engine):
        return engine
    if hasattr(engine, "generate_audio") and callable(engine.generate_audio):
        return CallableEngine(engine.generate_audio, loop)
    return CallableEngine(engine, loop)  # type: ignore[arg-type]
