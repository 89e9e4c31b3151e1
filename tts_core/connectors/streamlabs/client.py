"""The Streamlabs connector: a client of Streamlabs' Socket API (socket.io).

One connection (``session``): open ``connectors.streamlabs.url`` with the socket token in
the query (``?token=...``, as Streamlabs asks) over a WebSocket with python-socketio's
``AsyncClient``; read every ``event`` until the connection ends. Streamlabs needs no
subscription: the token names the account, and every alert of it arrives.

Reconnecting is the base's alone (``reconnection=False`` here): one owner of the back-off,
the state and the log lines, whatever python-socketio would do by itself. A namespace
refused by the server (socket.io ``CONNECT_ERROR``) or an HTTP 401/403 at the handshake is
a refused token (``auth_failed``, tried again every minute); anything else is an outage.
Liveness is python-engineio's: the server pings, and a silent server ends the connection.

python-socketio is an optional extra (``pip install "obs-tts-queue[streamlabs]"``),
imported at the first connection: the core and the OBS script run without it, and a
streamer who switches Streamlabs on without it sees what to install in the state.
The token is never logged, shown or put in an error: the library's own log lines go
through ``LIBRARY_LOG``, which hides every ``token=`` value.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import urllib.parse
from typing import Any

import aiohttp

from tts_core.config import TTSConfig
from tts_core.config.streamlabs import StreamlabsConnectorConfig
from tts_core.connectors.base import AuthFailed, Connector, ConnectorError
from tts_core.connectors.streamlabs.mapping import NOT_READ, GiftBombs, Malformed, platform, translate

log = logging.getLogger(__name__)

OPEN_TIMEOUT_SECONDS = 10.0  # TCP, TLS and the WebSocket handshake
NAMESPACE_TIMEOUT_SECONDS = 10.0  # then socket.io's answer to our CONNECT
CLOSE_TIMEOUT_SECONDS = 2.0
INSTALL_HELP = ('python-socketio is not installed: pip install "obs-tts-queue[streamlabs]" '
                '(or pip install "python-socketio[asyncio_client]>=5,<6") into the Python that runs this')
TOKEN_HELP = ("copy the Socket API Token from Streamlabs (Account Settings > API Settings > API Tokens) "
              "into the connector's settings")
_TOKEN_IN_TEXT = re.compile(r"(token=)[^&\s'\"]+", re.IGNORECASE)


def hide_token(text: str) -> str:
    """``text`` with every ``token=<value>`` shown as ``token=***``."""
    return _TOKEN_IN_TEXT.sub(r"\1***", text)


class _HideToken(logging.Filter):
    """python-engineio logs the address it connects to, query and all: never the token."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = hide_token(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True


# python-socketio's and python-engineio's log lines, errors only (their INFO lines repeat every
# packet, their warnings every close, which the state already says), without the token.
LIBRARY_LOG = logging.getLogger(f"{__name__}.library")
LIBRARY_LOG.setLevel(logging.ERROR)
LIBRARY_LOG.addFilter(_HideToken())


def address(settings: StreamlabsConnectorConfig) -> str:
    """Where python-socketio connects: the server with ``?token=`` (never logged)."""
    return f"{settings.url.rstrip('/')}/?{urllib.parse.urlencode({'token': settings.socket_token.strip()})}"


def _library() -> Any:
    try:
        import socketio  # the optional extra "streamlabs"
    except ImportError:
        raise ConnectorError(INSTALL_HELP) from None
    return socketio


class StreamlabsConnector(Connector):
    """Tips, follows, subs, bits, raids and YouTube Super Chats and members from Streamlabs."""

    name = "streamlabs"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gifts = GiftBombs()  # across reconnections, like the duplicate filter

    @classmethod
    def section(cls, config: TTSConfig) -> StreamlabsConnectorConfig:
        return config.connectors.streamlabs

    def describe(self, settings: StreamlabsConnectorConfig) -> str:
        return f"Streamlabs at {settings.url}"

    # -- one connection ------------------------------------------------------------------------

    async def session(self, settings: StreamlabsConnectorConfig) -> None:
        if not settings.socket_token.strip():
            raise AuthFailed(f"no socket token: {TOKEN_HELP}")
        socketio = _library()
        arrived: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        refusals: list[Any] = []
        http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(
            total=None, connect=OPEN_TIMEOUT_SECONDS, sock_connect=OPEN_TIMEOUT_SECONDS))
        sio = socketio.AsyncClient(reconnection=False, logger=LIBRARY_LOG, engineio_logger=LIBRARY_LOG,
                                   handle_sigint=False, http_session=http,
                                   request_timeout=OPEN_TIMEOUT_SECONDS)
        # Handlers only queue what arrives (in order); the session reads the queue.
        sio.on("event", lambda *data: arrived.put_nowait(("event", data[0] if data else None)))
        sio.on("connect_error", lambda *data: refusals.append(data[0] if data else None))
        sio.on("disconnect", lambda *why: arrived.put_nowait(("closed", why[0] if why else None)))
        try:
            try:
                await asyncio.wait_for(
                    sio.connect(address(settings), transports=["websocket"],
                                wait_timeout=NAMESPACE_TIMEOUT_SECONDS),
                    OPEN_TIMEOUT_SECONDS + NAMESPACE_TIMEOUT_SECONDS + 1)
            except socketio.exceptions.ConnectionError as exc:
                raise _refused(exc, refusals, settings) from None
            except (TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11
                raise ConnectorError(f"no answer from {settings.url} within "
                                     f"{OPEN_TIMEOUT_SECONDS + NAMESPACE_TIMEOUT_SECONDS:.0f} s") from None
            self.connected()
            while True:
                kind, data = await arrived.get()
                if kind == "closed":
                    raise ConnectorError(f"Streamlabs closed the connection ({data or 'no reason given'})")
                await self._received(data)
        finally:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(sio.disconnect(), CLOSE_TIMEOUT_SECONDS)
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await http.close()

    # -- events --------------------------------------------------------------------------------

    async def _received(self, frame: Any) -> None:
        label = _label(frame)
        try:
            items = translate(frame, self.gifts, self.settings.reward_titles)
        except Malformed as exc:
            self.events_received += 1
            self.not_understood_payload(label, str(exc))
            return
        if not items:
            why = NOT_READ.get(str(frame.get("type")), "not an alert this connector reads")
            log.debug("%s: %s not read (%s)", self.name, label, why)
            return
        for item in items:
            if item.is_test:
                log.info("%s: test alert %s", self.name, item.label)
            await self.deliver(item.event_id, item.actions, item.label)


def _label(frame: Any) -> str:
    if isinstance(frame, dict):
        return f"{platform(frame)}.{frame.get('type')}"
    return "an event"


def _refused(exc: BaseException, refusals: list[Any], settings: StreamlabsConnectorConfig) -> Exception:
    """What a failed connect means, in the streamer's words (never with the token)."""
    if exc.__cause__ is None and refusals:  # the transport was up: socket.io refused us (CONNECT_ERROR)
        said = refusals[-1] if refusals else None
        if isinstance(said, dict):
            said = said.get("message", said)
        why = hide_token(str(said))[:200] if said else "no reason given"
        return AuthFailed(f"Streamlabs refused the socket token ({why}): {TOKEN_HELP}")
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, aiohttp.WSServerHandshakeError):
            if cause.status in (401, 403):
                return AuthFailed(f"Streamlabs refused the socket token (HTTP {cause.status}): {TOKEN_HELP}")
            return ConnectorError(f"{settings.url} answered HTTP {cause.status}, not Socket.IO: "
                                  "check connectors.streamlabs.url")
        if isinstance(cause, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError)):
            return ConnectorError(f"cannot reach {settings.url}: its TLS certificate could not be checked "
                                  "(is this Python's certificate store installed and the clock right?)")
        if isinstance(cause, aiohttp.ClientConnectorError):
            if isinstance(cause.os_error, ConnectionRefusedError):
                return ConnectorError(f"connection refused by {settings.url}")
            return ConnectorError(f"cannot reach {settings.url} ({cause.os_error.strerror or 'no route'})")
        if isinstance(cause, aiohttp.ClientError):
            return ConnectorError(f"cannot reach {settings.url} ({type(cause).__name__})")
        cause = cause.__cause__ or cause.__context__
    said = hide_token(str(exc.args[0]) if exc.args else type(exc).__name__)
    if exc.__cause__ is None:
        return ConnectorError(f"{settings.url} did not accept the Socket.IO connection in time ({said})")
    if "OPEN packet" in said:
        return ConnectorError(f"{settings.url} did not answer as a Socket.IO server (Engine.IO 4): {said}")
    return ConnectorError(f"cannot connect to {settings.url}: {said}")
