"""The Twitch connector: a client of Twitch's EventSub WebSocket.

One connection (``session``): load the login (``obs-tts twitch login``), renew it when
it expires soon and check it with Twitch (which account, which scopes); name the events
whose scope the login lacks (``missing`` in the state) before anything is subscribed;
open ``connectors.twitch.eventsub_url``, wait for ``session_welcome`` and create one
subscription per event type through Helix (``POST /eventsub/subscriptions``) within the
keepalive window; then read notifications until the connection ends.

Silence longer than the keepalive (plus a little grace) is a dead connection. A
``session_reconnect`` is followed: the new address is opened and welcomed while the old
socket is still read, then the old one is closed; the subscriptions carry over. Any
other reconnection is a new session (the base's back-off) that subscribes again.
Delivery is at least once: a repeated ``message_id`` is dropped (the base's duplicate
filter, across reconnections). A ``revocation`` names the event and Twitch's reason in
the state. Events become ours in ``mapping``; tokens are never logged or shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

import aiohttp
import websockets

from tts_core.config import TTSConfig
from tts_core.config.sections import TWITCH_EVENTS, TwitchConnectorConfig
from tts_core.connectors.base import AuthFailed, Connector, ConnectorError
from tts_core.connectors.sockets import MovableSocket, close_reason, json_object
from tts_core.connectors.twitch import tokens as login
from tts_core.connectors.twitch.mapping import SUBSCRIPTIONS, Malformed, condition, translate

log = logging.getLogger(__name__)

OPEN_TIMEOUT_SECONDS = 10.0
WELCOME_TIMEOUT_SECONDS = 10.0
RECONNECT_TIMEOUT_SECONDS = 30.0  # Twitch keeps the old socket this long after session_reconnect
MAX_FRAME_BYTES = 1024 * 1024
MIN_RENEW_SECONDS = 60.0  # never renew the login more often while connected
LOGIN_HELP = "run `obs-tts twitch login`"
CLIENT_ID_HELP = (
    "register an application at dev.twitch.tv (docs/connectors.md, Twitch) and set its Client ID "
    "in connectors.twitch.client_id"
)
REVOKED = {
    "authorization_revoked": "the login was withdrawn on Twitch",
    "user_removed": "the account was removed or banned",
    "moderator_removed": "the account is no longer a moderator of the channel",
    "version_removed": "Twitch no longer offers this version of the event",
}


def keepalive_grace(keepalive: float) -> float:
    """How long silence may last before the connection counts as dead."""
    return keepalive + max(1.0, keepalive * 0.2)


class TwitchConnector(Connector):
    """Follows, subs, gifts, cheers, raids, redemptions and chat straight from Twitch."""

    name = "twitch"

    def __init__(self, *args: Any, token_file: Path | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.token_file = token_file  # None: in the config's data folder, looked up at each connection
        self.account = ""
        self.scopes: list[str] = []
        self.subscribed: list[str] = []
        self.missing: dict[str, str] = {}  # event type -> why it is not received
        self.session_id: str | None = None
        self.reconnects_followed = 0
        self.sessions = 0

    @classmethod
    def section(cls, config: TTSConfig) -> TwitchConnectorConfig:
        return config.connectors.twitch

    def describe(self, settings: TwitchConnectorConfig) -> str:
        return f"Twitch EventSub at {settings.eventsub_url} for {settings.channel or 'the logged-in channel'}"

    def report(self) -> dict[str, Any]:
        shown = super().report()
        shown["account"] = self.account
        shown["scopes"] = list(self.scopes)
        shown["subscribed"] = list(self.subscribed)
        shown["missing"] = dict(self.missing)
        shown["reconnects_followed"] = self.reconnects_followed
        return shown

    def login_changed(self) -> None:
        """The stored login was replaced (a login from the panel): connect again now with it,
        instead of at the next retry."""
        self._poke()

    # -- one connection --------------------------------------------------------------------------

    async def session(self, settings: TwitchConnectorConfig) -> None:
        self.subscribed, self.session_id = [], None
        wanted = [kind for kind in TWITCH_EVENTS if settings.takes(kind)]
        try:
            async with aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=login.HTTP_TIMEOUT_SECONDS)
            ) as http:
                tokens = await self._login(settings)
                self._name_missing_scopes(wanted, tokens)
                usable = [kind for kind in wanted if kind not in self.missing]
                if not usable:
                    raise AuthFailed(
                        f"the login lacks every scope the chosen events need ({self._missing_text()}): "
                        f"{LOGIN_HELP} again"
                    )
                broadcaster = await self._broadcaster(http, settings, tokens)
                async with _connect(settings.eventsub_url) as ws:
                    keepalive = await self._welcome(ws)
                    self.sessions += 1
                    for kind in usable:
                        await self._subscribe(http, settings, tokens, kind, broadcaster)
                    if not self.subscribed:
                        raise AuthFailed(f"Twitch refused every subscription ({self._missing_text()})")
                    self.connected()
                    renewing = asyncio.ensure_future(self._keep_login_fresh(settings, tokens))
                    try:
                        await self._read(ws, keepalive, settings)
                    finally:
                        renewing.cancel()
        except websockets.InvalidURI:
            raise ConnectorError(f"{settings.eventsub_url} is not a WebSocket address") from None
        except websockets.InvalidStatus as exc:
            raise ConnectorError(
                f"{settings.eventsub_url} answered HTTP {exc.response.status_code}, not WebSocket"
            ) from None
        except websockets.ConnectionClosed as exc:
            raise ConnectorError(f"Twitch closed the connection ({close_reason(exc)})") from None
        except (TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11
            raise ConnectorError("no answer from Twitch in time") from None
        except aiohttp.ClientError as exc:
            raise ConnectorError(f"cannot reach Twitch's API: {exc.__class__.__name__}: {exc}") from None
        except login.LoginError as exc:
            raise AuthFailed(str(exc)) from None
        except OSError as exc:
            raise ConnectorError(exc.strerror or str(exc) or type(exc).__name__) from None

    # -- the login -------------------------------------------------------------------------------

    async def _login(self, settings: TwitchConnectorConfig) -> login.Tokens:
        """The stored tokens, renewed when they expire soon or Twitch no longer takes them."""
        if not settings.client_id.strip():
            raise AuthFailed(f"no Client ID: {CLIENT_ID_HELP}")
        tokens = login.load(self._token_file())
        if tokens is None:
            raise AuthFailed(f"not logged in to Twitch: {LOGIN_HELP}")
        if tokens.client_id and settings.client_id and tokens.client_id != settings.client_id:
            raise AuthFailed(
                f"the Twitch login belongs to another application (client_id): {LOGIN_HELP} again"
            )
        tokens.client_id = tokens.client_id or settings.client_id
        if tokens.expires_soon():
            tokens = await self._renew(settings, tokens)
        info = await login.validate(settings.auth_url, tokens.access_token)
        if info is None:
            tokens = await self._renew(settings, tokens)
        elif isinstance(info.get("scopes"), list):
            tokens.scopes = [str(s) for s in info["scopes"]]
            tokens.login = str(info.get("login") or tokens.login)
            tokens.user_id = str(info.get("user_id") or tokens.user_id)
        self.account, self.scopes = tokens.login, sorted(tokens.scopes)
        return tokens

    def _token_file(self) -> Path:
        return self.token_file or login.token_path(self.manager.config.data_dir)

    async def _renew(self, settings: TwitchConnectorConfig, tokens: login.Tokens) -> login.Tokens:
        if not tokens.refresh_token:
            raise AuthFailed(f"the Twitch login expired: {LOGIN_HELP} again")
        renewed = await login.refresh(settings.auth_url, tokens)
        login.save(renewed, self._token_file())
        log.info("%s: the Twitch login of %s was renewed", self.name, renewed.login or "the account")
        return renewed

    async def _keep_login_fresh(self, settings: TwitchConnectorConfig, tokens: login.Tokens) -> None:
        """While connected, renew the stored login before it expires (the socket itself
        needs no token, but the next connection and the refresh token's life do)."""
        while True:
            await asyncio.sleep(
                max(MIN_RENEW_SECONDS, tokens.expires_at - time.time() - login.REFRESH_AHEAD_SECONDS)
            )
            try:
                tokens = await self._renew(settings, tokens)
            except (login.LoginError, AuthFailed, aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
                log.warning("%s: could not renew the Twitch login: %s", self.name, exc)
                return

    def _name_missing_scopes(self, wanted: list[str], tokens: login.Tokens) -> None:
        granted = set(tokens.scopes)
        self.missing = {
            kind: f"the login lacks the scope {scope}"
            for kind in wanted
            if (scope := SUBSCRIPTIONS[kind].scope) is not None and scope not in granted
        }
        if self.missing:
            log.warning(
                "%s: not received: %s; %s again to grant them", self.name, self._missing_text(), LOGIN_HELP
            )

    def _missing_text(self) -> str:
        return "; ".join(f"{kind} ({why})" for kind, why in self.missing.items())

    # -- Helix -----------------------------------------------------------------------------------

    def _headers(self, settings: TwitchConnectorConfig, tokens: login.Tokens) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {tokens.access_token}",
            "Client-Id": tokens.client_id or settings.client_id,
        }

    async def _broadcaster(
        self, http: aiohttp.ClientSession, settings: TwitchConnectorConfig, tokens: login.Tokens
    ) -> str:
        """The channel's user id (the logged-in account's when no channel is set)."""
        channel = settings.channel.strip().lower()
        if not channel or channel == tokens.login.lower():
            if not tokens.user_id:
                raise AuthFailed(f"the Twitch login names no account: {LOGIN_HELP} again")
            return tokens.user_id
        async with http.get(
            f"{settings.api_url.rstrip('/')}/users",
            params={"login": channel},
            headers=self._headers(settings, tokens),
        ) as response:
            data = await _body(response)
            if response.status == 401:
                raise AuthFailed(f"Twitch refused the login ({_message(data)}): {LOGIN_HELP} again")
            users = data.get("data")
            if response.status != 200 or not isinstance(users, list):
                raise ConnectorError(
                    f"Twitch could not look up the channel {channel!r} "
                    f"(HTTP {response.status}: {_message(data)})"
                )
            if not users or not isinstance(users[0], dict) or not users[0].get("id"):
                raise ConnectorError(
                    f"there is no Twitch channel named {channel!r} (connectors.twitch.channel)"
                )
            return str(users[0]["id"])

    async def _subscribe(
        self,
        http: aiohttp.ClientSession,
        settings: TwitchConnectorConfig,
        tokens: login.Tokens,
        kind: str,
        broadcaster: str,
    ) -> None:
        spec = SUBSCRIPTIONS[kind]
        body = {
            "type": kind,
            "version": spec.version,
            "condition": condition(kind, broadcaster, tokens.user_id),
            "transport": {"method": "websocket", "session_id": self.session_id},
        }
        async with http.post(
            f"{settings.api_url.rstrip('/')}/eventsub/subscriptions",
            json=body,
            headers=self._headers(settings, tokens),
        ) as response:
            data = await _body(response)
            if response.status in (200, 202, 409):  # 409: it exists already
                self.subscribed.append(kind)
                return
            if response.status == 401:
                raise AuthFailed(f"Twitch refused the login ({_message(data)}): {LOGIN_HELP} again")
            if response.status in (400, 403):
                self.missing[kind] = f"Twitch refused the subscription: {_message(data)}"
                log.warning("%s: %s not received: %s", self.name, kind, self.missing[kind])
                return
            raise ConnectorError(
                f"Twitch did not take the subscription to {kind} (HTTP {response.status}: {_message(data)})"
            )

    # -- the socket ------------------------------------------------------------------------------

    async def _welcome(self, ws: Any) -> float:
        """Wait for session_welcome; its keepalive in seconds."""
        frame = json_object(await asyncio.wait_for(ws.recv(), WELCOME_TIMEOUT_SECONDS))
        if frame is None or _meta(frame, "message_type") != "session_welcome":
            raise ConnectorError("Twitch's first frame was not session_welcome")
        session = _payload(frame).get("session")
        if not isinstance(session, dict) or not isinstance(session.get("id"), str):
            raise ConnectorError("Twitch's session_welcome has no session id")
        self.session_id = session["id"]
        keepalive = session.get("keepalive_timeout_seconds")
        return float(keepalive) if isinstance(keepalive, (int, float)) and keepalive > 0 else 10.0

    async def _read(self, ws: Any, keepalive: float, settings: TwitchConnectorConfig) -> None:
        async with MovableSocket[float](ws) as socket:
            while True:
                try:
                    raw = await asyncio.wait_for(socket.current.recv(), keepalive_grace(keepalive))
                except (TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11
                    raise ConnectorError(
                        f"nothing from Twitch for {keepalive_grace(keepalive):.0f} s (keepalive "
                        f"{keepalive:.0f} s): the connection is dead"
                    ) from None
                frame = json_object(raw)
                if frame is None:
                    self.not_understood_payload("a frame", "not a JSON object")
                    continue
                if _meta(frame, "message_type") == "session_reconnect":
                    keepalive = await self._follow_reconnect(socket, frame)
                    continue
                await self._frame(frame)

    async def _follow_reconnect(self, socket: MovableSocket[float], frame: dict[str, Any]) -> float:
        """Open the new address and wait for its welcome while reading the old socket on,
        then close the old one: nothing is lost, and repeats are dropped by message_id.
        The new socket's keepalive."""
        session = _payload(frame).get("session")
        url = session.get("reconnect_url") if isinstance(session, dict) else None
        if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
            raise ConnectorError("Twitch asked to reconnect without a reconnect_url")
        log.info("%s: Twitch moves the connection (session_reconnect)", self.name)
        keepalive = await socket.move(lambda: asyncio.wait_for(_connect(url), RECONNECT_TIMEOUT_SECONDS),
                                      self._welcome, self._drain)
        self.reconnects_followed += 1
        return keepalive

    async def _drain(self, old: Any) -> None:
        """The old socket's frames until it closes."""
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in old:
                frame = json_object(raw)
                if frame is not None and _meta(frame, "message_type") in ("notification", "revocation"):
                    await self._frame(frame)

    async def _frame(self, frame: dict[str, Any]) -> None:
        kind = _meta(frame, "message_type")
        if kind == "notification":
            await self._notification(frame)
        elif kind == "revocation":
            self._revoked(frame)
        elif kind not in ("session_keepalive", "session_welcome"):
            self.not_understood_payload(f"message {kind}", "not a message type this connector reads")

    async def _notification(self, frame: dict[str, Any]) -> None:
        payload = _payload(frame)
        kind = _meta(frame, "subscription_type")
        if not isinstance(kind, str):
            subscription = payload.get("subscription")
            kind = subscription.get("type") if isinstance(subscription, dict) else None
        label = str(kind)
        message_id = _meta(frame, "message_id")
        event_id = message_id if isinstance(message_id, str) and message_id else None
        if isinstance(kind, str) and kind in SUBSCRIPTIONS and not self.settings.takes(kind):
            return  # subscribed before a setting left it out
        try:
            actions = translate(label, payload.get("event"), self.settings)
        except Malformed as exc:
            self.events_received += 1
            self.not_understood_payload(label, str(exc))
            return
        if actions is None:
            self.events_received += 1
            self.not_understood_payload(label, "not an event type this connector reads")
            return
        await self.deliver(event_id, actions, label)

    def _revoked(self, frame: dict[str, Any]) -> None:
        subscription = _payload(frame).get("subscription")
        subscription = subscription if isinstance(subscription, dict) else {}
        kind = str(subscription.get("type") or _meta(frame, "subscription_type") or "an event")
        status = str(subscription.get("status") or "no reason given")
        self.missing[kind] = f"revoked by Twitch: {status} ({REVOKED.get(status, 'see Twitch')})"
        if kind in self.subscribed:
            self.subscribed.remove(kind)
        log.warning("%s: %s no longer received: %s", self.name, kind, self.missing[kind])


def _meta(frame: dict[str, Any], key: str) -> Any:
    metadata = frame.get("metadata")
    return metadata.get(key) if isinstance(metadata, dict) else None


def _payload(frame: dict[str, Any]) -> dict[str, Any]:
    payload = frame.get("payload")
    return payload if isinstance(payload, dict) else {}


def _connect(url: str) -> Any:
    """websockets.connect to EventSub (Twitch sends keepalives: no pings of ours)."""
    return websockets.connect(url, open_timeout=OPEN_TIMEOUT_SECONDS, close_timeout=1.0,
                              max_size=MAX_FRAME_BYTES, compression=None, ping_interval=None)


async def _body(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        data = await response.json(content_type=None)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _message(data: dict[str, Any]) -> str:
    return str(data.get("message") or data.get("error") or "no reason given")[:200]
