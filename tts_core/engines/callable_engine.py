"""The seed's engine form ``fn(text, **kwargs) -> bytes``, sync or async, as an Engine.

Async functions run on ``loop`` when it is running (the loop ``start()`` was awaited
on, so loop-bound clients keep working), else on a private loop of the worker thread.
``cancel_all()`` cancels every async call in flight: the queue calls it when it
stops, so an async engine never keeps a stopped queue waiting, and nothing it
returns afterwards is written anywhere.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import threading
from collections.abc import Callable
from typing import Any

from tts_core.engines.base import Engine, TransientEngineError


class CallableEngine(Engine):
    """Parameters: ``fn`` (sync or async), ``loop`` (the caller's running loop, or None)."""

    def __init__(self, fn: Callable[..., Any], loop: asyncio.AbstractEventLoop | None = None) -> None:
        if not callable(fn):
            raise TypeError(
                f"TTS engine must be callable (fn(text, **kwargs) -> bytes) or an Engine "
                f"(a subclass of tts_core.engines.Engine); got {type(fn).__name__}"
            )
        self.fn = fn
        self.loop = loop
        self.name = getattr(fn, "__qualname__", None) or type(fn).__name__
        self._lock = threading.Lock()
        self._in_flight: set[concurrent.futures.Future[Any]] = set()
        self._private: set[tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]] = set()

    def __repr__(self) -> str:
        return f"CallableEngine({self.name!r})"

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        kwargs = {k: v for k, v in (("voice", voice), ("rate", rate), ("volume", volume)) if v is not None}
        result = self.fn(text, **kwargs)
        if not inspect.isawaitable(result):
            return result
        loop = self.loop
        try:
            if loop is not None and loop.is_running():
                return self._on_loop(result, loop)
            return self._on_private_loop(result)
        except (asyncio.CancelledError, concurrent.futures.CancelledError):
            raise TransientEngineError("the engine call was cancelled: the queue stopped") from None

    def _on_loop(self, awaitable: Any, loop: asyncio.AbstractEventLoop) -> bytes:
        future = asyncio.run_coroutine_threadsafe(_await(awaitable), loop)
        with self._lock:
            self._in_flight.add(future)
        try:
            return future.result()
        finally:
            with self._lock:
                self._in_flight.discard(future)

    def _on_private_loop(self, awaitable: Any) -> bytes:
        loop = asyncio.new_event_loop()
        try:
            task = loop.create_task(_await(awaitable))
            entry = (loop, task)
            with self._lock:
                self._private.add(entry)
            try:
                return loop.run_until_complete(task)
            finally:
                with self._lock:
                    self._private.discard(entry)
        finally:
            loop.close()

    def cancel_all(self) -> int:
        with self._lock:
            futures, private = list(self._in_flight), list(self._private)
        for future in futures:
            future.cancel()
        for loop, task in private:
            with contextlib.suppress(RuntimeError):  # that call just ended and closed its loop
                loop.call_soon_threadsafe(task.cancel)
        return len(futures) + len(private)


async def _await(awaitable: Any) -> Any:
    return await awaitable


def as_engine(engine: object, loop: asyncio.AbstractEventLoop | None = None) -> Engine:
    """``engine`` as an Engine: an Engine as it is; a callable, or a seed-style object
    with ``generate_audio(text, **kwargs)``, through CallableEngine (async calls on
    ``loop``); raises TypeError for anything else."""
    if isinstance(engine, Engine):
        return engine
    if not callable(engine) and hasattr(engine, "generate_audio"):  # the seed's engine objects
        return CallableEngine(engine.generate_audio, loop)
    return CallableEngine(engine, loop)  # type: ignore[arg-type]
