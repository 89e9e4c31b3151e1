"""A loopback StreamElements Astro gateway (aiohttp, own thread, one port).

Written from StreamElements' websocket docs (March 2026): on connect the server sends
``welcome``; ``subscribe`` requests ``{type, nonce, data: {topic, room, token,
token_type}}`` get a ``response`` with the same nonce, or with ``error``
(``err_unauthorized`` for a token it does not know or a token type that does not match,
``rate_limit_exceeded`` while ``limit_subscribes`` > 0, ``err_bad_request`` for an
unknown topic); ``publish`` sends a ``message`` to every live connection subscribed to
its topic. It sends WebSocket PING frames every ``ping_every`` seconds and closes a
connection that has not answered within ``pong_timeout``. ``reconnect`` sends
``{type: reconnect, data: {reconnect_token}}``; a connection opened with
``?reconnect_token=`` gets the old one's subscriptions (no subscribe needed) and the old
one is closed; an unknown reconnect token is closed at once. ``refuse_connections``
answers the next connection attempts with HTTP 429 and ``Retry-After``. ``drop`` closes
every socket. Test infrastructure only.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from fakes.server_thread import ServerThread

ROOM = "5ad23dcc18fff500d78c5348"
TOPICS = ("channel.activities", "channel.tips")


@dataclass
class Connection:
    id: str
    ws: web.WebSocketResponse
    subscriptions: set[str] = field(default_factory=set)
    pongs: int = 0
    closed: bool = False
    restored: bool = False  # opened with a valid reconnect token
    close_code: int | None = None  # once closed: 1000 when the client closed it, 1008 when it went silent


class FakeAstro(ServerThread):
    NAME = "fake Astro"

    def __init__(self, ping_every: float = 0.5, pong_timeout: float = 3.0) -> None:
        super().__init__()
        self.ping_every = ping_every
        self.pong_timeout = pong_timeout
        self.tokens: dict[str, str] = {}  # token -> its token type
        self.topics_allowed: dict[str, set[str]] = {}  # token -> topics (missing: all)
        self.requests: list[dict[str, Any]] = []  # every client frame, as JSON
        self.connections: list[Connection] = []
        self.attempts: list[float] = []  # time.monotonic() of each upgrade request, refused ones too
        self.refuse_connections = 0  # next attempts answered with HTTP 429
        self.retry_after = 2
        self.limit_subscribes = 0  # next subscribe requests answered rate_limit_exceeded
        self.reconnect_tokens: dict[str, Connection] = {}
        self._ids = itertools.count(1)

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def grant(self, token_type: str = "jwt", topics: tuple[str, ...] = TOPICS) -> str:
        """A token Astro takes (for ``topics`` only)."""
        token = f"{token_type}-{uuid.uuid4().hex}"
        with self._cond:
            self.tokens[token] = token_type
            self.topics_allowed[token] = set(topics)
        return token

    def settings(self, token: str, **extra: Any) -> dict[str, Any]:
        """The ``connectors.streamelements`` section pointing at this fake."""
        return {"enabled": True, "token": token, "token_type": self.tokens.get(token, "jwt"),
                "channel_id": ROOM, "url": self.url, **extra}

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self._socket)
        return app

    async def _close_connections(self) -> None:
        for connection in list(self.connections):
            if not connection.ws.closed:
                await connection.ws.close()

    # -- what the tests do and look at --------------------------------------------------------

    def live(self) -> list[Connection]:
        with self._cond:
            return [c for c in self.connections if not c.closed]

    def subscribes(self) -> list[dict[str, Any]]:
        with self._cond:
            return [r for r in self.requests if r.get("type") == "subscribe"]

    def wait_subscribed(self, topics: tuple[str, ...] = TOPICS, timeout: float = 20.0) -> Connection:
        """Until one live connection is subscribed to ``topics``; that connection."""
        found: list[Connection] = []

        def ready() -> bool:
            found[:] = [c for c in self.connections if not c.closed and set(topics) <= c.subscriptions]
            return bool(found)

        assert self.wait(ready, timeout), f"never subscribed to {topics}; requests: {self._safe_requests()}"
        return found[-1]

    def _safe_requests(self) -> list[Any]:
        return [{**r, "data": {k: v for k, v in (r.get("data") or {}).items() if k != "token"}}
                for r in self.requests]

    def publish(self, topic: str, data: dict[str, Any], message_id: str | None = None) -> str:
        """One message on ``topic`` to every live connection subscribed to it; its id."""
        message_id = message_id or f"01J{next(self._ids):023d}"
        frame = {"id": message_id, "ts": _now(), "type": "message", "topic": topic, "room": ROOM,
                 "data": data}
        targets = [c for c in self.live() if topic in c.subscriptions]
        assert targets, f"no live connection is subscribed to {topic}"
        self._call(self._send_all(targets, json.dumps(frame)))
        return message_id

    def reconnect(self, valid: bool = True) -> tuple[Connection, str]:
        """Send ``reconnect`` on the live connection (its token unknown to us if not
        ``valid``); the connection and the token."""
        (old,) = self.live()
        token = f"rt-{uuid.uuid4().hex}"
        if valid:
            with self._cond:
                self.reconnect_tokens[token] = old
        frame = {"type": "reconnect", "data": {"message": "The server is shutting down.",
                                               "reconnect_token": token}}
        self._call(old.ws.send_str(json.dumps(frame)))
        return old, token

    def drop(self) -> None:
        """Every socket closed at once (a network failure, as the connector sees it)."""

        async def close_all() -> None:
            for connection in self.live():
                with self._cond:
                    connection.closed = True  # at once, not when its handler has seen the close
                await connection.ws.close(code=1011, message=b"internal error")

        self._call(close_all())

    async def _send_all(self, targets: list[Connection], text: str) -> None:
        for connection in targets:
            await connection.ws.send_str(text)

    # -- the socket ----------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        with self._cond:
            self.attempts.append(time.monotonic())
            refuse = self.refuse_connections > 0
            self.refuse_connections -= 1 if refuse else 0
            self._cond.notify_all()
        if refuse:
            return web.Response(status=429, text="Too Many Requests",
                                headers={"Retry-After": str(self.retry_after)})
        ws = web.WebSocketResponse(autoping=False)  # pings and pongs reach the handler
        await ws.prepare(request)
        connection = Connection(str(uuid.uuid4()), ws)
        token = request.query.get("reconnect_token")
        if token is not None:
            with self._cond:
                old = self.reconnect_tokens.pop(token, None)
            if old is None:  # invalid, expired or tampered: closed at once
                await ws.close(code=4001, message=b"invalid reconnect token")
                return ws
            connection.subscriptions, connection.restored = set(old.subscriptions), True
        with self._cond:
            self.connections.append(connection)
            self._cond.notify_all()
        await ws.send_str(json.dumps({"id": str(uuid.uuid4()), "ts": _now(), "type": "welcome",
                                      "data": {"message": "You are in a maze of loopback sockets.",
                                               "client_id": connection.id}}))
        if token is not None:
            await old.ws.close(code=1001, message=b"reconnected elsewhere")
        pinging = asyncio.ensure_future(self._pings(connection))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await self._request(connection, message.data)
                elif message.type == WSMsgType.PING:
                    await ws.pong(message.data)
                elif message.type == WSMsgType.PONG:
                    with self._cond:
                        connection.pongs += 1
                        self._cond.notify_all()
        finally:
            pinging.cancel()
            with self._cond:
                connection.closed = True
                connection.close_code = ws.close_code
                self._cond.notify_all()
        return ws

    async def _pings(self, connection: Connection) -> None:
        while not connection.ws.closed:
            await asyncio.sleep(self.ping_every)
            before = connection.pongs
            try:
                await connection.ws.ping(b"astro")
            except (ConnectionError, RuntimeError):
                return
            deadline = time.monotonic() + self.pong_timeout
            while connection.pongs == before and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if connection.pongs == before and not connection.ws.closed:
                await connection.ws.close(code=1008, message=b"pong timeout")
                return

    async def _request(self, connection: Connection, text: str) -> None:
        try:
            request = json.loads(text)
        except ValueError:
            await self._answer(connection, None, "invalid_message_type", "not JSON")
            return
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()
        nonce, data = request.get("nonce"), request.get("data") or {}
        if request.get("type") != "subscribe":
            await self._answer(connection, nonce, "invalid_message_type", "unknown command")
            return
        topic, token = data.get("topic"), data.get("token")
        with self._cond:
            limited = self.limit_subscribes > 0
            self.limit_subscribes -= 1 if limited else 0
            known = self.tokens.get(token) if isinstance(token, str) else None
            allowed = self.topics_allowed.get(token, set()) if isinstance(token, str) else set()
        if limited:
            await self._answer(connection, nonce, "rate_limit_exceeded", "too many requests")
        elif topic not in TOPICS:
            await self._answer(connection, nonce, "err_bad_request", f"invalid topic {topic}")
        elif known is None or known != data.get("token_type") or topic not in allowed:
            await self._answer(connection, nonce, "err_unauthorized", "invalid token")
        else:
            with self._cond:
                connection.subscriptions.add(topic)
                self._cond.notify_all()
            await connection.ws.send_str(json.dumps({
                "id": str(uuid.uuid4()), "ts": _now(), "type": "response", "nonce": nonce,
                "data": {"message": "successfully subscribed to topic", "topic": topic,
                         "room": data.get("room") or ROOM}}))

    async def _answer(self, connection: Connection, nonce: Any, error: str, message: str) -> None:
        frame = {"id": str(uuid.uuid4()), "ts": _now(), "type": "response", "nonce": nonce, "error": error,
                 "data": {"message": message}}
        await connection.ws.send_str(json.dumps(frame))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
