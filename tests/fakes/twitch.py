"""A loopback Twitch: the EventSub WebSocket, Helix's subscription and users endpoints, and
the OAuth device-code, token and validate endpoints, on one port (aiohttp, own thread).

Written from Twitch's documented shapes (and the Twitch CLI mock server's): the socket
sends ``session_welcome`` (with ``keepalive_timeout_seconds``), then a
``session_keepalive`` every ``keepalive_every`` seconds while ``silent`` is False.
``POST /helix/eventsub/subscriptions`` needs a valid token with the type's scope and a
connected session id (202; 403 without the scope). ``notify`` sends a notification to
the session subscribed to its type; ``reconnect`` sends ``session_reconnect`` and moves the
subscriptions to the socket that connects to its ``reconnect_url``; ``revoke`` sends a
revocation; ``drop`` closes every socket. The device endpoint hands out codes that
``approve`` grants. Test infrastructure only.
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
from tts_core.connectors.twitch.mapping import SUBSCRIPTIONS

ALL_SCOPES = sorted({s.scope for s in SUBSCRIPTIONS.values() if s.scope})
CLIENT_ID = "test-client-id"
BROADCASTER = {"id": "1001", "login": "streamer", "display_name": "Streamer"}


@dataclass
class Session:
    id: str
    ws: web.WebSocketResponse
    subscriptions: list[str] = field(default_factory=list)
    closed: bool = False
    close_code: int | None = None  # once closed: 1000 when the client closed it, 1006 when it went silent


@dataclass
class Grant:
    scopes: list[str]
    expires_at: float
    user: dict[str, str]


class FakeTwitch(ServerThread):
    NAME = "fake Twitch"

    def __init__(self, keepalive: int = 3, keepalive_every: float = 0.5) -> None:
        super().__init__()
        self.keepalive = keepalive
        self.keepalive_every = keepalive_every
        self.silent = False
        self.subscription_requests: list[dict[str, Any]] = []
        self.on_subscribe: Any = None  # called with each subscription request's body, as it arrives
        self.accepted = 0  # subscriptions created (202), over all sessions
        self.welcomes = 0
        self.refreshes = 0
        self.device_codes: dict[str, dict[str, Any]] = {}  # device_code -> {user_code, scopes, approved}
        self.tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, list[str]] = {}
        self.token_lifetime = 14400
        self.sessions: list[Session] = []
        self._moving: dict[str, Session] = {}  # reconnect key -> the session whose subscriptions move
        self._ids = itertools.count(1)

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self.port}"

    def settings(self, **extra: Any) -> dict[str, Any]:
        """The ``connectors.twitch`` section pointing at this fake."""
        return {
            "enabled": True,
            "client_id": CLIENT_ID,
            "channel": BROADCASTER["login"],
            "eventsub_url": f"ws://{self.base}/ws",
            "api_url": f"http://{self.base}/helix",
            "auth_url": f"http://{self.base}/oauth2",
            **extra,
        }

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/ws", self._socket)
        app.router.add_post("/helix/eventsub/subscriptions", self._subscribe)
        app.router.add_get("/helix/users", self._users)
        app.router.add_post("/oauth2/device", self._device)
        app.router.add_post("/oauth2/token", self._token)
        app.router.add_get("/oauth2/validate", self._validate)
        return app

    async def _close_connections(self) -> None:
        for session in list(self.sessions):
            if not session.ws.closed:
                await session.ws.close()

    # -- what the tests do and look at --------------------------------------------------------

    def grant(self, scopes: list[str] | None = None, expires_in: float | None = None) -> dict[str, Any]:
        """A login as the broadcaster (as the token file stores it), without the device dance."""
        access, refresh = self._new_tokens(ALL_SCOPES if scopes is None else scopes, expires_in)
        grant = self.tokens[access]
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_at": grant.expires_at,
            "scopes": grant.scopes,
            "client_id": CLIENT_ID,
            "login": BROADCASTER["login"],
            "user_id": BROADCASTER["id"],
        }

    def approve(self, user_code: str) -> None:
        with self._cond:
            for entry in self.device_codes.values():
                if entry["user_code"] == user_code:
                    entry["approved"] = True
                    return
        raise KeyError(user_code)

    def wait_subscribed(self, count: int, timeout: float = 20.0) -> bool:
        """Until ``count`` subscriptions were created (over all sessions)."""
        return self.wait(lambda: self.accepted >= count, timeout)

    def live(self) -> list[Session]:
        with self._cond:
            return [s for s in self.sessions if not s.closed]

    def notify(
        self, kind: str, event: dict[str, Any], message_id: str | None = None, session: Session | None = None
    ) -> str:
        """Send one notification of ``kind`` (to ``session``, else the live one subscribed)."""
        message_id = message_id or str(uuid.uuid4())
        target = session or next((s for s in self.live() if kind in s.subscriptions), None)
        if target is None:
            raise AssertionError(f"no live session is subscribed to {kind}")
        self._call(target.ws.send_str(json.dumps(self._notification(kind, event, message_id, target.id))))
        return message_id

    def _notification(
        self, kind: str, event: dict[str, Any], message_id: str, session_id: str
    ) -> dict[str, Any]:
        meta = {
            "message_id": message_id,
            "message_type": "notification",
            "message_timestamp": _now(),
            "subscription_type": kind,
            "subscription_version": SUBSCRIPTIONS[kind].version,
        }
        return {
            "metadata": meta,
            "payload": {"subscription": self._subscription(kind, session_id), "event": event},
        }

    def reconnect(self, then: tuple[tuple[str, dict[str, Any]], ...] = ()) -> tuple[Session, list[str]]:
        """Send session_reconnect on the live session, then the notifications ``then`` on it
        (before the new socket can be welcomed); the session whose subscriptions move and
        the message ids sent."""
        (old,) = self.live()
        key = f"r{next(self._ids)}"
        self._moving[key] = old
        frame = {
            "metadata": self._meta("session_reconnect"),
            "payload": {
                "session": {
                    "id": old.id,
                    "status": "reconnecting",
                    "keepalive_timeout_seconds": None,
                    "reconnect_url": f"ws://{self.base}/ws?reconnect_id={key}",
                    "connected_at": _now(),
                }
            },
        }
        frames = [json.dumps(frame)]
        ids = []
        for kind, event in then:
            ids.append(str(uuid.uuid4()))
            frames.append(json.dumps(self._notification(kind, event, ids[-1], old.id)))

        async def send() -> None:
            for text in frames:
                await old.ws.send_str(text)

        self._call(send())
        return old, ids

    def revoke(self, kind: str, status: str) -> None:
        (session,) = [s for s in self.live() if kind in s.subscriptions]
        session.subscriptions.remove(kind)
        sub = {**self._subscription(kind, session.id), "status": status}
        frame = {
            "metadata": {
                **self._meta("revocation"),
                "subscription_type": kind,
                "subscription_version": SUBSCRIPTIONS[kind].version,
            },
            "payload": {"subscription": sub},
        }
        self._call(session.ws.send_str(json.dumps(frame)))

    def drop(self) -> None:
        """Every socket closed at once (a network failure, as the connector sees it)."""

        async def close_all() -> None:
            for session in self.live():
                session.closed = True
                await session.ws.close(code=4000, message=b"Internal server error")

        self._call(close_all())

    # -- the EventSub socket --------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, heartbeat=5.0)  # Twitch pings too; a client must answer
        await ws.prepare(request)
        moving = self._moving.pop(request.query.get("reconnect_id", ""), None)
        session = Session(str(uuid.uuid4()), ws)
        with self._cond:
            self.sessions.append(session)
            self.welcomes += 1
            self._cond.notify_all()
        welcome = {
            "metadata": self._meta("session_welcome"),
            "payload": {
                "session": {
                    "id": session.id,
                    "status": "connected",
                    "keepalive_timeout_seconds": self.keepalive,
                    "reconnect_url": None,
                    "connected_at": _now(),
                }
            },
        }
        await ws.send_str(json.dumps(welcome))
        if moving is not None:  # the old session's subscriptions carry over; the old socket closes
            with self._cond:
                session.subscriptions = moving.subscriptions
                moving.subscriptions = []
                moving.closed = True
                self._cond.notify_all()
            await moving.ws.close(code=4004, message=b"Reconnect grace time expired")
        beat = asyncio.ensure_future(self._keepalives(session))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:  # sending anything closes the connection (4001)
                    await ws.close(code=4001, message=b"Client sent inbound traffic")
        finally:
            beat.cancel()
            with self._cond:
                session.closed = True
                session.close_code = ws.close_code
                session.subscriptions = []
                self._cond.notify_all()
        return ws

    async def _keepalives(self, session: Session) -> None:
        while not session.ws.closed:
            await asyncio.sleep(self.keepalive_every)
            if not self.silent and not session.ws.closed:
                try:
                    await session.ws.send_str(
                        json.dumps({"metadata": self._meta("session_keepalive"), "payload": {}})
                    )
                except (ConnectionError, RuntimeError):
                    return

    def _meta(self, kind: str) -> dict[str, str]:
        return {"message_id": str(uuid.uuid4()), "message_type": kind, "message_timestamp": _now()}

    def _subscription(self, kind: str, session_id: str) -> dict[str, Any]:
        spec = SUBSCRIPTIONS[kind]
        return {
            "id": str(uuid.uuid4()),
            "status": "enabled",
            "type": kind,
            "version": spec.version,
            "cost": 0,
            "condition": {key: BROADCASTER["id"] for key in spec.condition},
            "transport": {"method": "websocket", "session_id": session_id},
            "created_at": _now(),
        }

    # -- Helix -------------------------------------------------------------------------------

    def _bearer(self, request: web.Request) -> Grant | None:
        header = request.headers.get("Authorization", "")
        grant = (
            self.tokens.get(header.removeprefix("Bearer ").strip()) if header.startswith("Bearer ") else None
        )
        if grant is None or grant.expires_at < time.time() or request.headers.get("Client-Id") != CLIENT_ID:
            return None
        return grant

    async def _subscribe(self, request: web.Request) -> web.Response:
        body = await request.json()
        with self._cond:
            self.subscription_requests.append(body)
        if self.on_subscribe is not None:
            self.on_subscribe(body)
        grant = self._bearer(request)
        if grant is None:
            return _error(401, "Unauthorized", "Invalid OAuth token")
        kind, transport = body.get("type"), body.get("transport") or {}
        spec = SUBSCRIPTIONS.get(kind)
        if (
            spec is None
            or body.get("version") != spec.version
            or set(body.get("condition", {})) != set(spec.condition)
        ):
            return _error(400, "Bad Request", "invalid type, version or condition")
        if spec.scope and spec.scope not in grant.scopes:
            return _error(403, "Forbidden", "subscription missing proper authorization")
        session = next((s for s in self.live() if s.id == transport.get("session_id")), None)
        if transport.get("method") != "websocket" or session is None:
            return _error(
                400, "Bad Request", "websocket transport session does not exist or has already disconnected"
            )
        with self._cond:
            if kind in session.subscriptions:
                return _error(409, "Conflict", "subscription already exists")
            session.subscriptions.append(kind)
            self.accepted += 1
            self._cond.notify_all()
        return web.json_response(
            {
                "data": [self._subscription(kind, session.id)],
                "total": 1,
                "total_cost": 0,
                "max_total_cost": 10,
            },
            status=202,
        )

    async def _users(self, request: web.Request) -> web.Response:
        if self._bearer(request) is None:
            return _error(401, "Unauthorized", "Invalid OAuth token")
        login = request.query.get("login", "")
        return web.json_response({"data": [BROADCASTER] if login == BROADCASTER["login"] else []})

    # -- OAuth -------------------------------------------------------------------------------

    def _new_tokens(self, scopes: list[str], expires_in: float | None = None) -> tuple[str, str]:
        access, refresh = f"access-{uuid.uuid4()}", f"refresh-{uuid.uuid4()}"
        lifetime = self.token_lifetime if expires_in is None else expires_in
        with self._cond:
            self.tokens[access] = Grant(list(scopes), time.time() + lifetime, BROADCASTER)
            self.refresh_tokens[refresh] = list(scopes)
        return access, refresh

    def _token_reply(self, scopes: list[str]) -> web.Response:
        access, refresh = self._new_tokens(scopes)
        return web.json_response(
            {
                "access_token": access,
                "refresh_token": refresh,
                "expires_in": self.token_lifetime,
                "scope": scopes,
                "token_type": "bearer",
            }
        )

    async def _device(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_id") != CLIENT_ID:
            return _error(400, "Bad Request", "invalid client")
        device, user = f"device-{uuid.uuid4()}", f"CODE{next(self._ids):04d}"
        with self._cond:
            self.device_codes[device] = {
                "user_code": user,
                "scopes": str(form.get("scopes", "")).split(),
                "approved": False,
            }
            self._cond.notify_all()
        return web.json_response(
            {
                "device_code": device,
                "expires_in": 1800,
                "interval": 0.1,
                "user_code": user,
                "verification_uri": f"http://{self.base}/activate?device-code={user}",
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_id") != CLIENT_ID or "client_secret" in form:
            return _error(400, "Bad Request", "invalid client")
        grant_type = form.get("grant_type")
        if grant_type == "urn:ietf:params:oauth:grant-type:device_code":
            entry = self.device_codes.get(str(form.get("device_code")))
            if entry is None:
                return _error(400, "Bad Request", "invalid device code")
            if not entry["approved"]:
                return _error(400, "Bad Request", "authorization_pending")
            del self.device_codes[str(form.get("device_code"))]
            return self._token_reply(entry["scopes"])
        if grant_type == "refresh_token":
            with self._cond:
                scopes = self.refresh_tokens.pop(str(form.get("refresh_token")), None)
                if scopes is not None:
                    self.refreshes += 1
                    self._cond.notify_all()
            if scopes is None:
                return _error(400, "Bad Request", "Invalid refresh token")
            return self._token_reply(scopes)
        return _error(400, "Bad Request", "unsupported grant type")

    async def _validate(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        grant = self.tokens.get(header.removeprefix("OAuth ").strip())
        if grant is None or grant.expires_at < time.time():
            return _error(401, "Unauthorized", "invalid access token")
        return web.json_response(
            {
                "client_id": CLIENT_ID,
                "login": grant.user["login"],
                "scopes": grant.scopes,
                "user_id": grant.user["id"],
                "expires_in": int(grant.expires_at - time.time()),
            }
        )


def _error(status: int, error: str, message: str) -> web.Response:
    return web.json_response({"error": error, "status": status, "message": message}, status=status)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + ".123456789Z"
