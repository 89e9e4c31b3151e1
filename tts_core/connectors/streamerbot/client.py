"""The Streamer.bot connector: a client of Streamer.bot's WebSocket Server.

One connection (``session``): open ``connectors.streamerbot.url``; wait for the
server's ``Hello`` (servers before 0.2.5 send none: then ``GetInfo`` is the
handshake); when the Hello asks for authentication, answer its salt and challenge
with the password (``Authenticate``); ask ``GetEvents`` and ``Subscribe`` to the
events it lists that we read and the settings take; then read events until the
connection ends. Subscriptions belong to one connection, so every reconnection
(the base's back-off) subscribes again. Payloads become our events in ``mapping``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import logging
from typing import Any

import websockets

from tts_core.config import STREAMERBOT_EVENTS, StreamerBotConnectorConfig, TTSConfig
from tts_core.connectors.base import AuthFailed, Connector, ConnectorError
from tts_core.connectors.sockets import close_reason, frame_before, json_object
from tts_core.connectors.streamerbot.mapping import Malformed, canonical_source, supported, translate

log = logging.getLogger(__name__)

HELLO_WAIT_SECONDS = 2.0  # a server that sends no Hello by then is asked GetInfo
REPLY_TIMEOUT_SECONDS = 5.0
MAX_FRAME_BYTES = 4 * 1024 * 1024
PASSWORD_HELP = ("set the password of Streamer.bot's WebSocket Server (Servers/Clients > WebSocket Server > "
                 "Authentication) in the connector's settings")


def authentication(password: str, salt: str, challenge: str) -> str:
    """Streamer.bot's answer: b64(sha256(b64(sha256(password + salt)) + challenge))."""
    secret = base64.b64encode(hashlib.sha256((password + salt).encode("utf-8")).digest()).decode("ascii")
    return base64.b64encode(hashlib.sha256((secret + challenge).encode("utf-8")).digest()).decode("ascii")


def subscription(offered: object, settings: StreamerBotConnectorConfig) -> dict[str, list[str]]:
    """What to Subscribe to: the events GetEvents ``offered`` that we read and ``settings``
    take, in the server's own spelling of the source. Without a usable list: ours."""
    events: dict[str, list[str]] = {}
    if isinstance(offered, dict) and offered:
        for source, kinds in offered.items():
            name = canonical_source(source)
            if name is None or not isinstance(kinds, list):
                continue
            wanted = [k for k in kinds if supported(name, k) and settings.takes(name, k)]
            if wanted:
                events[source] = wanted
        return events
    for name, kinds in STREAMERBOT_EVENTS.items():
        wanted = [k for k in kinds if settings.takes(name, k)]
        if wanted:
            events[name] = wanted
    return events


class StreamerBotConnector(Connector):
    """Events from Streamer.bot (Twitch, YouTube, Kick, tips) over its WebSocket Server."""

    name = "streamerbot"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ids = itertools.count(1)
        self.server: dict[str, Any] = {}  # the Hello's (or GetInfo's) info: name, version, ...
        self.subscribed: dict[str, list[str]] = {}

    @classmethod
    def section(cls, config: TTSConfig) -> StreamerBotConnectorConfig:
        return config.connectors.streamerbot

    def describe(self, settings: StreamerBotConnectorConfig) -> str:
        return f"Streamer.bot at {settings.url}"

    def report(self) -> dict[str, Any]:
        shown = super().report()
        shown["server"] = {k: self.server[k] for k in ("name", "version") if k in self.server}
        shown["subscribed"] = sum(len(v) for v in self.subscribed.values())
        return shown

    # -- one connection ------------------------------------------------------------------------

    async def session(self, settings: StreamerBotConnectorConfig) -> None:
        try:
            async with websockets.connect(settings.url, open_timeout=REPLY_TIMEOUT_SECONDS, close_timeout=1.0,
                                          max_size=MAX_FRAME_BYTES, compression=None) as ws:
                await self._handshake(ws, settings)
                offered = await self._request(ws, {"request": "GetEvents"}, "GetEvents")
                _check_authorised(offered)
                events = subscription(offered.get("events") if offered.get("status") == "ok" else None,
                                      settings)
                reply = await self._request(ws, {"request": "Subscribe", "events": events}, "Subscribe")
                _check_authorised(reply)
                if reply.get("status") != "ok":
                    raise ConnectorError(f"Streamer.bot refused Subscribe: {reply.get('error') or reply}")
                self.subscribed = events
                self.connected()
                async for frame in ws:
                    await self._received(frame)
        except websockets.InvalidURI:
            raise ConnectorError(f"{settings.url} is not a WebSocket address (ws://host:port/)") from None
        except websockets.InvalidStatus as exc:
            raise ConnectorError(f"{settings.url} answered HTTP {exc.response.status_code}, not WebSocket: "
                                 "check the address, port and endpoint") from None
        except websockets.ConnectionClosed as exc:
            raise ConnectorError(f"connection closed ({close_reason(exc)})") from None
        except (TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11
            raise ConnectorError(f"no answer from {settings.url} within {REPLY_TIMEOUT_SECONDS:.0f} s"
                                 ) from None
        except OSError as exc:
            raise ConnectorError(_os_error(exc)) from None

    async def _handshake(self, ws: Any, settings: StreamerBotConnectorConfig) -> None:
        """Hello (with or without authentication), or GetInfo for a server that sends none."""
        try:
            hello = json_object(await asyncio.wait_for(ws.recv(), HELLO_WAIT_SECONDS))
        except (TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11
            hello = None
        if hello is None or hello.get("request") != "Hello":
            reply = await self._request(ws, {"request": "GetInfo"}, "GetInfo", wanted="info")
            info = reply.get("info")
            self.server = info if isinstance(info, dict) else {}
            return
        info = hello.get("info")
        self.server = info if isinstance(info, dict) else {}
        auth = hello.get("authentication")
        if not isinstance(auth, dict):
            return
        if not settings.password:
            raise AuthFailed(f"Streamer.bot asks for a password: {PASSWORD_HELP}")
        salt, challenge = auth.get("salt"), auth.get("challenge")
        if not isinstance(salt, str) or not isinstance(challenge, str):
            raise ConnectorError("Streamer.bot's Hello has no salt and challenge to authenticate with")
        answer = authentication(settings.password, salt, challenge)
        try:
            reply = await self._request(ws, {"request": "Authenticate", "authentication": answer},
                                        "Authenticate")
        except websockets.ConnectionClosed:
            raise AuthFailed(f"Streamer.bot closed the connection at the password: {PASSWORD_HELP}") from None
        if reply.get("status") != "ok":
            why = reply.get("error") or "no reason given"
            raise AuthFailed(f"Streamer.bot refused the password ({why}): {PASSWORD_HELP}")

    async def _request(self, ws: Any, request: dict[str, Any], what: str,
                       wanted: str = "id") -> dict[str, Any]:
        """Send ``request`` with a new id; its reply (matched by id, or the first frame with
        ``info`` for GetInfo). Frames that arrive meanwhile are events: read them."""
        frame_id = f"obs-tts-{next(self._ids)}"
        await ws.send(json.dumps({**request, "id": frame_id}))
        deadline = asyncio.get_running_loop().time() + REPLY_TIMEOUT_SECONDS
        while True:
            reply = await frame_before(ws, deadline, lambda: ConnectorError(
                f"Streamer.bot did not answer {what} within {REPLY_TIMEOUT_SECONDS:.0f} s"))
            if reply is None:
                continue
            if reply.get("id") == frame_id or (wanted == "info" and isinstance(reply.get("info"), dict)):
                return reply
            if isinstance(reply.get("event"), dict):
                await self._event(reply, self.settings)

    # -- events --------------------------------------------------------------------------------

    async def _received(self, frame: str | bytes) -> None:
        data = json_object(frame)
        if data is None:
            self.not_understood_payload("a frame", "not a JSON object")
            return
        if isinstance(data.get("event"), dict):
            await self._event(data, self.settings)

    async def _event(self, frame: dict[str, Any], settings: StreamerBotConnectorConfig) -> None:
        source, kind = frame["event"].get("source"), frame["event"].get("type")
        label = f"{source}.{kind}"
        name = canonical_source(source)
        if name is not None and isinstance(kind, str) and not settings.takes(name, kind):
            return  # subscribed before a setting left it out
        try:
            mapped = translate(source, kind, frame.get("data"), settings,
                               frame.get("timeStamp", frame.get("timestamp")))
        except Malformed as exc:
            self.events_received += 1
            self.not_understood_payload(label, str(exc))
            return
        if mapped is None:
            self.events_received += 1
            self.not_understood_payload(label, "not an event type this connector reads")
            return
        if mapped.is_test:
            log.info("%s: test event %s", self.name, label)
        await self.deliver(mapped.event_id, mapped.actions, label)


def _check_authorised(reply: dict[str, Any]) -> None:
    """A request refused for want of authentication is a refused password, not an outage."""
    error = reply.get("error")
    if reply.get("status") == "error" and isinstance(error, str) and "auth" in error.lower():
        raise AuthFailed(f"Streamer.bot requires authentication ({error}): {PASSWORD_HELP}")


def _os_error(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError) or "Connect call failed" in str(exc):
        return "connection refused: is Streamer.bot running with its WebSocket Server started?"
    return exc.strerror or str(exc) or type(exc).__name__
