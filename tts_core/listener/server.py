"""The listener thread: WebSocket and HTTP on one port, both thin over the protocol.

How one port serves both: websockets' asyncio server accepts every TCP connection,
and each connection object is our ``_Connection`` subclass (websockets'
``create_connection`` hook). Its ``data_received`` looks at the request head before
websockets does: a ``GET`` with ``Upgrade: websocket`` is handed to websockets
unchanged (handshake, Origin/token checks in ``process_request``, framing, pings,
close); anything else (``POST /event``, ``GET /health``) is answered right there from
the same protocol Session and the connection is closed. websockets' own HTTP parser
only accepts bodiless GET requests, hence the split. Everything runs on one asyncio
loop in one daemon thread; manager calls are short and never wait for synthesis or
playback, so they run on the loop directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, cast

from websockets.asyncio.server import Server, ServerConnection, broadcast, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from tts_core import __version__
from tts_core.config import ListenerConfig
from tts_core.events import Event
from tts_core.integration import StreamerBotIntegration
from tts_core.listener.http import (
    MAX_HEAD_BYTES,
    BodyTooLarge,
    HttpRequest,
    bearer_token,
    decode_chunked,
    format_response,
    parse_head,
    query_params,
)
from tts_core.listener.protocol import ErrorCode, encode, error_reply, http_status
from tts_core.listener.session import Dispatcher, RateLimit, Session, check_token, origin_allowed
from tts_core.manager import TTSQueueManager

log = logging.getLogger(__name__)

HARD_FRAME_FACTOR = 4  # frames up to 4x max_frame_bytes get a frame_too_large reply; larger: close 1009
OPEN_TIMEOUT_SECONDS = 5.0  # a connection that sends no complete request head in time is dropped
CLOSE_TIMEOUT_SECONDS = 0.4  # closing handshake budget per WebSocket client on stop
MAX_PUSH_BUFFER_BYTES = 4 * 1024 * 1024  # a subscriber this far behind is disconnected
CLOSE_TOO_SLOW = 1008
SERVER_HEADER = f"obs-tts-queue/{__version__}"


class ListenerServer:
    """Serves the listener protocol on ``ws://host:port/`` and ``http://host:port/`` in a
    background thread.

    Parameters: ``manager``; ``integration`` (default: a new StreamerBotIntegration on
    the manager, which also installs its moderation pipeline); ``config``
    (ListenerConfig; default: ``manager.config.listener``). ``port=0`` picks a free port;
    ``port`` tells which one after ``start()``.
    """

    def __init__(self, manager: TTSQueueManager, integration: StreamerBotIntegration | None = None,
                 config: ListenerConfig | None = None) -> None:
        self.manager = manager
        self.integration = integration or StreamerBotIntegration(manager)
        self.config = config or manager.config.listener
        self.config.validate()
        self.dispatcher = Dispatcher(manager, self.integration)
        self.host = self.config.host
        self.port = self.config.port
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._server: Server | None = None
        self._connections: set[_Connection] = set()
        self._http_rate = RateLimit(self.config.max_messages_per_second)
        self._push: _EventPush | None = None
        self._stop_budget = 0.8
        self._connection_class = type("ListenerConnection", (_Connection,), {"listener": self})

    # -- lifecycle -------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def url(self) -> str:
        return f"ws://{_url_host(self.host)}:{self.port}/"

    def start(self, timeout: float = 5.0) -> None:
        """Bind and serve in a background thread; raises OSError if the port is taken."""
        if self.is_running:
            return
        self.host, self.port = self.config.host, self.config.port
        self._started.clear()
        self._start_error = None
        self._thread = threading.Thread(target=self._run, name="tts-listener", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise TimeoutError(f"listener did not start within {timeout} s")
        if self._start_error is not None:
            self._thread.join(1.0)
            self._thread = None
            raise self._start_error
        log.info("listener on %s (HTTP: POST /event, GET /health)", self.url)

    def stop(self, timeout: float = 1.0) -> None:
        """Close every connection and the port, and end the thread within ``timeout`` seconds."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        self._stop_budget = max(0.05, timeout - 0.2)  # leave time for the loop to wind down
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        if thread.is_alive():
            log.warning("listener thread still running %.1f s after stop", timeout)
        else:
            self._thread = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # reported by start()
            if not self._started.is_set():
                self._start_error = exc
            else:
                log.exception("listener stopped on an error")
        finally:
            self._started.set()
            _cancel_remaining(loop)
            loop.close()

    async def _main(self) -> None:
        self._stopping = asyncio.Event()
        self._push = _EventPush(self.manager, asyncio.get_running_loop())
        self._server = await serve(
            self._handle_websocket, self.host, self.port,
            create_connection=self._connection_class, process_request=self._check_handshake,
            max_size=self.config.max_frame_bytes * HARD_FRAME_FACTOR, server_header=SERVER_HEADER,
            open_timeout=OPEN_TIMEOUT_SECONDS, close_timeout=CLOSE_TIMEOUT_SECONDS,
            compression=None, logger=logging.getLogger("tts_core.listener.websockets"),
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._started.set()
        await self._stopping.wait()
        await self._shutdown(self._stop_budget)

    async def _shutdown(self, budget: float) -> None:
        assert self._server is not None and self._push is not None
        self._push.close()
        self._server.close()
        for conn in list(self._connections):
            if conn.mode != "websocket":  # idle or mid-HTTP: nothing to close politely
                conn.transport.abort()
        try:
            await asyncio.wait_for(self._server.wait_closed(), budget)
        except TimeoutError:
            for conn in list(self._connections):
                conn.transport.abort()
            await asyncio.sleep(0)

    # -- WebSocket -------------------------------------------------------------------

    def _check_handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        conn = cast(_Connection, connection)
        origin = request.headers.get("Origin")
        if not origin_allowed(origin, self.config.allowed_origins):
            log.warning("listener: refused a WebSocket from origin %s (not in allowed_origins)", origin)
            return _reject(connection, 403, ErrorCode.FORBIDDEN_ORIGIN,
                           f"origin {origin} is not in listener.allowed_origins")
        token = bearer_token({k.lower(): v for k, v in request.headers.raw_items()})
        if token is None:
            token = query_params(request.path).get("token")
        if token is not None and not check_token(token, self.config.token):
            log.warning("listener: refused a WebSocket with a wrong token")
            return _reject(connection, 401, ErrorCode.UNAUTHORIZED, "wrong token")
        conn.authenticated = token is not None or not self.config.token
        return None

    async def _handle_websocket(self, connection: ServerConnection) -> None:
        conn = cast(_Connection, connection)
        assert self._push is not None
        session = self._session("websocket", conn.authenticated)
        peer = _peer(conn)
        log.info("listener: client %s connected", peer)
        try:
            async for data in conn:
                outcome = session.receive(data, time.monotonic())
                await conn.send(encode(outcome.reply))
                if outcome.subscribe is not None:
                    self._push.set(conn, outcome.subscribe)
                if outcome.close is not None:
                    log.warning("listener: closing %s: %s", peer, outcome.close[1])
                    await conn.close(*outcome.close)
                    break
        except ConnectionClosed:
            pass
        finally:
            self._push.set(conn, frozenset())
            log.info("listener: client %s disconnected (%s)", peer, conn.close_code)

    def _session(self, transport: str, authenticated: bool, rate: RateLimit | None = None) -> Session:
        cfg = self.config
        return Session(self.dispatcher, token=cfg.token, authenticated=authenticated,
                       max_frame_bytes=cfg.max_frame_bytes, max_per_second=cfg.max_messages_per_second,
                       transport=transport, rate=rate)

    # -- HTTP --------------------------------------------------------------------------

    def serve_http(self, request: HttpRequest, body: bytes) -> bytes:
        """Answer one plain HTTP request (POST /event, GET /health); returns the response bytes."""
        origin = request.headers.get("origin")
        if not origin_allowed(origin, self.config.allowed_origins):
            log.warning("listener: refused HTTP %s %s from origin %s", request.method, request.path, origin)
            return _json_response(error_reply(None, ErrorCode.FORBIDDEN_ORIGIN,
                                              f"origin {origin} is not in listener.allowed_origins"))
        cors = _cors_headers(origin)
        if request.method == "OPTIONS":
            return format_response(204, "", cors)
        if request.path == "/health":
            if request.method != "GET":
                return _method_not_allowed("GET", cors)
            return _json_response({"status": "ok", **self._health()}, cors)
        if request.path != "/event":
            hint = "no such path; use POST /event, GET /health or a WebSocket on /"
            return _json_response(error_reply(None, ErrorCode.NOT_FOUND, hint), cors)
        if request.method != "POST":
            return _method_not_allowed("POST", cors)
        token = bearer_token(request.headers) or request.query.get("token")
        if token is not None and not check_token(token, self.config.token):
            return _json_response(error_reply(None, ErrorCode.UNAUTHORIZED, "wrong token"), cors)
        session = self._session("http", token is not None, self._http_rate)
        return _json_response(session.receive(body, time.monotonic()).reply, cors)

    def _health(self) -> dict[str, Any]:
        return {"version": __version__, "running": self.manager.is_running, "enabled": self.manager.enabled,
                "paused": self.manager.paused, "pending": len(self.manager.queue)}


class _Connection(ServerConnection):
    """A websockets connection that answers plain HTTP requests itself (see module docstring).

    ``mode``: "sniff" until the request head is complete, then "websocket" or "http".
    """

    listener: ListenerServer
    authenticated: bool = False
    mode: str = "sniff"

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._head = bytearray()
        self._request: HttpRequest | None = None
        self._continued = False
        self.listener._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener._connections.discard(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.mode == "websocket":
            super().data_received(data)
            return
        if self.mode == "done":  # answered; the connection is closing
            return
        self._head += data
        if self.mode == "sniff":
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                if len(self._head) > MAX_HEAD_BYTES:
                    self._answer(format_response(431, '{"status":"error"}'))
                return
            request = parse_head(bytes(self._head[:end]))
            if request is None or request.is_websocket_upgrade:
                self.mode = "websocket"  # websockets answers malformed heads itself (400)
                buffered, self._head = bytes(self._head), bytearray()
                super().data_received(buffered)
                return
            self.mode, self._request = "http", request
            del self._head[: end + 4]
        self._http_body()

    def _http_body(self) -> None:
        request = self._request
        assert request is not None
        limit = self.listener.config.max_frame_bytes
        if "chunked" in request.headers.get("transfer-encoding", "").lower():
            try:
                if len(self._head) > 2 * limit + MAX_HEAD_BYTES:  # chunk headers cannot be that many
                    raise BodyTooLarge(f"body is larger than {limit} bytes")
                body = decode_chunked(bytes(self._head), limit)
            except BodyTooLarge as exc:
                return self._answer(_error_response(ErrorCode.FRAME_TOO_LARGE, str(exc)))
            except ValueError as exc:
                return self._answer(_error_response(ErrorCode.INVALID_FRAME, str(exc)))
        else:
            length = request.content_length
            if length is None and request.method == "POST":
                hint = "send the body with a Content-Length header (or chunked)"
                return self._answer(_error_response(ErrorCode.INVALID_FRAME, hint, status=411))
            if length is not None and length > limit:
                too_large = f"body is larger than {limit} bytes"
                return self._answer(_error_response(ErrorCode.FRAME_TOO_LARGE, too_large))
            body = bytes(self._head[: length or 0]) if len(self._head) >= (length or 0) else None
        if body is None:
            if request.headers.get("expect", "").lower() == "100-continue" and not self._continued:
                self._continued = True  # curl waits a second for this before sending a body
                self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            return None
        try:
            response = self.listener.serve_http(request, body)
        except Exception:
            log.exception("listener: HTTP %s %s failed", request.method, request.path)
            response = _error_response(ErrorCode.INTERNAL_ERROR, "see the log")
        return self._answer(response)

    def _answer(self, response: bytes) -> None:
        self.mode = "done"
        self.transport.write(response)
        self.transport.close()

    def eof_received(self) -> None:
        if self.mode == "websocket":
            super().eof_received()
        # Otherwise returning None lets asyncio close the transport.


class _EventPush:
    """Pushes the manager's events to subscribed WebSocket clients.

    The manager calls back on its event thread; events are batched into one loop
    callback (not one per event). The listener subscribes to the manager only while
    some client is subscribed, so an unwatched queue pays nothing.
    """

    def __init__(self, manager: TTSQueueManager, loop: asyncio.AbstractEventLoop) -> None:
        self.manager = manager
        self.loop = loop
        self._subscribers: dict[_Connection, frozenset[str]] = {}
        self._pending: deque[Event] = deque()
        self._lock = threading.Lock()
        self._scheduled = False
        self._unsubscribe: Callable[[], None] | None = None

    def set(self, conn: _Connection, names: frozenset[str]) -> None:
        """Push ``names`` to ``conn`` from now on (empty: nothing)."""
        if names:
            self._subscribers[conn] = names
        else:
            self._subscribers.pop(conn, None)
        if self._subscribers and self._unsubscribe is None:
            self._unsubscribe = self.manager.subscribe(self._on_event)
        elif not self._subscribers and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def close(self) -> None:
        self._subscribers.clear()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event: Event) -> None:  # manager's event thread
        with self._lock:
            self._pending.append(event)
            if self._scheduled:
                return
            self._scheduled = True
        with contextlib.suppress(RuntimeError):  # loop closed: the listener is stopping
            self.loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:  # loop thread
        with self._lock:
            events = list(self._pending)
            self._pending.clear()
            self._scheduled = False
        texts = [(event["event"], encode(event)) for event in events]
        for conn, names in list(self._subscribers.items()):
            if conn.transport.get_write_buffer_size() > MAX_PUSH_BUFFER_BYTES:
                log.warning("listener: subscriber %s is too slow; disconnecting it", _peer(conn))
                self._subscribers.pop(conn, None)
                self.loop.create_task(conn.close(CLOSE_TOO_SLOW, "subscriber too slow"))
                continue
            for name, text in texts:
                if name in names:
                    broadcast([conn], text)


def _reject(connection: ServerConnection, status: int, code: str, message: str) -> Response:
    response = connection.respond(status, encode(error_reply(None, code, message)))
    headers = Headers((k, v) for k, v in response.headers.raw_items() if k.lower() != "content-type")
    headers["Content-Type"] = "application/json; charset=utf-8"
    response.headers = headers
    return response


def _json_response(reply: dict[str, Any], extra_headers: dict[str, str] | None = None,
                   status: int | None = None) -> bytes:
    return format_response(status or http_status(reply), encode(reply), extra_headers)


def _error_response(code: str, message: str, status: int | None = None) -> bytes:
    return _json_response(error_reply(None, code, message), status=status)


def _method_not_allowed(allowed: str, cors: dict[str, str]) -> bytes:
    reply = error_reply(None, ErrorCode.METHOD_NOT_ALLOWED, f"use {allowed} here")
    return _json_response(reply, {**cors, "Allow": allowed})


def _cors_headers(origin: str | None) -> dict[str, str]:
    """Only reached for allow-listed origins (or none): let those pages read replies."""
    if origin is None:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type"}


def _peer(conn: ServerConnection) -> str:
    try:
        host, port = conn.remote_address[:2]
    except (OSError, TypeError, ValueError):
        return "?"
    return f"{host}:{port}"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _cancel_remaining(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
