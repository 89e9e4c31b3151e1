"""Start, stop, ``with`` and the aiohttp app on 127.0.0.1 for the loopback fakes that serve
on a thread and asyncio loop of their own (Twitch, StreamElements, Streamlabs)."""

from __future__ import annotations

import asyncio
import ssl
import threading
from typing import Any, TypeVar

from aiohttp import web

Server = TypeVar("Server", bound="ServerThread")


class ServerThread:
    """A subclass sets ``NAME``, calls ``super().__init__()`` and implements ``_app()`` (the
    aiohttp application it serves) and the coroutine ``_close_connections()`` (what it closes
    before the app stops); ``_ssl_context()`` serves https/wss."""

    NAME = "fake server"

    def __init__(self) -> None:
        self.port = 0  # the port it listens on, once started (and again after a restart)
        self._cond = threading.Condition()  # guards what the tests look at; notified on changes
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

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

    def wait(self, condition: Any, timeout: float = 20.0) -> bool:
        """Until ``condition()`` holds (checked at each change the server notifies); False on timeout."""
        with self._cond:
            return self._cond.wait_for(condition, timeout)

    def _call(self, coroutine: Any) -> Any:
        """Run ``coroutine`` on the server's loop and return its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    def _serve(self, started: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        # no access log: it would log the tokens some clients send in the query string
        self._runner = web.AppRunner(self._app(), handle_signals=False, access_log=None)
        loop.run_until_complete(self._runner.setup())
        # port 0 at first, then the same again
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, ssl_context=self._ssl_context())
        loop.run_until_complete(site.start())
        self.port = self._runner.addresses[0][1]
        started.set()
        try:
            loop.run_forever()
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def _shutdown(self) -> None:
        await self._close_connections()
        if self._runner is not None:
            await self._runner.cleanup()

    def _app(self) -> web.Application:
        raise NotImplementedError

    def _ssl_context(self) -> ssl.SSLContext | None:
        return None

    async def _close_connections(self) -> None:
        raise NotImplementedError
