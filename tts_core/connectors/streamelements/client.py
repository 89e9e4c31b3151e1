"""The StreamElements connector: a client of StreamElements' Astro WebSocket gateway.

One connection (``session``): open ``connectors.streamelements.url``, wait for
``welcome``, subscribe to ``channel.activities`` and ``channel.tips`` with the
streamer's token (``token_type`` jwt, oauth2 or apikey; ``room`` = ``channel_id``) and
wait for both responses (matched by ``nonce``); then read messages until the
connection ends. Astro's WebSocket pings are answered by the websockets library, which
also pings Astro: a connection that answers nothing for ``PING_SECONDS`` is dead.

``err_unauthorized`` on both topics is ``auth_failed`` with Astro's reason (on one
topic: connected, that topic under ``missing``). A rate limit (HTTP 429 when
connecting, or ``rate_limit_exceeded``) is the state ``rate_limited`` while the
connector waits it out (``Retry-After``, else ``RATE_LIMIT_SECONDS``). A ``reconnect``
message is followed: the new connection carries Astro's ``reconnect_token`` and gets
the subscriptions back without subscribing; if Astro does not take the token, a new
connection subscribes again with the streamer's token. Repeats are dropped by the
activity's or tip's id (the base's filter, across reconnections). The token is never
logged or shown; Astro's own texts are shown with it blanked out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import websockets

from tts_core.config import TTSConfig
from tts_core.config.streamelements import StreamElementsConnectorConfig
from tts_core.connectors.base import CONNECTING, AuthFailed, Connector, ConnectorError
from tts_core.connectors.sockets import MovableSocket, close_reason, frame_before, json_object
from tts_core.connectors.streamelements.mapping import TIPS, TOPICS, Malformed, translate

log = logging.getLogger(__name__)

OPEN_TIMEOUT_SECONDS = 10.0
WELCOME_TIMEOUT_SECONDS = 10.0
SUBSCRIBE_TIMEOUT_SECONDS = 15.0
PING_SECONDS = 30.0  # as Astro's own pings; no pong within as long again: the connection is dead
RATE_LIMIT_SECONDS = 10.0  # a rate limit without Retry-After is waited out this long
MAX_FRAME_BYTES = 1024 * 1024
RATE_LIMITED = "rate_limited"
TOKEN_HELP = ("copy the JWT Token again from your StreamElements dashboard (your avatar > Account > "
              "Channels > Show secrets) into connectors.streamelements.token")


class RateLimited(ConnectorError):
    """Astro asks us to slow down; ``seconds`` to wait before the next connection."""

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


class StreamElementsConnector(Connector):
    """Tips, follows, subs, cheers, raids and channel point rewards from StreamElements."""

    name = "streamelements"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.subscribed: list[str] = []
        self.missing: dict[str, str] = {}  # topic -> why it is not received
        self.room: str | None = None  # the channel Astro says we subscribed to
        self.reconnects_followed = 0
        self.not_read: dict[str, int] = {}  # why -> how many (unapproved tips, unlisted rewards, ...)
        self._rate_limited_until = 0.0

    @classmethod
    def section(cls, config: TTSConfig) -> StreamElementsConnectorConfig:
        return config.connectors.streamelements

    def describe(self, settings: StreamElementsConnectorConfig) -> str:
        channel = settings.channel_id.strip() or "the token's channel"
        return f"StreamElements at {settings.url} for {channel} ({settings.token_type} token)"

    @property
    def state(self) -> str:
        state = super().state
        return RATE_LIMITED if state == CONNECTING and self._waiting_s() > 0 else state

    def report(self) -> dict[str, Any]:
        shown = super().report()
        waiting = self._waiting_s()
        if shown["state"] == CONNECTING and waiting > 0:
            shown["state"], shown["retry_in_s"] = RATE_LIMITED, round(waiting, 1)
        shown["token_type"] = self.settings.token_type
        shown["room"] = self.room
        shown["subscribed"] = list(self.subscribed)
        shown["missing"] = dict(self.missing)
        shown["reconnects_followed"] = self.reconnects_followed
        shown["not_read"] = dict(self.not_read)
        return shown

    def _waiting_s(self) -> float:
        return max(0.0, self._rate_limited_until - time.monotonic())

    # -- one connection --------------------------------------------------------------------------

    async def session(self, settings: StreamElementsConnectorConfig) -> None:
        self.subscribed, self.missing = [], {}
        if not settings.token.strip():
            raise AuthFailed(f"no token: {TOKEN_HELP}")
        if self._waiting_s() > 0:  # a rate limit is waited out in full, whatever the back-off was
            await asyncio.sleep(self._waiting_s())
        try:
            async with _connect(settings.url) as ws:
                await self._welcome(ws, settings)
                await self._subscribe(ws, settings)
                self.connected()
                await self._read(ws, settings)
        except websockets.InvalidURI:
            raise ConnectorError(f"{settings.url} is not a WebSocket address") from None
        except websockets.InvalidStatus as exc:
            raise self._refused(exc.response.status_code, exc.response.headers.get("Retry-After"),
                                settings) from None
        except websockets.ConnectionClosed as exc:
            raise ConnectorError(f"StreamElements closed the connection ({close_reason(exc)})") from None
        except (TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11
            raise ConnectorError("no answer from StreamElements in time") from None
        except OSError as exc:
            raise ConnectorError(exc.strerror or str(exc) or type(exc).__name__) from None

    def _refused(self, status: int, retry_after: str | None, settings: StreamElementsConnectorConfig
                 ) -> ConnectorError:
        if status == 429:
            return self._rate_limit(f"HTTP 429 Too Many Requests on {settings.url}", _seconds(retry_after))
        if status == 502:
            return ConnectorError("StreamElements is restarting (HTTP 502): trying again")
        return ConnectorError(f"{settings.url} answered HTTP {status}, not WebSocket")

    def _rate_limit(self, what: str, seconds: float | None) -> RateLimited:
        wait = seconds if seconds is not None and seconds > 0 else RATE_LIMIT_SECONDS
        message = f"rate limited by StreamElements ({what}): waiting {wait:.0f} s"
        self.last_error = message  # before the state says rate_limited (the base sets it again)
        self._rate_limited_until = time.monotonic() + wait
        return RateLimited(message, wait)

    async def _welcome(self, ws: Any, settings: StreamElementsConnectorConfig) -> None:
        frame = json_object(await asyncio.wait_for(ws.recv(), WELCOME_TIMEOUT_SECONDS))
        if frame is None or frame.get("type") != "welcome":
            kind = None if frame is None else frame.get("type")
            raise ConnectorError(f"StreamElements' first message was not welcome (got {kind!r}); "
                                 f"is {settings.url} Astro?")

    async def _subscribe(self, ws: Any, settings: StreamElementsConnectorConfig) -> None:
        """Both topics with the token; wait for both answers (messages may come between)."""
        waiting: dict[str, str] = {}
        for topic in TOPICS:
            nonce = f"{topic}-{uuid.uuid4()}"
            waiting[nonce] = topic
            data = {"topic": topic, "token": settings.token.strip(), "token_type": settings.token_type}
            if settings.channel_id.strip():
                data["room"] = settings.channel_id.strip()
            await ws.send(json.dumps({"type": "subscribe", "nonce": nonce, "data": data}))
        refused: dict[str, str] = {}
        deadline = asyncio.get_running_loop().time() + SUBSCRIBE_TIMEOUT_SECONDS
        while waiting:
            frame = await frame_before(ws, deadline, lambda: ConnectorError(
                f"StreamElements did not answer the subscription to {', '.join(waiting.values())} "
                f"in {SUBSCRIBE_TIMEOUT_SECONDS:.0f} s"))
            if frame is None:
                self.not_understood_payload("a frame", "not a JSON object")
            elif frame.get("type") == "response" and str(frame.get("nonce")) in waiting:
                self._answer(waiting.pop(str(frame.get("nonce"))), frame, refused)
            elif frame.get("type") == "reconnect":
                raise ConnectorError("StreamElements asked to reconnect before answering the subscriptions")
            else:
                await self._frame(frame, settings)
        if not self.subscribed:
            reasons = "; ".join(f"{topic}: {why}" for topic, why in refused.items())
            raise AuthFailed(f"StreamElements refused the {settings.token_type} token ({reasons}): "
                             f"{TOKEN_HELP}")
        self.missing = {topic: f"refused by StreamElements ({why})" for topic, why in refused.items()}
        for topic, why in self.missing.items():
            log.warning("%s: %s not received: %s", self.name, topic, why)

    def _answer(self, topic: str, frame: dict[str, Any], refused: dict[str, str]) -> None:
        """Astro's answer to the subscription to ``topic``: subscribed, refused (added to
        ``refused``), or an error that ends the connection."""
        error, why = frame.get("error"), self._clean(_message(frame))
        if not error:
            self.subscribed.append(topic)
            data = frame.get("data")
            room = data.get("room") if isinstance(data, dict) else None
            self.room = str(room) if room else self.room
        elif error == "err_unauthorized":
            refused[topic] = f"{error}: {why}"
        elif error == "rate_limit_exceeded":
            raise self._rate_limit(f"{error} subscribing to {topic}: {why}", None)
        else:
            raise ConnectorError(f"StreamElements did not take the subscription to {topic} "
                                 f"({error}: {why})")

    async def _read(self, ws: Any, settings: StreamElementsConnectorConfig) -> None:
        async with MovableSocket[None](ws) as socket:
            while True:
                frame = json_object(await socket.current.recv())
                if frame is None:
                    self.not_understood_payload("a frame", "not a JSON object")
                elif frame.get("type") == "reconnect":
                    await self._follow_reconnect(socket, frame, settings)
                else:
                    await self._frame(frame, settings)

    async def _follow_reconnect(self, socket: MovableSocket[None], frame: dict[str, Any],
                                settings: StreamElementsConnectorConfig) -> None:
        """Open a connection with Astro's reconnect token and wait for its welcome while
        the old socket is read on, then close the old one (its subscriptions move over)."""
        data = frame.get("data")
        token = data.get("reconnect_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise ConnectorError("StreamElements asked to reconnect without a reconnect_token")
        log.info("%s: StreamElements moves the connection (reconnect)", self.name)
        try:
            await socket.move(lambda: _connect(settings.url, token), lambda new: self._welcome(new, settings),
                              lambda old: self._drain(old, settings))
        except (websockets.ConnectionClosed, websockets.InvalidStatus):
            raise ConnectorError("StreamElements did not take the reconnect token: "
                                 "connecting again and subscribing") from None
        self.reconnects_followed += 1

    async def _drain(self, old: Any, settings: StreamElementsConnectorConfig) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in old:
                frame = json_object(raw)
                if frame is not None and frame.get("type") == "message":
                    await self._frame(frame, settings)

    async def _frame(self, frame: dict[str, Any], settings: StreamElementsConnectorConfig) -> None:
        kind = frame.get("type")
        if kind == "message":
            await self._message(frame, settings)
        elif kind == "response" and frame.get("error"):
            log.warning("%s: StreamElements: %s (%s)", self.name, frame.get("error"),
                        self._clean(_message(frame)))
        elif kind not in ("response", "welcome"):
            self.not_understood_payload(f"message type {kind}", "not a message type this connector reads")

    async def _message(self, frame: dict[str, Any], settings: StreamElementsConnectorConfig) -> None:
        topic = str(frame.get("topic"))
        try:
            mapped = translate(topic, frame.get("data"), settings, tips_topic=TIPS in self.subscribed)
        except Malformed as exc:
            self.events_received += 1
            self.not_understood_payload(f"{topic} message", str(exc))
            return
        if mapped is None:  # a topic or activity type we do not read (merch, hype trains, ...)
            self.events_received += 1
            log.debug("%s: %s message not read", self.name, topic)
            return
        if mapped.skipped is not None:
            self.events_received += 1
            self.not_read[mapped.skipped] = self.not_read.get(mapped.skipped, 0) + 1
            log.info("%s: %s not read: %s", self.name, mapped.label, mapped.skipped)
            return
        event_id = mapped.event_id or (f"message:{frame['id']}" if isinstance(frame.get("id"), str) else None)
        await self.deliver(event_id, mapped.actions, mapped.label)

    def _clean(self, text: str) -> str:
        """Astro's text, with the token blanked out should it ever be echoed."""
        token = self.settings.token.strip()
        return text.replace(token, "***") if len(token) >= 4 else text


def _connect(url: str, reconnect_token: str | None = None) -> Any:
    """websockets.connect to Astro (with ``reconnect_token`` after a ``reconnect``)."""
    if reconnect_token is not None:
        parts = urlsplit(url)
        query = urlencode([*parse_qsl(parts.query), ("reconnect_token", reconnect_token)])
        url = urlunsplit(parts._replace(query=query))
    return websockets.connect(url, open_timeout=OPEN_TIMEOUT_SECONDS, close_timeout=1.0,
                              max_size=MAX_FRAME_BYTES, compression=None,
                              ping_interval=PING_SECONDS, ping_timeout=PING_SECONDS)


def _message(frame: dict[str, Any]) -> str:
    data = frame.get("data")
    text = data.get("message") if isinstance(data, dict) else data
    return str(text or "no reason given")[:200]


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
