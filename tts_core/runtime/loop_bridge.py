"""Blocking lifecycle calls that work both called plainly and awaited (the seed's
``await manager.start()``), without ever blocking an event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Awaitable, Callable, Generator

THREAD_NAME = "tts-lifecycle"


class _Done:
    """Returned when the call already finished synchronously; ``await`` works too."""

    def __await__(self) -> Generator[None, None, None]:
        return
        yield  # pragma: no cover - makes this a generator


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread, or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class LoopBridge:
    """Runs ``call(loop)`` at once in a thread without a running loop; on a running loop,
    in one dedicated thread (so calls run in the order made) and returns its future.
    The thread ends after a call made with ``last=True`` (queued calls still run)."""

    def __init__(self) -> None:
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    def run(self, call: Callable[[asyncio.AbstractEventLoop | None], None], *, last: bool = False
            ) -> Awaitable[None]:
        loop = running_loop()
        if loop is None:
            call(None)
            return _Done()
        if self._executor is None:
            self._executor = concurrent.futures.ThreadPoolExecutor(1, THREAD_NAME)
        executor = self._executor
        future = loop.run_in_executor(executor, call, loop)
        if last:
            future.add_done_callback(lambda _: self._end(executor))
        return future

    def _end(self, executor: concurrent.futures.ThreadPoolExecutor) -> None:
        if self._executor is executor:
            self._executor = None
        executor.shutdown(wait=False)
