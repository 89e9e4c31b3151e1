"""Acknowledged events per second through the listener, and ack latency under that load.

The server (a queue with persistence on, an in-memory engine, RealtimeSink and the
listener) runs in this process; the clients run in a child process so they do not share
its GIL, and are lean raw-socket WebSocket clients (LeanClient) so that the figure is the
listener's, not a Python client library's. Events are the seed's donation frames: each
goes through parsing, validation, the integration's template, moderation, the SQLite
journal and the queue before its reply is sent. Two playback modes (see PLAYBACK).

The per-connection rate limit is switched off (max_messages_per_second=0): its default
(200/s) is a safety limit for real bots, not a capacity limit.

Target (issue 3): >= 5,000 acknowledged events/s over one connection on a 2-core machine.
Run: .venv/bin/python bench/bench_listener.py [--runs N] [--time-limit SECONDS]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import queue
import selectors
import socket
import struct
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from common import median, percentile, table

from tts_core import TTSConfig, TTSQueueManager
from tts_core.domain.audio import silent_wav
from tts_core.listener import ListenerServer
from tts_core.sinks import RealtimeSink

# (label, connections, events per connection, frames in flight per connection, playback)
SCENARIOS = [
    ("1 connection, one at a time", 1, 3_000, 1, "real-time"),
    ("1 connection, 64 in flight", 1, 30_000, 64, "real-time"),
    ("20 connections, 16 in flight each", 20, 1_500, 16, "real-time"),
    ("1 connection, 64 in flight", 1, 30_000, 64, "instant"),
    ("20 connections, 16 in flight each", 20, 1_500, 16, "instant"),
]
RUNS = 3
SLOW_CLIENTS = (0, 50)
SLOW_SECONDS = 10.0
TIME_LIMIT_SECONDS = 600.0  # the whole benchmark; a stuck scenario fails instead of hanging
# real-time: 1-second clips played in real time, as on a stream (the player and workers
# are nearly idle; only the look-ahead is synthesized). instant: 5 ms clips played at
# speed 0, so synthesis, clip files and playback run flat out next to the listener.
PLAYBACK = {"real-time": (silent_wav(1000), 1.0), "instant": (silent_wav(5), 0.0)}


def donation(client: int, n: int) -> str:
    return json.dumps({"type": "donation", "donor_name": f"Donor{client}", "amount": 5 + n % 7,
                       "message": f"Great stream, message {n}!", "id": n})


def ws_frame(text: str) -> bytes:
    """A masked client text frame; an all-zero mask key (valid per RFC 6455) keeps the payload as is."""
    payload = text.encode()
    n = len(payload)
    header = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126]) + struct.pack("!H", n)
    return header + b"\0\0\0\0" + payload


def open_websocket(port: int) -> tuple[socket.socket, bytes]:
    """A plain socket to the listener on ``port`` after a completed WebSocket handshake, and
    what it already read past the handshake's answer."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 b"Sec-WebSocket-Version: 13\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock, head.split(b"\r\n\r\n", 1)[1]


class LeanClient:
    """A minimal WebSocket client on a plain socket: pre-built frames out, replies parsed
    from a buffer. Python client libraries cost more CPU per frame than the listener
    itself; this keeps the benchmark about the listener."""

    def __init__(self, port: int, client: int, events: int) -> None:
        self.sock, self.buffer = open_websocket(port)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.frames = [ws_frame(donation(client, n)) for n in range(events)]
        self.sent_at: list[float] = []
        self.latencies: list[float] = []

    def top_up(self, window: int) -> None:
        """Send frames until ``window`` are unanswered (or all are sent)."""
        sent = len(self.sent_at)
        room = min(window - (sent - len(self.latencies)), len(self.frames) - sent)
        if room > 0:
            now = time.perf_counter()
            self.sock.sendall(b"".join(self.frames[sent : sent + room]))
            self.sent_at += [now] * room

    def pump(self, window: int) -> bool:
        """Read the replies that arrived, send more; False once every frame is answered."""
        self.buffer += self.sock.recv(1 << 16)
        self._parse(time.perf_counter())
        self.top_up(window)
        return len(self.latencies) < len(self.frames)

    def _parse(self, now: float) -> None:
        """Split the buffer into WebSocket frames: text frames are replies; the server's
        keep-alive pings get a pong; anything else (close) ends the run loudly."""
        buf, pos = self.buffer, 0
        while len(buf) - pos >= 2:
            opcode, n, start = buf[pos] & 0x0F, buf[pos + 1] & 0x7F, pos + 2
            if n == 126:
                if len(buf) - pos < 4:
                    break
                n, start = struct.unpack_from("!H", buf, pos + 2)[0], pos + 4
            elif n == 127:
                if len(buf) - pos < 10:
                    break
                n, start = struct.unpack_from("!Q", buf, pos + 2)[0], pos + 10
            if len(buf) < start + n:
                break
            payload, pos = buf[start : start + n], start + n
            if opcode == 0x9:  # ping: answer with a masked pong carrying the same payload
                self.sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
                continue
            if opcode != 0x1:
                raise RuntimeError(f"unexpected WebSocket frame (opcode {opcode}): {bytes(payload[:80])!r}")
            reply = json.loads(payload)
            if reply.get("status") != "ok":
                raise RuntimeError(f"error reply: {reply}")
            self.latencies.append(now - self.sent_at[reply["id"]])
        self.buffer = buf[pos:]


def client_process(port: int, connections: int, events: int, window: int, results: Any) -> None:
    try:
        results.put(_run_clients(port, connections, events, window))
    except Exception as exc:  # noqa: BLE001 -- reported by the parent instead of a silent hang
        results.put(RuntimeError(f"client process failed: {exc!r}"))


def _run_clients(port: int, connections: int, events: int, window: int) -> tuple[float, list[float]]:
    clients = [LeanClient(port, c, events) for c in range(connections)]
    selector = selectors.DefaultSelector()
    start = time.perf_counter()
    for c in clients:
        c.top_up(window)
        selector.register(c.sock, selectors.EVENT_READ, c)
    active = len(clients)
    while active:
        for key, _ in selector.select():
            if not key.data.pump(window):
                selector.unregister(key.fileobj)
                active -= 1
    elapsed = time.perf_counter() - start
    return elapsed, [x for c in clients for x in c.latencies]


def _wait_for_result(child: Any, results: Any, deadline: float) -> Any:
    """The child's result; raises if it died, failed or ran past the deadline."""
    while True:
        try:
            result = results.get(timeout=0.5)
        except queue.Empty:
            if not child.is_alive():
                raise RuntimeError(f"client process died (exit code {child.exitcode})") from None
            if time.monotonic() > deadline:
                child.kill()
                raise TimeoutError("scenario ran past the benchmark's time limit") from None
            continue
        if isinstance(result, BaseException):
            raise result
        return result


def run_in_child(target: Any, args: tuple[Any, ...], deadline: float) -> Any:
    """What ``target(*args, results)``, run in a spawned process, puts in ``results`` (raised
    if it is an exception); raises if the process dies or runs past ``deadline``. The process
    is ended either way."""
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    child = ctx.Process(target=target, args=(*args, results))
    child.start()
    try:
        return _wait_for_result(child, results, deadline)
    finally:
        child.join(10)
        if child.is_alive():
            child.kill()


@contextmanager
def bench_server(playback: str, max_queue_size: int,
                 **listener: Any) -> Iterator[tuple[TTSQueueManager, ListenerServer]]:
    """A fresh server in this process: a started queue (persistence on, in a temporary folder;
    no rate limit; 3 workers; the in-memory clip and sink speed of ``playback``) and its
    listener on a free port without the per-connection rate limit (``listener`` settings set
    over that); both stopped at the end."""
    clip, speed = PLAYBACK[playback]
    with tempfile.TemporaryDirectory(prefix="bench-listener-") as data_dir:
        config = TTSConfig(persist=True, data_dir=data_dir, max_queue_size=max_queue_size,
                           rate_limit_per_minute=0, max_concurrent_workers=3)
        config.listener.port = 0
        config.listener.max_messages_per_second = 0
        for key, value in listener.items():
            setattr(config.listener, key, value)
        manager = TTSQueueManager(config, engine=lambda text, **kw: clip, sink=RealtimeSink(speed=speed))
        manager.start()
        server = ListenerServer(manager)
        server.start()
        try:
            yield manager, server
        finally:
            server.stop()
            manager.stop()


def run_scenario(connections: int, events: int, window: int, playback: str,
                 deadline: float) -> tuple[float, float, float]:
    """One run on a fresh server: (acks/s, p50 ms, p99 ms)."""
    with bench_server(playback, max_queue_size=connections * events + 10) as (manager, server):
        args = (server.port, connections, events, window)
        elapsed, latencies = cast(tuple[float, list[float]], run_in_child(client_process, args, deadline))
        accepted = manager.get_stats()["accepted"]
    total = connections * events
    assert len(latencies) == total and accepted == total, (len(latencies), accepted)
    return total / elapsed, percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000


def chunked_body(client: int, n: int) -> bytes:
    """A tts frame (~1.5 KB) as a chunked body of one-byte chunks (6 bytes on the wire per byte)."""
    frame = json.dumps({"type": "tts", "text": f"slow client {client} message {n} " + "word " * 300}).encode()
    return b"".join(b"1\r\n%s\r\n" % bytes([c]) for c in frame) + b"0\r\n\r\n"


SLOW_HEAD = b"POST /event HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def _health_latency(port: int) -> float:
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(HEALTH)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    return time.perf_counter() - start


def slow_clients_process(port: int, clients: int, seconds: float, results: Any) -> None:
    """``clients`` connections trickle chunked bodies (30 bytes per turn, a new request when
    one is answered) while /health is timed every 50 ms."""
    try:
        slow: list[list[Any]] = []
        for c in range(clients):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(SLOW_HEAD)
            slow.append([sock, chunked_body(c, 0), 0, 0])
        latencies, answered = [], 0
        deadline, next_health = time.monotonic() + seconds, 0.0
        while time.monotonic() < deadline:
            for entry in slow:
                sock, data, pos, n = entry
                sock.sendall(data[pos : pos + 30])
                entry[2] = pos + 30
                if entry[2] >= len(data):  # body complete: read the answer, start the next request
                    answer = b""
                    while chunk := sock.recv(65536):
                        answer += chunk
                    sock.close()
                    answered += answer.startswith(b"HTTP/1.1 200")
                    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
                    sock.sendall(SLOW_HEAD)
                    entry[:] = [sock, chunked_body(slow.index(entry), n + 1), 0, n + 1]
            if time.monotonic() >= next_health:
                latencies.append(_health_latency(port))
                next_health = time.monotonic() + 0.05
            time.sleep(0.002)
        for entry in slow:
            entry[0].close()
        results.put((latencies, answered))
    except Exception as exc:  # noqa: BLE001 -- reported by the parent instead of a silent hang
        results.put(RuntimeError(f"slow clients failed: {exc!r}"))


def run_slow_clients(clients: int, seconds: float, deadline: float) -> tuple[list[float], int]:
    """/health latencies (s) while ``clients`` slow chunked senders run, and their bodies answered."""
    # a long unauthenticated time-out: measure parsing, not the time-out
    with bench_server("instant", 100_000, unauthenticated_timeout_seconds=120.0) as (_, server):
        result = run_in_child(slow_clients_process, (server.port, clients, seconds), deadline)
    return cast(tuple[list[float], int], result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT_SECONDS,
                        help=f"seconds for the whole benchmark (default {TIME_LIMIT_SECONDS:g})")
    args = parser.parse_args()
    deadline = time.monotonic() + args.time_limit
    rows = []
    for label, connections, events, window, playback in SCENARIOS:
        runs = [run_scenario(connections, events, window, playback, deadline) for _ in range(args.runs)]
        rates = [r[0] for r in runs]
        rows.append([
            label, playback, f"{connections * events:,}", f"{median(rates):,.0f}",
            " / ".join(f"{r:,.0f}" for r in rates), f"{median([r[1] for r in runs]):.2f}",
            f"{median([r[2] for r in runs]):.2f}",
        ])
    table(f"Listener: acknowledged donation events, persistence on (median of {args.runs} runs)",
          ["scenario", "playback", "events", "acks/s", "runs", "p50 ack ms", "p99 ack ms"], rows)
    slow_rows = []
    for clients in SLOW_CLIENTS:
        latencies, answered = run_slow_clients(clients, SLOW_SECONDS, deadline)
        ms = [x * 1000 for x in latencies]
        slow_rows.append([clients, len(ms), f"{percentile(ms, 50):.1f}", f"{percentile(ms, 99):.1f}",
                          f"{max(ms):.1f}", answered])
    table(f"Listener: GET /health while slow clients send chunked bodies (1-byte chunks, {SLOW_SECONDS:g} s)",
          ["slow clients", "health requests", "p50 ms", "p99 ms", "max ms", "bodies answered"], slow_rows)


if __name__ == "__main__":
    main()
