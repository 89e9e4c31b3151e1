"""Start, stop and ``with`` for the loopback fakes that serve on a thread and asyncio loop
of their own (Twitch, StreamElements, Streamlabs)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, TypeVar

Server = TypeVar("Server", bound="ServerThread")


class ServerThread:
    """A subclass sets ``NAME`` and implements ``_serve(started)`` (sets ``_loop`` and
    ``_runner``, sets ``started`` once it listens, runs the loop until stopped) and the
    coroutine ``_shutdown()``."""

    NAME = "fake server"
    _loop: asyncio.AbstractEventLoop | None = None
    _runner: Any = None
    _thread: threading.Thread | None = None

    def start(self: Server) -> Server:
        started = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(started,),
                                        name=self.NAME.replace(" ", "-").lower(), daemon=True)
        self._thread.start()
        if not started.wait(20):
            raise RuntimeError(f"the {self.NAME} did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is not None and self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self: Server) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, started: threading.Event) -> None:
        raise NotImplementedError

    async def _shutdown(self) -> None:
        raise NotImplementedError
