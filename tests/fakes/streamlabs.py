"""A loopback Streamlabs Socket API: a real python-socketio ``AsyncServer`` on aiohttp, on its
own thread and loop, on 127.0.0.1.

Like Streamlabs, it takes the socket token from the query string (``?token=...``) and
refuses a connection with another token (socket.io ``CONNECT_ERROR``, what a server's
connect handler answers when it refuses; what Streamlabs itself says then is not
documented). ``send(type, messages, for_=..., event_id=...)`` emits one ``event`` to every
connected client, in Streamlabs' shape; ``tls=(cert, key)`` serves https/wss as Streamlabs
does; ``restart()`` closes every connection and serves again on the same port; ``stop()``
ends it. Test infrastructure only.
"""

from __future__ import annotations

import ssl
import urllib.parse
from typing import Any

import socketio
from aiohttp import web

from fakes.server_thread import ServerThread

TOKEN = "sl-socket-token-0123456789abcdef"


class FakeStreamlabs(ServerThread):
    NAME = "fake Streamlabs"

    def __init__(
        self,
        token: str = TOKEN,
        ping_interval: float = 25,
        ping_timeout: float = 20,
        tls: tuple[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.tls = tls  # (certificate file, key file): served over https/wss like Streamlabs
        self.ping_interval, self.ping_timeout = ping_interval, ping_timeout
        self.connections_made = 0
        self.refused = 0
        self.sids: set[str] = set()
        self._sio: socketio.AsyncServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def settings(self, **extra: Any) -> dict[str, Any]:
        """The ``connectors.streamlabs`` section pointing at this fake."""
        return {"enabled": True, "socket_token": self.token, "url": self.url, **extra}

    def stop(self) -> None:
        super().stop()
        self._loop = self._runner = self._sio = None
        with self._cond:
            self.sids.clear()
            self._cond.notify_all()

    def restart(self) -> None:
        """Streamlabs' server went away and came back: every connection dropped, same port."""
        self.stop()
        self.start()

    def _app(self) -> web.Application:
        sio = socketio.AsyncServer(
            async_mode="aiohttp",
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            logger=False,
            engineio_logger=False,
        )
        sio.on("connect", self._connect)
        sio.on("disconnect", self._disconnect)
        self._sio = sio
        app = web.Application()
        sio.attach(app)
        return app

    def _ssl_context(self) -> ssl.SSLContext | None:
        if self.tls is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*self.tls)
        return context

    async def _close_connections(self) -> None:
        if self._sio is not None:
            for sid in list(self.sids):
                await self._sio.disconnect(sid)

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        if query.get("token") != [self.token]:
            with self._cond:
                self.refused += 1
                self._cond.notify_all()
            raise socketio.exceptions.ConnectionRefusedError("invalid token")
        with self._cond:
            self.connections_made += 1
            self.sids.add(sid)
            self._cond.notify_all()

    async def _disconnect(self, sid: str, *reason: Any) -> None:
        with self._cond:
            self.sids.discard(sid)
            self._cond.notify_all()

    # -- what the tests do and look at --------------------------------------------------------

    def wait_connected(self, count: int = 1, timeout: float = 20.0) -> bool:
        """Until ``count`` connections were accepted in all (and one is open)."""
        return self.wait(lambda: self.connections_made >= count and bool(self.sids), timeout)

    def send(
        self, kind: str, messages: list[dict[str, Any]], for_: str | None = None, event_id: str | None = None
    ) -> int:
        """Emit one ``event`` in Streamlabs' shape to every connected client; how many got it."""
        frame: dict[str, Any] = {"type": kind, "message": messages}
        if for_ is not None:
            frame["for"] = for_
        if event_id is not None:
            frame["event_id"] = event_id
        return self.emit(frame)

    def emit(self, frame: Any) -> int:
        """Emit ``frame`` as it is (also a malformed one) as an ``event``."""
        assert self._loop is not None and self._sio is not None
        with self._cond:
            count = len(self.sids)
        self._call(self._sio.emit("event", frame))
        return count
