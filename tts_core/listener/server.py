"""The listener's thread and event loop: WebSocket and HTTP on one port.

aiohttp's low-level server (``aiohttp.web.Server``) parses every request, incrementally
(request heads and chunked bodies as they arrive). At the door, the ``Gate`` checks the
Host (DNS rebinding) and the Origin (browser pages) of every request; then a ``GET``
with ``Upgrade: websocket`` whose token (if it carries one) is right becomes a
``Conversation``, and anything else goes to the HTTP ``routes``. Sessions decide, the
``CommandThread`` runs what they decide against the queue, so the loop never writes the
journal itself.

Bounds per connection: at most ``listener.max_connections`` at once (lowered to half
the process's open-file limit); a connection must send a complete request (and, with a
token, authenticate) within ``listener.unauthenticated_timeout_seconds``; see
``conversation`` for the WebSocket bounds. Log lines about floods are rate-limited.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import threading
from typing import Any

from aiohttp import web

from tts_core.config import ListenerConfig, TTSConfig
from tts_core.domain.log_text import loggable
from tts_core.domain.token_bucket import TokenBucket
from tts_core.ingest.translator import StreamerBotIntegration
from tts_core.listener.conversation import Conversations
from tts_core.listener.dispatcher import CommandThread, Dispatcher
from tts_core.listener.guard import (
    Gate,
    OneLine,
    RateLimitedLog,
    TokenAttempts,
    Visitor,
    affordable_connections,
    install_log_limits,
)
from tts_core.listener.protocol import ErrorCode, encode, error_reply
from tts_core.listener.push import EventPush
from tts_core.listener.responses import JsonErrorServer, error_response, json_response
from tts_core.listener.routes import HttpRoutes
from tts_core.listener.session import Session
from tts_core.runtime.manager import TTSQueueManager
from tts_core.runtime.settings import Prepared

log = logging.getLogger(__name__)
http_log = logging.getLogger("tts_core.listener.http")  # aiohttp's own messages (malformed requests)

MAX_HEAD_LINE_BYTES = 16 * 1024  # request line and each header line
LINGER_SECONDS = 1.0  # after answering early (413, 408), read and ignore the rest of a body this long
REFUSED_LINGER_SECONDS = 0.5  # a refused connection is closed at the latest after this
LIMITED_LOGGERS = ("tts_core.listener.server", "tts_core.listener.conversation",
                   "tts_core.listener.dispatcher", "tts_core.listener.push", "tts_core.listener.guard",
                   "tts_core.listener.http")
LOG_LIMIT = RateLimitedLog()  # one per process, as the loggers it filters are


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
        self._stop_budget = 0.8
        self._attempts = TokenAttempts()  # wrong tokens per address, kept across restarts
        # Built by start() from the config, used by the loop thread only:
        self._gate = Gate.build(self.config, self._attempts)
        self._http_rate = TokenBucket.per_second(self.config.max_messages_per_second)
        self._http_rate_per_second = self.config.max_messages_per_second
        self._max_connections = self.config.max_connections
        self._http: web.Server | None = None
        self._tcp: asyncio.Server | None = None
        self._greeted: set[web.RequestHandler] = set()  # connections whose request head arrived
        self._commands: CommandThread | None = None
        self._conversations: Conversations | None = None
        self._routes: HttpRoutes | None = None
        self._unregister = manager.settings.add(self)  # settings reach the listener like every part

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
        self._gate = Gate.build(cfg, self._attempts)
        self._http_rate = TokenBucket.per_second(cfg.max_messages_per_second)
        self._http_rate_per_second = cfg.max_messages_per_second
        self._max_connections = affordable_connections(cfg.max_connections)
        if self._max_connections < cfg.max_connections:
            log.warning("listener: at most %d connections (half of this process's open-file limit; "
                        "listener.max_connections is %d)", self._max_connections, cfg.max_connections)
        install_log_limits(LIMITED_LOGGERS, LOG_LIMIT)  # first: it counts by message template
        install_log_limits(["tts_core.listener.http"], OneLine())
        self._started.clear()
        self._start_error = None
        self.dispatcher.history.start()  # what ended before a dashboard opens, for GetHistory
        self._thread = threading.Thread(target=self._run, name="tts-listener", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise TimeoutError(f"listener did not start within {timeout} s")
        if self._start_error is not None:
            self.dispatcher.history.stop()
            self._thread.join(1.0)
            self._thread = None
            raise self._start_error
        log.info("listener on %s (HTTP: POST /event, GET /health%s; dashboard: http://%s:%d/)", self.url,
                 ", GET /overlay" if cfg.overlay else "", _url_host(self.host), self.port)

    def stop(self, timeout: float = 1.0) -> None:
        """Close every connection and the port, and end the threads within ``timeout`` seconds."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        self.dispatcher.history.stop()
        self._stop_budget = max(0.05, timeout - 0.2)  # leave time for the loop to wind down
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        if thread.is_alive():
            log.warning("listener thread still running %.1f s after stop", timeout)
        else:
            self._thread = None

    def prepare_config(self, config: TTSConfig) -> Prepared:
        """The listener's part of ``manager.reconfigure``: token, allowed hosts, rate limit,
        frame size, connection limits, time-outs and the overlay apply to the next request
        and the next connection (open WebSocket connections keep the rules they were
        admitted under). A new host or port is used from the next ``start()``."""
        listener = config.listener

        def commit() -> None:
            self.config = listener
            loop = self._loop
            if loop is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: start() rebuilds
                    loop.call_soon_threadsafe(self._use_config, listener)

        return Prepared(commit)

    def _use_config(self, cfg: ListenerConfig) -> None:
        """On the loop thread: rebuild what ``start()`` built from the config."""
        self._gate = Gate.build(cfg, self._attempts)
        if cfg.max_messages_per_second != self._http_rate_per_second:
            self._http_rate = TokenBucket.per_second(cfg.max_messages_per_second)
            self._http_rate_per_second = cfg.max_messages_per_second
        self._max_connections = affordable_connections(cfg.max_connections)
        if self._conversations is not None:
            self._conversations.use_limits(cfg.max_frame_bytes, cfg.unauthenticated_timeout_seconds)
        if self._routes is not None:
            self._routes = HttpRoutes(cfg, self.manager, self._routes.commands, self._gate, self._session,
                                      self._routes.page_host)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        loop.set_exception_handler(_log_loop_error)
        commands = self._commands = CommandThread(self.dispatcher)
        commands.start(loop)
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # reported by start()
            if not self._started.is_set():
                self._start_error = exc
            else:
                log.exception("listener stopped on an error")
        finally:
            self._started.set()
            cancel_remaining(loop)
            loop.close()
            commands.stop()

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._commands is not None
        self._stopping = asyncio.Event()
        push = EventPush(self.manager, loop)
        cfg = self.config
        self._conversations = Conversations(self._commands, push, cfg.max_frame_bytes,
                                            cfg.unauthenticated_timeout_seconds)
        self._http = JsonErrorServer(  # malformed requests get the JSON error object too
            self._handle, logger=http_log, access_log=None, auto_decompress=False,
            max_line_size=MAX_HEAD_LINE_BYTES, max_field_size=MAX_HEAD_LINE_BYTES,
            lingering_time=LINGER_SECONDS,
        )
        self._tcp = await self._bind(loop)
        self.port = self._tcp.sockets[0].getsockname()[1]
        self._routes = HttpRoutes(cfg, self.manager, self._commands, self._gate, self._session,
                                  f"{_url_host(self.host)}:{self.port}")
        self._started.set()
        try:
            await self._stopping.wait()
            await self._shutdown(self._stop_budget)
        finally:
            push.close()  # the manager stops calling into this loop

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
        assert self._tcp is not None and self._http is not None and self._conversations is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        self._tcp.close()
        await self._conversations.close_all(max(0.01, (deadline - loop.time()) * 0.7))
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11
            await asyncio.wait_for(self._http.shutdown(max(0.01, deadline - loop.time())),
                                   max(0.02, deadline - loop.time()))
        for handler in self._http.connections:  # still open after the budget
            if handler.transport is not None:
                handler.transport.abort()
        await asyncio.sleep(0)  # let the aborted transports' callbacks run before the loop closes

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

    # -- the door ------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        assert self._routes is not None and self._conversations is not None
        self._greeted.add(request.protocol)
        visitor = _visitor(request)
        websocket = request.method == "GET" and "websocket" in request.headers.get("Upgrade", "").lower()
        what = "a WebSocket" if websocket else f"{request.method} {loggable(request.path, 100)}"
        refusal = self._gate.admit(visitor, what)
        if refusal is not None:
            return json_response(refusal)
        try:
            if not websocket:
                return await self._routes.serve(request, visitor)
            refusal = self._gate.check_token(visitor)
            if refusal is not None:
                return json_response(refusal)
            session = self._session("websocket", visitor)
            return await self._conversations.serve(request, session, _peer(request))
        except ConnectionError:  # the client went away mid-request: nobody to answer
            log.debug("listener: %s: the client disconnected", what)
            return error_response(ErrorCode.INVALID_FRAME, "connection lost", status=400)
        except Exception:
            log.exception("listener: %s failed", what)
            return json_response(error_reply(None, ErrorCode.INTERNAL_ERROR, "see the log"))

    def _session(self, transport: str, visitor: Visitor) -> Session:
        """A Session for one WebSocket connection, or one HTTP request (these share a rate limit)."""
        cfg = self.config
        return Session(self._gate.tokens, visitor.address, authenticated=visitor.token is not None,
                       max_frame_bytes=cfg.max_frame_bytes, max_per_second=cfg.max_messages_per_second,
                       transport=transport, rate=self._http_rate if transport == "http" else None)


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


def _visitor(request: web.BaseRequest) -> Visitor:
    """What the gate needs of ``request``; the token from ``Authorization: Bearer`` or ``?token=``."""
    headers = request.headers
    scheme, _, bearer = headers.get("Authorization", "").partition(" ")
    token = bearer.strip() if scheme.lower() == "bearer" and bearer.strip() else request.query.get("token")
    return Visitor(headers.get("Host"), headers.get("Origin"), token, request.remote or "?")


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


def cancel_remaining(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the tasks still on ``loop`` and let them end (a server thread's last step)."""
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
