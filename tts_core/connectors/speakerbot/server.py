"""The Speaker.bot-compatible server: its own thread and event loop, WebSocket on
``connectors.speakerbot.port`` and UDP on ``udp_port`` (docs/speakerbot.md).

aiohttp's low-level server does the WebSocket handshake and framing. At the door, a
request whose Host is not this machine's (DNS rebinding) or that carries an Origin (a
browser page: Streamer.bot sends none) is refused. Requests run in order on one
command thread, so the loop never writes the journal; their replies and the pushed
``TextToSpeech`` events go out through one outbox per client, in order.

Bounds: ``max_connections`` clients; requests up to ``max_frame_bytes`` (larger ones,
up to 4 times that, get an error reply; larger still close the connection with 1009);
``max_requests_per_second`` per client (beyond it: an error reply); a client that
leaves more than MAX_OUTBOX_CHARS unread is disconnected; UDP datagrams beyond
``max_datagrams_per_second`` or ``max_frame_bytes`` are dropped. Log lines about
floods are rate-limited. A port that cannot be used never raises: ``status()`` says
``failed`` with the reason, and the queue goes on.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from tts_core.config import TTSConfig
from tts_core.config.speakerbot import PREFIX, SpeakerbotSettings
from tts_core.connectors.speakerbot.protocol import (
    Request,
    RequestError,
    TextToSpeechEvents,
    encode,
    error_reply,
    parse_datagram,
    parse_request,
)
from tts_core.connectors.speakerbot.requests import Client, Requests
from tts_core.domain.events import Event
from tts_core.domain.token_bucket import TokenBucket
from tts_core.ingest.translator import StreamerBotIntegration
from tts_core.listener.guard import HostAllowList, OneLine, RateLimitedLog, install_log_limits
from tts_core.listener.server import cancel_remaining
from tts_core.runtime.manager import TTSQueueManager
from tts_core.runtime.settings import Prepared

log = logging.getLogger(__name__)
http_log = logging.getLogger("tts_core.connectors.speakerbot.http")  # aiohttp's (malformed requests)

MAX_HEAD_LINE_BYTES = 16 * 1024  # request line and each header line
HARD_FRAME_FACTOR = 4  # frames up to 4x max_frame_bytes get an error reply; larger: close 1009
HEARTBEAT_SECONDS = 20.0  # ping idle clients; one that does not answer is closed
CLOSE_TIMEOUT_SECONDS = 0.4
MAX_OUTBOX_CHARS = 1024 * 1024  # replies and events a client has not taken (beyond the OS buffers)
SEND_BUFFER_BYTES = 256 * 1024  # kernel send buffer per client (so a non-reader shows up quickly)
START_TIMEOUT_SECONDS = 5.0
LIMITED_LOGGERS = ("tts_core.connectors.speakerbot.server", "tts_core.connectors.speakerbot.requests",
                   "tts_core.connectors.speakerbot.http")
_log_limit = RateLimitedLog()
_TIMEOUTS = (TimeoutError, asyncio.TimeoutError)  # one class from Python 3.11 on, two before

# States status() reports.
DISABLED, STOPPED, LISTENING, CONNECTED, FAILED = "disabled", "stopped", "listening", "connected", "failed"


class _Connection(Client):
    """One WebSocket client: its outbox (replies and events, in order) and request rate."""

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport | None, peer: str,
                 rate: float) -> None:
        super().__init__(peer)
        self.ws = ws
        self.transport = transport
        self.rate = TokenBucket.per_second(rate)
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue()
        self.unsent = 0  # characters in the outbox
        self.closing = False

    def send(self, text: str) -> bool:
        """Queue ``text``; False if the client has left more than MAX_OUTBOX_CHARS unread
        (beyond the OS buffers)."""
        if self.closing:
            return True
        if self.unsent + len(text) > MAX_OUTBOX_CHARS:
            return False
        self.unsent += len(text)
        self.outbox.put_nowait(text)
        return True

    def taken(self, text: str) -> None:
        self.unsent -= len(text)

    def abort(self) -> None:
        self.closing = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()


class SpeakerbotServer:
    """Answers Streamer.bot's Speaker.bot integration on ``ws://host:port/`` and UDP
    ``host:udp_port``, in a background thread.

    Parameters: ``manager``; ``integration`` (the event translator Speak goes through;
    default: a new one on the manager); ``settings`` (SpeakerbotSettings; default: the
    manager's config ``connectors.speakerbot`` if it has one, else off). ``port=0`` /
    ``udp_port=0`` pick free ports: ``port`` and ``udp_port`` tell which after ``start()``.
    It is a part of ``manager.settings``: once started, it runs while its settings say
    ``enabled``, and a config with a ``connectors.speakerbot`` section reaches it through
    ``prepare_config``.
    """

    name = "speakerbot"  # its key under "connectors" in the config and in GetStats

    def __init__(self, manager: TTSQueueManager, integration: StreamerBotIntegration | None = None,
                 settings: SpeakerbotSettings | None = None) -> None:
        self.manager = manager
        self.integration = integration or StreamerBotIntegration(manager)
        self.settings = settings or _section(manager.config)
        self.settings.validate()
        self._wanted = False  # start() called, stop() not since
        self.requests = Requests(manager, self.integration, str(uuid.uuid4()))
        self.host = self.settings.host
        self.port = self.settings.port
        self.udp_port = self.settings.udp_port
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._apply_lock = threading.RLock()  # start, stop and apply, one at a time
        self._status_lock = threading.Lock()
        self._state = DISABLED if not self.settings.enabled else STOPPED
        self._since = time.monotonic()
        self._reason: str | None = None
        self._last_error: str | None = None
        self._received = 0
        self._clients: set[_Connection] = set()
        self._commands: concurrent.futures.ThreadPoolExecutor | None = None
        self._events = TextToSpeechEvents(self._clip_path)
        self._unsubscribe: Callable[[], None] | None = None
        self._pending: list[Event] = []
        self._scheduled = False
        self._pending_lock = threading.Lock()
        self._udp: asyncio.DatagramTransport | None = None
        self._udp_rate = TokenBucket.per_second(self.settings.max_datagrams_per_second)
        self._hosts = HostAllowList.build(self.settings.host)
        self._unregister = manager.settings.add(self)
        manager.connector_reports[self.name] = self.report  # GetStats "connectors"

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ws://{host}:{self.port}/"

    def start(self) -> None:
        """Listen, if ``settings.enabled`` (else as soon as they say so); never raises for a
        port that cannot be used (``status()`` then says ``failed`` and why)."""
        with self._apply_lock:
            self._wanted = True
            cfg = self.settings
            if not cfg.enabled:
                self._set_state(DISABLED)
                return
            if self.is_running:
                return
            self.host, self.port, self.udp_port = cfg.host, cfg.port, cfg.udp_port
            self._hosts = HostAllowList.build(cfg.host)
            self._udp_rate = TokenBucket.per_second(cfg.max_datagrams_per_second)
            install_log_limits(LIMITED_LOGGERS, _log_limit)  # first: it counts by message template
            install_log_limits([http_log.name], OneLine())
            if not cfg.loopback:
                log.warning("speakerbot: %s.host is %s: every device that can reach this PC can make the "
                            "stream speak (Speaker.bot's API has no password); 127.0.0.1 keeps it to this PC",
                            PREFIX, cfg.host)
            self._started.clear()
            self._start_error = None
            self._loop = self._stopping = None  # the last run's
            self._thread = threading.Thread(target=self._run, name="tts-speakerbot", daemon=True)
            self._thread.start()
            if not self._started.wait(START_TIMEOUT_SECONDS):
                self._fail(f"did not start within {START_TIMEOUT_SECONDS:g} s")
                loop, stopping = self._loop, self._stopping
                if loop is not None and stopping is not None:
                    with contextlib.suppress(RuntimeError):  # it may still come up: let it end at once
                        loop.call_soon_threadsafe(stopping.set)
                return
            if self._start_error is not None:
                self._thread.join(1.0)
                self._thread = None
                self._fail(str(self._start_error))
                return
            udp = f", UDP {self.host}:{self.udp_port}" if self.udp_port else ""
            log.info("speakerbot: Speaker.bot-compatible server on %s%s", self.url, udp)

    def stop(self, timeout: float = 1.0) -> None:
        """Close every connection and the ports and end the thread within ``timeout``
        seconds; safe if never started."""
        with self._apply_lock:
            self._wanted = False
            self._halt(timeout)

    def _halt(self, timeout: float = 1.0) -> None:
        """End the thread (the server stays wanted: apply() restarts it)."""
        with self._apply_lock:
            thread, loop, stopping = self._thread, self._loop, self._stopping
            if thread is None:
                return
            if loop is not None and stopping is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(stopping.set)
            thread.join(timeout)
            if thread.is_alive():
                log.warning("speakerbot: server thread still running %.1f s after stop", timeout)
            else:
                self._thread = None
            if self._state not in (FAILED, DISABLED):
                self._set_state(STOPPED if self.settings.enabled else DISABLED)

    def apply(self, settings: SpeakerbotSettings) -> None:
        """Use ``settings`` now: switched off -> stopped; a new host or port -> restarted;
        the limits apply to the next request (and the next connection). Never raises for
        a port that cannot be used (see ``status()``); ValueError for invalid settings."""
        settings.validate()
        with self._apply_lock:
            old, self.settings = self.settings, settings
            if not settings.enabled:
                self._halt()
                self._set_state(DISABLED)
                return
            address = (settings.host, settings.port, settings.udp_port)
            if self.is_running and address != (old.host, old.port, old.udp_port):
                self._halt()
            if not self.is_running:
                if self._wanted:
                    self.start()
                else:
                    self._set_state(STOPPED)  # on, but its owner has not started it (or stopped it)
                return
            loop = self._loop
            if loop is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._use_limits, settings)

    def prepare_config(self, config: TTSConfig) -> Prepared:
        """Its part of ``manager.reconfigure``: ``connectors.speakerbot`` is applied on commit."""
        settings = _section(config)
        settings.validate()
        return Prepared(lambda: self.apply(settings))

    # The names every connector answers to (tts_core.connectors: GetStats, obs-tts doctor).
    def wait_until_settled(self, timeout: float) -> bool:
        """True: ``start`` returns once the server listens or has failed."""
        return True

    def report(self) -> dict[str, Any]:
        return self.status()

    @property
    def state(self) -> str:
        return self._state

    @property
    def last_error(self) -> str | None:
        return self._last_error

    def status(self) -> dict[str, Any]:
        """The state as GetStats (under ``connectors``), the OBS status line and ``obs-tts
        doctor`` show it: ``state`` (disabled, stopped, listening, connected, failed),
        ``since_s`` (seconds since it last changed), ``address``, ``clients``, ``events``
        (requests and datagrams received), ``last_error``, and ``reason`` when failed."""
        with self._status_lock:
            shown: dict[str, Any] = {
                "state": self._state, "since_s": round(time.monotonic() - self._since, 1),
                "address": self.url + (f" + UDP {self.udp_port}" if self.udp_port else ""),
                "clients": len(self._clients), "events": self._received, "last_error": self._last_error,
            }
            if self._state == FAILED:
                shown["reason"] = self._reason
            return shown

    def close(self) -> None:
        """Stop, and leave the manager's settings and reports (the server is not used again)."""
        self.stop()
        self._unregister()
        if self.manager.connector_reports.get(self.name) == self.report:
            del self.manager.connector_reports[self.name]

    # -- state -------------------------------------------------------------------------------------

    def _set_state(self, state: str, reason: str | None = None) -> None:
        with self._status_lock:
            if state == self._state and reason == self._reason:
                return
            self._state, self._reason, self._since = state, reason, time.monotonic()
        if state == FAILED:
            log.error("speakerbot: failed: %s", reason)
        else:
            clients = f" ({len(self._clients)} clients)" if state == CONNECTED else ""
            log.info("speakerbot: %s%s", state, clients)

    def _fail(self, reason: str) -> None:
        with self._status_lock:
            self._last_error = reason
        self._set_state(FAILED, reason)

    def _error(self, message: str) -> None:
        with self._status_lock:
            self._last_error = message

    def _count(self) -> None:
        with self._status_lock:
            self._received += 1

    def _clients_changed(self) -> None:
        if self._state in (LISTENING, CONNECTED):
            self._set_state(CONNECTED if self._clients else LISTENING)

    # -- the loop thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        with self._pending_lock:  # a flush the last loop never ran
            self._pending.clear()
            self._scheduled = False
        self._loop = loop
        loop.set_exception_handler(_log_loop_error)
        self._commands = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="tts-speakerbot-cmd")
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # reported by start()
            if not self._started.is_set():
                self._start_error = exc
            else:
                log.exception("speakerbot: server stopped on an error")
                self._fail(f"stopped on an error: {exc}")
        finally:
            self._started.set()
            self._watch_events(False)
            cancel_remaining(loop)
            loop.close()
            self._commands.shutdown(wait=True, cancel_futures=True)

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        cfg = self.settings
        http = web.Server(self._handle, logger=http_log, access_log=None, auto_decompress=False,
                          max_line_size=MAX_HEAD_LINE_BYTES, max_field_size=MAX_HEAD_LINE_BYTES)
        tcp = await self._bind(loop, lambda: loop.create_server(http, cfg.host, cfg.port), "port", cfg.port)
        self.port = tcp.sockets[0].getsockname()[1]
        try:
            if cfg.udp_port:
                udp, _ = await self._bind(loop, lambda: loop.create_datagram_endpoint(
                    lambda: _Datagrams(self), local_addr=(cfg.host, cfg.udp_port)), "udp_port", cfg.udp_port)
                self._udp = udp
                self.udp_port = udp.get_extra_info("sockname")[1]
        except BaseException:
            tcp.close()
            raise
        self._set_state(CONNECTED if self._clients else LISTENING)  # before a client can change it
        self._started.set()
        try:
            await self._stopping.wait()
        finally:
            tcp.close()
            if self._udp is not None:
                self._udp.close()
                self._udp = None
            for client in list(self._clients):
                client.outbox.put_nowait(None)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(client.ws.close(), CLOSE_TIMEOUT_SECONDS)
            with contextlib.suppress(*_TIMEOUTS):
                await asyncio.wait_for(http.shutdown(0.2), 0.3)

    async def _bind(self, loop: asyncio.AbstractEventLoop, make: Callable[[], Any], key: str,
                    port: int) -> Any:
        host = self.settings.host
        try:
            return await make()
        except socket.gaierror as exc:
            raise OSError(f"{PREFIX}.host {host!r} is not a known address ({exc.strerror}); use 127.0.0.1 "
                          "(this PC only)") from None
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                hint = "Speaker.bot itself or another program" if key == "port" else "another program"
                raise OSError(f"{PREFIX}.{key} {port} on {host} is already in use ({hint}: close it, or "
                              f"choose another {PREFIX}.{key})") from None
            if exc.errno == errno.EADDRNOTAVAIL:
                raise OSError(f"{PREFIX}.host {host!r} is not an address of this machine; use 127.0.0.1") \
                    from None
            raise OSError(f"{PREFIX}.{key} {port} on {host}: {exc.strerror or exc}") from None

    def _use_limits(self, cfg: SpeakerbotSettings) -> None:
        """On the loop thread: rate limits for the next request, the next datagram."""
        self._udp_rate = TokenBucket.per_second(cfg.max_datagrams_per_second)
        for client in self._clients:
            client.rate = TokenBucket.per_second(cfg.max_requests_per_second)

    # -- WebSocket --------------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        cfg = self.settings
        peer = request.remote or "?"
        host, origin = request.headers.get("Host"), request.headers.get("Origin")
        if not self._hosts.allows(host):
            log.warning("speakerbot: refused a connection from %s for Host %r (not this machine)", peer, host)
            return _refusal(403, f"Host {host} is not served here")
        if origin is not None:
            log.warning("speakerbot: refused a connection from %s with Origin %s (a web page; Streamer.bot "
                        "sends none)", peer, origin)
            return _refusal(403, f"origin {origin} refused: only programs such as Streamer.bot may connect")
        if request.method != "GET" or "websocket" not in request.headers.get("Upgrade", "").lower():
            return _refusal(400, "this is a Speaker.bot-compatible WebSocket server; connect with ws://")
        if len(self._clients) >= cfg.max_connections:
            log.warning("speakerbot: %d clients connected; refusing %s (%s.max_connections)",
                        cfg.max_connections, peer, PREFIX)
            return _refusal(503, "too many connections")
        ws = web.WebSocketResponse(max_msg_size=cfg.max_frame_bytes * HARD_FRAME_FACTOR, compress=False,
                                   heartbeat=HEARTBEAT_SECONDS, timeout=CLOSE_TIMEOUT_SECONDS)
        await ws.prepare(request)
        transport = request.transport
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        client = _Connection(ws, transport, _peer(request), cfg.max_requests_per_second)
        self._clients.add(client)
        self._watch_events(True)
        self._clients_changed()
        writer = asyncio.get_running_loop().create_task(self._write(client))
        try:
            await self._read(client)
        finally:
            self._clients.discard(client)
            self._clients_changed()
            client.outbox.put_nowait(None)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer, CLOSE_TIMEOUT_SECONDS)
            if not self._clients:
                self._watch_events(False)
        return ws

    async def _read(self, client: _Connection) -> None:
        ws = client.ws
        async for msg in ws:
            if msg.type == WSMsgType.TEXT or msg.type == WSMsgType.BINARY:
                reply = await self._answer(client, msg.data)
                if not client.send(encode(reply)):
                    await self._too_slow(client)
                    return
            elif msg.type == WSMsgType.ERROR:
                self._error(f"connection from {client.peer}: {ws.exception()}")
                return

    async def _answer(self, client: _Connection, data: str | bytes) -> dict[str, Any]:
        self._count()
        try:
            request = parse_request(data, self.settings.max_frame_bytes)
        except RequestError as exc:
            self._error(exc.message)
            log.warning("speakerbot: %s from %s", exc.message, client.peer)
            return error_reply(exc.request_id, exc.message)
        wait = client.rate.try_take()
        if wait > 0:
            log.warning("speakerbot: %s sends more than %s.max_requests_per_second", client.peer, PREFIX)
            return error_reply(request.id, f"too many requests; try again in {wait:.2f} s")
        reply = await self._run_request(request, client)
        if reply.get("status") == "error":
            self._error(f"{request.name}: {reply.get('error')}")
        return reply

    async def _run_request(self, request: Request, client: Client | None) -> dict[str, Any]:
        commands = self._commands
        assert commands is not None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(commands, self.requests.answer, request, client)

    async def _write(self, client: _Connection) -> None:
        while True:
            text = await client.outbox.get()
            if text is None or client.ws.closed:
                return
            client.taken(text)
            try:
                await client.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    async def _too_slow(self, client: _Connection) -> None:
        if client.closing:
            return
        client.closing = True
        log.warning("speakerbot: %s does not read its replies and events; disconnecting it", client.peer)
        self._error(f"{client.peer} did not read its replies and events: disconnected")
        client.outbox.put_nowait(None)
        try:  # the close frame waits behind what the client does not read: drop it then
            await asyncio.wait_for(client.ws.close(code=1008, message=b"too slow"), CLOSE_TIMEOUT_SECONDS)
        except (*_TIMEOUTS, ConnectionError, RuntimeError):
            pass
        transport = client.transport
        if transport is None or transport.is_closing() or transport.get_write_buffer_size() > 0:
            client.abort()  # closing would wait for the client to read what is left: forever

    # -- pushed events --------------------------------------------------------------------------------

    def _watch_events(self, on: bool) -> None:
        """Follow the queue's events while some client is connected."""
        if on and self._unsubscribe is None:
            self._unsubscribe = self.manager.subscribe(self._on_event)
        elif not on and self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event: Event) -> None:  # the manager's event thread
        """Batch events into one loop callback (not one per event)."""
        with self._pending_lock:
            self._pending.append(event)
            if self._scheduled:
                return
            self._scheduled = True
        loop = self._loop
        try:
            if loop is None:
                raise RuntimeError("no loop")
            loop.call_soon_threadsafe(self._flush)
        except RuntimeError:  # the loop closed: the server is stopping, nobody to tell
            with self._pending_lock:
                self._pending.clear()
                self._scheduled = False

    def _flush(self) -> None:  # loop thread
        with self._pending_lock:
            events, self._pending = self._pending, []
            self._scheduled = False
        texts = [encode(frame) for event in events for frame in self._events.translate(event)]
        for client in list(self._clients):
            for text in texts:
                if not client.send(text):
                    asyncio.get_running_loop().create_task(self._too_slow(client))
                    break

    def _clip_path(self, message_id: str) -> str | None:
        """Where the played clip of ``message_id`` is kept (for replay), if it still is."""
        kept = self.manager.retention.for_replay(message_id)
        return str(kept.clip.path) if kept is not None and kept.clip is not None else None

    # -- UDP --------------------------------------------------------------------------------------------

    def _datagram(self, data: bytes, address: Any) -> None:  # loop thread
        self._count()
        sender = address[0] if isinstance(address, tuple) else str(address)
        limit = self.settings.max_frame_bytes
        if len(data) > limit:  # before the rate: an oversized datagram takes nobody's turn
            log.warning("speakerbot: UDP from %s: datagram of %d bytes dropped (at most %d, "
                        "%s.max_frame_bytes)", sender, len(data), limit, PREFIX)
            self._error("UDP: datagram too large")
            return
        if self._udp_rate.try_take() > 0:
            log.warning("speakerbot: UDP datagrams beyond %s.max_datagrams_per_second dropped", PREFIX)
            self._error("UDP datagrams dropped (rate limit)")
            return
        try:
            request = parse_datagram(data, self.settings.max_frame_bytes)
        except RequestError as exc:
            log.warning("speakerbot: UDP from %s: %s", sender, exc.message)
            self._error(f"UDP: {exc.message}")
            return
        commands = self._commands
        if commands is None:
            return
        future = commands.submit(self.requests.answer, request, None)
        future.add_done_callback(lambda done: self._datagram_done(done, request, sender))

    def _datagram_done(self, done: concurrent.futures.Future[dict[str, Any]], request: Request,
                       sender: str) -> None:
        if done.cancelled():
            return
        reply = done.result()
        if reply.get("status") == "error":
            log.warning("speakerbot: UDP %s from %s: %s", request.name, sender, reply.get("error"))
            self._error(f"UDP {request.name}: {reply.get('error')}")


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, server: SpeakerbotServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.server._datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("speakerbot: UDP error: %s", exc)


def _section(config: TTSConfig) -> SpeakerbotSettings:
    """``config.connectors.speakerbot``; a JSON object put there by hand is read too."""
    section: Any = config.connectors.speakerbot
    return section if isinstance(section, SpeakerbotSettings) else SpeakerbotSettings.from_dict(section)


def _refusal(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=encode(error_reply(None, message)),
                        content_type="application/json")


def _peer(request: web.BaseRequest) -> str:
    transport = request.transport
    address = transport.get_extra_info("peername") if transport is not None else None
    if not isinstance(address, tuple) or len(address) < 2:
        return request.remote or "?"
    return f"{address[0]}:{address[1]}"


def _log_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    exc = context.get("exception")
    log.error("speakerbot: %s%s", context.get("message", "error"), f": {exc}" if exc else "")

