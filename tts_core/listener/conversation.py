"""The WebSocket side of the listener: one conversation per client.

aiohttp does the handshake, framing, pings and close; a ``Conversation`` reads frames,
asks its ``Session`` what to do, hands commands to the ``CommandThread`` and sends the
replies in the order the frames came, while it already reads the next frames (so one
client with many frames in flight keeps the queue busy). It reads ahead only as far as
no reply still to come could close the connection: a frame that a close would have cut
off is never run.

Bounds: a client with more than MAX_UNSENT_BYTES it has not read (replies, pongs,
pushed events) is closed with 1008 (dropped if it cannot even take the close frame);
so is one that sends MAX_UNANSWERED_PINGS pings in a row without reading the pongs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from aiohttp import WSMsgType, web

from tts_core.listener.dispatcher import CommandThread
from tts_core.listener.protocol import ErrorCode, encode, error_reply
from tts_core.listener.push import EventPush
from tts_core.listener.responses import SERVER_HEADER, error_response
from tts_core.listener.session import Outcome, Result, Session

log = logging.getLogger(__name__)

HARD_FRAME_FACTOR = 4  # frames up to 4x max_frame_bytes get a frame_too_large reply; larger: close 1009
CLOSE_INTERNAL_ERROR = 1011
CLOSE_TIMEOUT_SECONDS = 0.4  # closing handshake budget per WebSocket client
HEARTBEAT_SECONDS = 20.0  # ping idle WebSocket clients; one that does not answer is closed
MAX_UNSENT_BYTES = 256 * 1024  # unread replies, pongs, events (beyond the OS buffers): client closed
MAX_UNANSWERED_PINGS = 1000  # pings in a row while the previous pong is still unsent: client closed
SEND_BUFFER_BYTES = 256 * 1024  # kernel send buffer per WebSocket (so a non-reader shows up quickly)
CLOSE_NORMAL = 1000
CLOSE_TOO_SLOW = 1008
CLOSE_POLICY_VIOLATION = 1008
CLOSE_GOING_AWAY = 1001


class Client:
    """One WebSocket connection: its aiohttp response and transport. Replies and pushed
    events are written straight to the transport as they come, in order (the
    transport's buffer is the outbox)."""

    def __init__(self, ws: web.WebSocketResponse, transport: asyncio.Transport | None, peer: str) -> None:
        self.ws = ws
        self.transport = transport
        self.peer = peer
        self.closing = False
        self._unanswered_pings = 0

    def unsent(self) -> int:
        """Bytes sent to this client that it has not read yet (beyond the OS buffers)."""
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    def too_far_behind(self) -> bool:
        return self.unsent() > MAX_UNSENT_BYTES

    async def answer_ping(self, data: bytes) -> bool:
        """Pong, unless the last answer is still unsent (RFC 6455 5.5.3 allows answering
        only the latest ping): a flood of pings then costs no memory. False after
        MAX_UNANSWERED_PINGS such pings in a row (the client is not reading)."""
        if self.unsent() > 0:
            self._unanswered_pings += 1
            return self._unanswered_pings <= MAX_UNANSWERED_PINGS
        self._unanswered_pings = 0
        await self.ws.pong(data)
        return True

    def send(self, texts: list[str]) -> bool:
        """Write ``texts`` as text frames, in one write; False if the client is now too far
        behind (close it). Nothing is written once the connection is closing."""
        transport = self.transport
        if self.closing or self.ws.closed or transport is None or transport.is_closing():
            return True
        transport.write(b"".join(map(text_frame, texts)))
        return not self.too_far_behind()

    async def close(self, code: int, reason: str) -> None:
        """Close politely within CLOSE_TIMEOUT_SECONDS, else drop the connection."""
        if self.closing:
            return
        self.closing = True
        try:
            await asyncio.wait_for(self.ws.close(code=code, message=reason.encode()), CLOSE_TIMEOUT_SECONDS)
        except (TimeoutError, asyncio.TimeoutError, ConnectionError, RuntimeError):  # one from 3.11
            self.abort()
        transport = self.transport
        if transport is not None and transport.get_write_buffer_size() > 0:
            transport.abort()  # closing would wait for the client to read what is left: forever

    def abort(self) -> None:
        self.closing = True
        if self.transport is not None and not self.transport.is_closing():
            self.transport.abort()


class _Ending(Enum):
    CLOSE = "close"  # a reply says to close: after the replies before it
    PEER_CLOSED = "peer closed"  # the client sent its close frame: answer the frames before it, then close
    OVER = "over"  # the connection is closed or being closed already


@dataclass
class _Turn:
    """One frame's place in the reply order; ``outcome.reply`` is None while its command runs."""

    outcome: Outcome


class Conversation:
    """One client's frames and replies. Parameters: ``client``, ``session``, ``commands``
    (where commands run), ``push`` (event subscriptions), ``auth_timeout`` (seconds to
    authenticate when a token is needed)."""

    def __init__(self, client: Client, session: Session, commands: CommandThread, push: EventPush,
                 auth_timeout: float) -> None:
        self.client = client
        self.session = session
        self.commands = commands
        self.push = push
        self.auth_timeout = auth_timeout
        self._turns: deque[_Turn] = deque()
        self._moved = asyncio.Event()  # a reply went out: there may be room to read ahead
        self._close: tuple[int, str] | None = None
        self._ended = False

    async def run(self) -> None:
        client = self.client
        log.info("listener: client %s connected", client.peer)
        try:
            ending = await self._read()
            if ending is not _Ending.OVER:
                await self._until(lambda: not self._turns)
                if self._close is not None:
                    log.warning("listener: closing %s: %s", client.peer, self._close[1])
                await client.close(*(self._close or (CLOSE_NORMAL, "")))
        except (TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11
            log.info("listener: closing %s: not authenticated within %g s", client.peer, self.auth_timeout)
            await client.close(CLOSE_POLICY_VIOLATION, "authentication time-out")
        except ConnectionError:  # the client went away mid-send
            client.abort()
        except Exception:  # a bug: closed here, so aiohttp never writes an HTTP 500 into the stream
            log.exception("listener: the conversation with %s failed", client.peer)
            with contextlib.suppress(Exception):
                await client.close(CLOSE_INTERNAL_ERROR, "internal error")
            client.abort()
        finally:
            self._ended = True
            self.push.set(client, frozenset())
            log.info("listener: client %s disconnected (%s)", client.peer, client.ws.close_code)

    async def _read(self) -> _Ending:
        """Read and take frames until the conversation must end."""
        client, session, ws = self.client, self.session, self.client.ws
        loop = asyncio.get_running_loop()
        auth_deadline = loop.time() + self.auth_timeout
        while self._close is None:
            if not session.may_read_ahead(len(self._turns)):
                await self._until(lambda: session.may_read_ahead(len(self._turns)) or self._close is not None)
                continue
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
                return _Ending.OVER
            if msg.type is WSMsgType.PING:
                if not await client.answer_ping(msg.data):
                    log.warning("listener: closing %s: %d pings while not reading the answers",
                                client.peer, MAX_UNANSWERED_PINGS)
                    await client.close(CLOSE_TOO_SLOW, "not reading")
                    return _Ending.OVER
                continue
            if msg.type is WSMsgType.CLOSE:
                return _Ending.PEER_CLOSED
            if msg.type is not WSMsgType.TEXT and msg.type is not WSMsgType.BINARY:
                return _Ending.OVER  # closed, closing or a protocol error (aiohttp has sent the close frame)
            if self._take(msg.data).close is not None:
                break  # refused too often: nothing more is read
        return _Ending.CLOSE

    def _take(self, data: str | bytes) -> Outcome:
        outcome = self.session.receive(data)
        turn = _Turn(outcome)
        self._turns.append(turn)
        if outcome.command is None:
            self._send_ready()
        else:
            self.commands.submit(outcome.command, lambda result: self._completed(turn, result))
        return outcome

    def _completed(self, turn: _Turn, result: Result) -> None:
        try:
            turn.outcome = self.session.complete(turn.outcome, result)
        except Exception:  # a bug: the frame still gets its reply
            log.exception("listener: the reply to %s failed", self.client.peer)
            command = turn.outcome.command
            turn.outcome.reply = error_reply(command.id if command else None, ErrorCode.INTERNAL_ERROR,
                                             "see the log")
        self._send_ready()

    def _send_ready(self) -> None:
        """Send the replies that are ready, in frame order."""
        turns, replies = self._turns, []
        while turns and turns[0].outcome.reply is not None:
            outcome = self.session.settle(turns.popleft().outcome)
            assert outcome.reply is not None
            replies.append(encode(outcome.reply))
            if outcome.subscribe is not None and not self._ended:
                self.push.set(self.client, outcome.subscribe)  # events come in a later loop callback
            if outcome.close is not None:
                self._close = outcome.close
        if replies:
            self.client.send(replies)
        self._moved.set()

    async def _until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            self._moved.clear()
            await self._moved.wait()


class Conversations:
    """Every WebSocket conversation of one listener.

    Parameters: ``commands``, ``push``, ``max_frame_bytes``, ``auth_timeout`` (seconds).
    """

    def __init__(self, commands: CommandThread, push: EventPush, max_frame_bytes: int,
                 auth_timeout: float) -> None:
        self.commands = commands
        self.push = push
        self.max_frame_bytes = max_frame_bytes
        self.auth_timeout = auth_timeout
        self.clients: set[Client] = set()

    def use_limits(self, max_frame_bytes: int, auth_timeout: float) -> None:
        """New limits for the connections that open from now on."""
        self.max_frame_bytes = max_frame_bytes
        self.auth_timeout = auth_timeout

    async def serve(self, request: web.BaseRequest, session: Session, peer: str) -> web.StreamResponse:
        """Complete the handshake of ``request`` and hold the conversation until it ends."""
        # autoping off: pings are answered here (see Client.answer_ping), so a client that
        # pings without reading is closed instead of the handler waiting on its pongs;
        # autoclose off: the replies to frames before a client's close frame still go out.
        # aiohttp closes a frame of max_msg_size bytes itself (1009): +1 keeps 4x with a reply.
        ws = web.WebSocketResponse(max_msg_size=self.max_frame_bytes * HARD_FRAME_FACTOR + 1, compress=False,
                                   heartbeat=HEARTBEAT_SECONDS, timeout=CLOSE_TIMEOUT_SECONDS, autoping=False,
                                   autoclose=False)
        ws.headers["Server"] = SERVER_HEADER
        try:
            await ws.prepare(request)
        except web.HTTPException as exc:  # not a valid handshake (no key, wrong version, ...)
            return error_response(ErrorCode.INVALID_FRAME, f"not a WebSocket handshake: {exc.text}",
                                  status=exc.status)
        transport = request.transport
        _limit_buffers(transport)
        client = Client(ws, transport, peer)
        self.clients.add(client)
        try:
            await Conversation(client, session, self.commands, self.push, self.auth_timeout).run()
        finally:
            self.clients.discard(client)
        return ws

    async def close_all(self, timeout: float) -> None:
        """Close every connection ("going away"), within ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        closing = [loop.create_task(client.close(CLOSE_GOING_AWAY, "server stopping"))
                   for client in self.clients]
        if closing:
            await asyncio.wait(closing, timeout=timeout)


def text_frame(text: str) -> bytes:
    """A server's WebSocket text frame (RFC 6455 5.2: final, unmasked, uncompressed). Written
    to the transport directly, so that replies ready together go out in one write."""
    payload = text.encode("utf-8")
    size = len(payload)
    if size < 126:
        return bytes((0x81, size)) + payload
    if size < 65536:
        return struct.pack("!BBH", 0x81, 126, size) + payload
    return struct.pack("!BBQ", 0x81, 127, size) + payload


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
