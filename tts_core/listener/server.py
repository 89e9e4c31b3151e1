"""The listener thread: WebSocket and HTTP on one port, both thin over the protocol.

aiohttp's low-level server (``aiohttp.web.Server``) parses every request, incrementally
(request heads and chunked bodies as they arrive); a ``GET`` with ``Upgrade:
websocket`` becomes an aiohttp ``WebSocketResponse`` (handshake, framing, pings,
close), anything else (``POST /event``, ``GET /health``, ``GET /overlay``) is answered
from the same protocol Session and the connection is closed. Before anything is
served, ``guard`` checks the Host (DNS rebinding), the Origin (browser pages) and the
token (with a per-address limit on wrong ones). Everything runs on one asyncio loop in
one daemon thread; manager calls are short and never wait for synthesis or playback,
so they run on the loop directly.

Bounds per connection: at most ``listener.max_connections`` at once (lowered to half
the process's open-file limit); a connection must send a complete request (and, with a
token, authenticate) within ``listener.unauthenticated_timeout_seconds``; a client
with more than MAX_UNSENT_BYTES it has not read (replies, pongs, pushed events) is
closed with 1008 (dropped if it cannot even take the close frame). Log lines about floods are rate-limited.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import WSMsgType, web

from tts_core import __version__
from tts_core.config import ListenerConfig
from tts_core.events import Event
from tts_core.integration import StreamerBotIntegration
from tts_core.listener.guard import (
    HostAllowList,
    OneLine,
    RateLimitedLog,
    TokenAttempts,
    affordable_connections,
    install_log_limits,
    same_origin,
    usable_origins,
)
from tts_core.listener.overlay import OVERLAY_HTML, overlay_csp
from tts_core.listener.protocol import ErrorCode, encode, error_reply, http_status
from tts_core.listener.session import Dispatcher, RateLimit, Session, check_token, origin_allowed
from tts_core.manager import TTSQueueManager

log = logging.getLogger(__name__)
http_log = logging.getLogger("tts_core.listener.http")  # aiohttp's own messages (malformed requests)

HARD_FRAME_FACTOR = 4  # frames up to 4x max_frame_bytes get a frame_too_large reply; larger: close 1009
MAX_HEAD_LINE_BYTES = 16 * 1024  # request line and each header line
CLOSE_TIMEOUT_SECONDS = 0.4  # closing handshake budget per WebSocket client
HEARTBEAT_SECONDS = 20.0  # ping idle WebSocket clients; one that does not answer is closed
MAX_UNSENT_BYTES = 256 * 1024  # unread replies, pongs, events (beyond the OS buffers): client closed
MAX_UNANSWERED_PINGS = 1000  # pings in a row while the previous pong is still unsent: client closed
SEND_BUFFER_BYTES = 256 * 1024  # kernel send buffer per WebSocket (so a non-reader shows up quickly)
LINGER_SECONDS = 1.0  # after answering early (413, 408), read and ignore the rest of a body this long
REFUSED_LINGER_SECONDS = 0.5  # a refused connection is closed at the latest after this
CLOSE_TOO_SLOW = 1008
CLOSE_POLICY_VIOLATION = 1008
CLOSE_GOING_AWAY = 1001
SERVER_HEADER = f"obs-tts-queue/{__version__}"
LIMITED_LOGGERS = ("tts_core.listener.server", "tts_core.listener.session", "tts_core.listener.guard",
                   "tts_core.listener.http")
_log_limit = RateLimitedLog()


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
        self._http: web.Server | None = None
        self._tcp: asyncio.Server | None = None
        self._clients: set[_Client] = set()
        self._greeted: set[web.RequestHandler] = set()  # connections whose request head arrived
        self._http_rate = RateLimit(self.config.max_messages_per_second)
        self._attempts = TokenAttempts()
        self._hosts = HostAllowList.build(self.config.host, self.config.allowed_hosts)
        self._origins: list[str] = []
        self._max_connections = self.config.max_connections
        self._push: _EventPush | None = None
        self._stop_budget = 0.8

    # -- lifecycle -------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def url(self) -> str:
        return f"ws://{_url_host(self.host)}:{self.port}/"

    def start(self, timeout: float = 5.0) -> None:
        """Bind and serve in a background thread; raises OSError naming ``listener.host`` or
        ``listener.port`` if that address cannot be used (unknown name, port taken)."""
        if self.is_running:
            return
        cfg = self.config
        self.host, self.port = cfg.host, cfg.port
        self._hosts = HostAllowList.build(cfg.host, cfg.allowed_hosts)
        self._origins = usable_origins(cfg.allowed_origins)
        self._max_connections = affordable_connections(cfg.max_connections)
        if self._max_connections < cfg.max_connections:
            log.warning("listener: at most %d connections (half of this process's open-file limit; "
                        "listener.max_connections is %d)", self._max_connections, cfg.max_connections)
        install_log_limits(LIMITED_LOGGERS, _log_limit)  # first: it counts by message template
        install_log_limits(["tts_core.listener.http"], OneLine())
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
        log.info("listener on %s (HTTP: POST /event, GET /health%s)", self.url,
                 ", GET /overlay" if cfg.overlay else "")

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
        loop.set_exception_handler(_log_loop_error)
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
        loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._push = _EventPush(self.manager, loop)
        self._http = web.Server(
            self._handle, logger=http_log, access_log=None, auto_decompress=False,
            max_line_size=MAX_HEAD_LINE_BYTES, max_field_size=MAX_HEAD_LINE_BYTES,
            lingering_time=LINGER_SECONDS,
        )
        self._tcp = await self._bind(loop)
        self.port = self._tcp.sockets[0].getsockname()[1]
        self._started.set()
        await self._stopping.wait()
        await self._shutdown(self._stop_budget)

    async def _bind(self, loop: asyncio.AbstractEventLoop) -> asyncio.Server:
        host, port = self.host, self.port
        try:
            return await loop.create_server(self._accept, host, port)
        except socket.gaierror as exc:
            error = OSError(f"listener.host {host!r} is not a known address ({exc.strerror}); use an IP "
                            "address of this machine: 127.0.0.1 (this PC only) or 0.0.0.0 (every network)")
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                error = OSError(f"listener.port {port} on {host} is already in use (another listener or "
                                "program); choose another listener.port")
            elif exc.errno == errno.EADDRNOTAVAIL:
                error = OSError(f"listener.host {host!r} is not an address of this machine; use one of its "
                                "addresses, 127.0.0.1 (this PC only) or 0.0.0.0 (every network)")
            else:
                error = OSError(f"listener.host {host!r}, listener.port {port}: {exc.strerror or exc}")
            error.errno = exc.errno
        raise error from None

    async def _shutdown(self, budget: float) -> None:
        assert self._tcp is not None and self._http is not None and self._push is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        self._push.close()
        self._tcp.close()
        closing = [loop.create_task(client.close(CLOSE_GOING_AWAY, "server stopping"))
                   for client in list(self._clients)]
        if closing:
            await asyncio.wait(closing, timeout=max(0.01, (deadline - loop.time()) * 0.7))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._http.shutdown(max(0.01, deadline - loop.time())),
                                   max(0.02, deadline - loop.time()))
        for handler in self._http.connections:  # still open after the budget
            if handler.transport is not None:
                handler.transport.abort()
        await asyncio.sleep(0)

    # -- connections -------------------------------------------------------------------

    def _accept(self) -> asyncio.BaseProtocol:
        """The protocol for a new TCP connection: aiohttp's, or a refusal beyond the limit."""
        assert self._http is not None and self._loop is not None
        if len(self._http.connections) >= self._max_connections:
            log.warning("listener: %d connections open; refusing new ones (listener.max_connections)",
                        self._max_connections)
            return _Refused()
        handler = self._http()
        self._loop.call_later(self.config.unauthenticated_timeout_seconds, self._expire, handler)
        return handler

    def _expire(self, handler: web.RequestHandler) -> None:
        if handler in self._greeted:
            self._greeted.discard(handler)
            return
        transport = handler.transport
        if transport is not None and not transport.is_closing():
            log.info("listener: closed a connection that sent no complete request within %g s",
                     self.config.unauthenticated_timeout_seconds)
            transport.close()

    # -- requests ------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        self._greeted.add(request.protocol)
        host = request.headers.get("Host")
        if not self._hosts.allows(host):
            log.warning("listener: refused %s %s for Host %r (not in listener.allowed_hosts)",
                        request.method, request.path, host)
            hint = f"Host {host} is not served here (add it to listener.allowed_hosts if it is this machine)"
            return _json_response(error_reply(None, ErrorCode.FORBIDDEN_HOST, hint))
        try:
            if request.method == "GET" and "websocket" in request.headers.get("Upgrade", "").lower():
                return await self._websocket(request)
            return await self._http_request(request)
        except ConnectionError:  # the client went away mid-request: nobody to answer
            log.debug("listener: %s %s: the client disconnected", request.method, request.path)
            return _error_response(ErrorCode.INVALID_FRAME, "connection lost", status=400)
        except Exception:
            log.exception("listener: %s %s failed", request.method, request.path)
            return _json_response(error_reply(None, ErrorCode.INTERNAL_ERROR, "see the log"))

    def _origin_ok(self, origin: str | None, host: str | None) -> bool:
        return origin is None or origin_allowed(origin, self._origins) or same_origin(origin, host)

    def _token_refusal(self, token: str | None, peer: str) -> dict[str, Any] | None:
        """None if the token (from a header or the URL) may pass, else the error reply."""
        if token is None or not self.config.token:
            return None
        wait = self._attempts.locked(peer)
        if wait > 0:
            return error_reply(None, ErrorCode.TOO_MANY_ATTEMPTS,
                               f"too many wrong tokens from this address; try again in {wait:.0f} s")
        ok = check_token(token, self.config.token)
        self._attempts.record(peer, ok)
        return None if ok else error_reply(None, ErrorCode.UNAUTHORIZED, "wrong token")

    async def _http_request(self, request: web.BaseRequest) -> web.StreamResponse:
        method, path = request.method, request.path
        origin = request.headers.get("Origin")
        if not self._origin_ok(origin, request.headers.get("Host")):
            log.warning("listener: refused HTTP %s %s from origin %s", method, path, origin)
            return _json_response(error_reply(None, ErrorCode.FORBIDDEN_ORIGIN,
                                              f"origin {origin} is not in listener.allowed_origins"))
        cors = _cors_headers(origin)
        if method == "OPTIONS":
            return _response(204, "", cors)
        if path == "/health":
            if method != "GET":
                return _method_not_allowed("GET", cors)
            return _json_response({"status": "ok", **self._health()}, cors)
        if path == "/overlay" and self.config.overlay:
            if method != "GET":
                return _method_not_allowed("GET", cors)
            return _overlay_response(request.headers.get("Host") or f"{_url_host(self.host)}:{self.port}")
        if path != "/event":
            hint = "no such path; use POST /event, GET /health, GET /overlay or a WebSocket on /"
            return _json_response(error_reply(None, ErrorCode.NOT_FOUND, hint), cors)
        if method != "POST":
            return _method_not_allowed("POST", cors)
        token = _bearer_token(request.headers) or request.query.get("token")
        refusal = self._token_refusal(token, request.remote or "?")
        if refusal is not None:
            return _json_response(refusal, cors)
        body = await self._read_body(request)
        if isinstance(body, web.StreamResponse):
            return body
        session = self._session("http", token is not None, self._http_rate, peer=request.remote or "?")
        return _json_response(session.receive(body, time.monotonic()).reply, cors)

    async def _read_body(self, request: web.BaseRequest) -> bytes | web.StreamResponse:
        """The request body, read as it arrives (within the time-out), or the error response."""
        limit = self.config.max_frame_bytes
        too_large = f"body is larger than {limit} bytes"
        chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        length = request.content_length
        if length is None and not chunked:
            hint = "send the body with a Content-Length header (or chunked)"
            return _error_response(ErrorCode.INVALID_FRAME, hint, status=411)
        if length is not None and length > limit:
            return _error_response(ErrorCode.FRAME_TOO_LARGE, too_large)
        if request.headers.get("Expect", "").lower() == "100-continue":
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # as aiohttp's router does
        body = bytearray()
        timeout = self.config.unauthenticated_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                while chunk := await request.content.readany():
                    body += chunk
                    if len(body) > limit:
                        return _error_response(ErrorCode.FRAME_TOO_LARGE, too_large)
        except TimeoutError:
            return _error_response(ErrorCode.INVALID_FRAME, f"the body did not arrive within {timeout:g} s",
                                   status=408)
        except ValueError as exc:  # aiohttp's HttpProcessingError family: a malformed body
            return _error_response(ErrorCode.INVALID_FRAME, f"malformed body: {exc}")
        return bytes(body)

    def _session(self, transport: str, authenticated: bool, rate: RateLimit | None = None,
                 peer: str | None = None) -> Session:
        cfg = self.config
        attempts = self._attempts.for_client(peer) if peer is not None else None
        return Session(self.dispatcher, token=cfg.token, authenticated=authenticated,
                       max_frame_bytes=cfg.max_frame_bytes, max_per_second=cfg.max_messages_per_second,
                       transport=transport, rate=rate, attempts=attempts)

    def _health(self) -> dict[str, Any]:
        return {"version": __version__, "running": self.manager.is_running, "enabled": self.manager.enabled,
                "paused": self.manager.paused, "pending": len(self.manager.queue)}

    # -- WebSocket -------------------------------------------------------------------

    async def _websocket(self, request: web.BaseRequest) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if not self._origin_ok(origin, request.headers.get("Host")):
            log.warning("listener: refused a WebSocket from origin %s (not in allowed_origins)", origin)
            return _json_response(error_reply(None, ErrorCode.FORBIDDEN_ORIGIN,
                                              f"origin {origin} is not in listener.allowed_origins"))
        peer_address = request.remote or "?"
        token = _bearer_token(request.headers) or request.query.get("token")
        refusal = self._token_refusal(token, peer_address)
        if refusal is not None:
            return _json_response(refusal)
        # autoping off: pings are answered here (see _Client.answer_ping), so a client that
        # pings without reading is closed instead of the handler waiting on its pongs.
        ws = web.WebSocketResponse(max_msg_size=self.config.max_frame_bytes * HARD_FRAME_FACTOR,
                                   compress=False, heartbeat=HEARTBEAT_SECONDS, timeout=CLOSE_TIMEOUT_SECONDS,
                                   autoping=False)
        ws.headers["Server"] = SERVER_HEADER
        try:
            await ws.prepare(request)
        except web.HTTPException as exc:  # not a valid handshake (no key, wrong version, ...)
            return _error_response(ErrorCode.INVALID_FRAME, f"not a WebSocket handshake: {exc.text}",
                                   status=exc.status)
        transport = request.transport
        _limit_buffers(transport)
        client = _Client(ws, transport, _peer(request))
        session = self._session("websocket", token is not None, peer=peer_address)
        await self._converse(client, session)
        return ws

    async def _converse(self, client: _Client, session: Session) -> None:
        assert self._push is not None
        loop = asyncio.get_running_loop()
        ws = client.ws
        auth_deadline = loop.time() + self.config.unauthenticated_timeout_seconds
        self._clients.add(client)
        log.info("listener: client %s connected", client.peer)
        try:
            while True:
                if session.authenticated:
                    msg = await ws.receive()
                else:
                    msg = await ws.receive(timeout=max(0.0, auth_deadline - loop.time()))
                if msg.type is WSMsgType.PONG:
                    continue
                if client.too_far_behind():
                    log.warning("listener: closing %s: more than %d KiB it has not read", client.peer,
                                MAX_UNSENT_BYTES // 1024)
                    await client.close(CLOSE_TOO_SLOW, "not reading")
                    break
                if msg.type is WSMsgType.PING:
                    if not await client.answer_ping(msg.data):
                        log.warning("listener: closing %s: %d pings while not reading the answers",
                                    client.peer, MAX_UNANSWERED_PINGS)
                        await client.close(CLOSE_TOO_SLOW, "not reading")
                        break
                    continue
                if msg.type is not WSMsgType.TEXT and msg.type is not WSMsgType.BINARY:
                    break  # closed, closing or a protocol error (aiohttp has sent the close frame)
                outcome = session.receive(msg.data, time.monotonic())
                await ws.send_str(encode(outcome.reply))
                if outcome.subscribe is not None:
                    self._push.set(client, outcome.subscribe)
                if outcome.close is not None:
                    log.warning("listener: closing %s: %s", client.peer, outcome.close[1])
                    await client.close(*outcome.close)
                    break
        except TimeoutError:
            log.info("listener: closing %s: not authenticated within %g s", client.peer,
                     self.config.unauthenticated_timeout_seconds)
            await client.close(CLOSE_POLICY_VIOLATION, "authentication time-out")
        except ConnectionError:  # the client went away mid-send
            client.abort()
        finally:
            self._push.set(client, frozenset())
            self._clients.discard(client)
            log.info("listener: client %s disconnected (%s)", client.peer, ws.close_code)


class _Client:
    """One WebSocket connection: its aiohttp response, transport, and pushed-event outbox."""

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport | None, peer: str) -> None:
        self.ws = ws
        self.transport = transport
        self.peer = peer
        self.closing = False
        self._unanswered_pings = 0
        self._outbox: deque[str] = deque()
        self._outbox_chars = 0
        self._writer: asyncio.Task[None] | None = None

    def unsent(self) -> int:
        """Bytes sent to this client that it has not read yet (roughly: events count characters)."""
        buffered = self.transport.get_write_buffer_size() if self.transport is not None else 0
        return buffered + self._outbox_chars

    def too_far_behind(self) -> bool:
        return self.unsent() > MAX_UNSENT_BYTES

    async def answer_ping(self, data: bytes) -> bool:
        """Pong, unless the last answer is still unsent (RFC 6455 5.5.3 allows answering
        only the latest ping): a flood of pings then costs no memory. False after
        MAX_UNANSWERED_PINGS such pings in a row (the client is not reading)."""
        if self.transport is not None and self.transport.get_write_buffer_size() > 0:
            self._unanswered_pings += 1
            return self._unanswered_pings <= MAX_UNANSWERED_PINGS
        self._unanswered_pings = 0
        await self.ws.pong(data)
        return True

    def push(self, texts: list[str]) -> bool:
        """Queue pushed events; False if the client is too far behind (close it)."""
        if self.closing:
            return True
        self._outbox.extend(texts)
        self._outbox_chars += sum(len(t) for t in texts)
        if self.too_far_behind():
            return False
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write())
        return True

    async def _write(self) -> None:
        try:
            while self._outbox:
                text = self._outbox.popleft()
                self._outbox_chars -= len(text)
                await self.ws.send_str(text)
        except (ConnectionError, RuntimeError):  # closed meanwhile
            self._outbox.clear()
            self._outbox_chars = 0

    async def close(self, code: int, reason: str) -> None:
        """Close politely within CLOSE_TIMEOUT_SECONDS, else drop the connection."""
        if self.closing:
            return
        self.closing = True
        try:
            await asyncio.wait_for(self.ws.close(code=code, message=reason.encode()), CLOSE_TIMEOUT_SECONDS)
        except (TimeoutError, ConnectionError, RuntimeError):
            self.abort()
        transport = self.transport
        if transport is not None and transport.get_write_buffer_size() > 0:
            transport.abort()  # closing would wait for the client to read what is left: forever

    def abort(self) -> None:
        self.closing = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()


class _Refused(asyncio.Protocol):
    """A connection beyond ``listener.max_connections``: answered 503 and closed once the
    request has arrived (closing over unread data would reset the connection and lose
    the answer), or after REFUSED_LINGER_SECONDS."""

    RESPONSE = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
                b"Connection: close\r\nContent-Length: %d\r\n\r\n%s")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        hint = "the listener has as many connections as listener.max_connections allows; try again later"
        body = encode(error_reply(None, ErrorCode.TOO_MANY_CONNECTIONS, hint)).encode()
        transport.write(self.RESPONSE % (len(body), body))
        asyncio.get_running_loop().call_later(REFUSED_LINGER_SECONDS, transport.close)

    def data_received(self, data: bytes) -> None:
        if b"\r\n\r\n" in data or len(data) > 4096:
            self.transport.close()


class _EventPush:
    """Pushes the manager's events to subscribed WebSocket clients.

    The manager calls back on its event thread; events are batched into one loop
    callback (not one per event). The listener subscribes to the manager only while
    some client is subscribed, so an unwatched queue pays nothing.
    """

    def __init__(self, manager: TTSQueueManager, loop: asyncio.AbstractEventLoop) -> None:
        self.manager = manager
        self.loop = loop
        self._subscribers: dict[_Client, frozenset[str]] = {}
        self._pending: deque[Event] = deque()
        self._lock = threading.Lock()
        self._scheduled = False
        self._unsubscribe: Callable[[], None] | None = None

    def set(self, client: _Client, names: frozenset[str]) -> None:
        """Push ``names`` to ``client`` from now on (empty: nothing)."""
        if names:
            self._subscribers[client] = names
        else:
            self._subscribers.pop(client, None)
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
        for client, names in list(self._subscribers.items()):
            wanted = [text for name, text in texts if name in names]
            if wanted and not client.push(wanted):
                log.warning("listener: subscriber %s is too slow; disconnecting it", client.peer)
                self._subscribers.pop(client, None)
                self.loop.create_task(client.close(CLOSE_TOO_SLOW, "subscriber too slow"))


# -- responses ----------------------------------------------------------------------------


def _response(status: int, text: str, headers: Mapping[str, str] | None = None,
              content_type: str = "application/json") -> web.Response:
    """One response that closes the connection (one request per connection)."""
    response = web.Response(status=status, text=text, content_type=content_type, charset="utf-8",
                            headers={"Cache-Control": "no-store", "Server": SERVER_HEADER, **(headers or {})})
    response.force_close()
    return response


def _json_response(reply: dict[str, Any], extra_headers: Mapping[str, str] | None = None,
                   status: int | None = None) -> web.Response:
    headers = dict(extra_headers or {})
    if reply.get("status") == "error" and reply["error"]["code"] == ErrorCode.TOO_MANY_ATTEMPTS:
        headers["Retry-After"] = "60"
    return _response(status or http_status(reply), encode(reply), headers)


def _error_response(code: str, message: str, status: int | None = None) -> web.Response:
    return _json_response(error_reply(None, code, message), status=status)


def _method_not_allowed(allowed: str, cors: dict[str, str]) -> web.Response:
    reply = error_reply(None, ErrorCode.METHOD_NOT_ALLOWED, f"use {allowed} here")
    return _json_response(reply, {**cors, "Allow": allowed})


def _overlay_response(host_header: str) -> web.Response:
    return _response(200, OVERLAY_HTML, {"Content-Security-Policy": overlay_csp(host_header),
                                         "X-Content-Type-Options": "nosniff"}, content_type="text/html")


def _cors_headers(origin: str | None) -> dict[str, str]:
    """Only reached for allow-listed origins (or none): let those pages read replies."""
    if origin is None:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type"}


def _bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _limit_buffers(transport: asyncio.Transport | None) -> None:
    """A small kernel send buffer (a client that does not read shows up in the transport's
    buffer soon) and a transport high-water mark above MAX_UNSENT_BYTES (writes never wait
    for such a client: it is closed first)."""
    if transport is None:
        return
    transport.set_write_buffer_limits(high=MAX_UNSENT_BYTES + 256 * 1024)
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)


def _peer(request: web.BaseRequest) -> str:
    transport = request.transport
    address = transport.get_extra_info("peername") if transport is not None else None
    if not isinstance(address, tuple) or len(address) < 2:
        return request.remote or "?"
    return f"{address[0]}:{address[1]}"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _log_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """asyncio's own errors on the listener loop (e.g. accept() at the open-file limit):
    one line each, rate-limited, no traceback."""
    exc = context.get("exception")
    log.error("listener: %s%s", context.get("message", "error"), f": {exc}" if exc else "")


def _cancel_remaining(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
