"""Hostile and broken clients on real sockets: out-of-range numbers, clients that never
read, slow chunked bodies, connection floods, idle connections, and a process at its
open-file limit. Each gets an answer or a bound, and the queue keeps playing."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from doubles import wait_until
from listener_support import ask, listening, post, raw_http
from websockets.exceptions import ConnectionClosed

from tts_core.listener.protocol import ErrorCode

HUGE = int("9" * 400)  # an integer of 400 digits
CHILD = Path(__file__).with_name("fd_limit_child.py")




def _rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def _ws_socket(port: int) -> socket.socket:
    """A raw socket after a completed WebSocket handshake."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def _closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """Read (and discard) until the server closes the connection; False if it stays open."""
    sock.settimeout(timeout)
    try:
        while sock.recv(1 << 16):
            pass
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    return True


# -- numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(("frame", "field"), [
    ({"type": "donation", "donor_name": "a", "amount": HUGE}, "amount"),
    ({"type": "donation", "donor_name": "a", "amount": 1e307}, "amount"),
    ({"type": "donation", "donor_name": "a", "amount": "1e307"}, "amount"),
    ({"type": "tts", "text": "held", "hold_seconds": HUGE}, "hold_seconds"),
    ({"type": "tts", "text": "held", "hold_seconds": 1e307}, "hold_seconds"),
    ({"type": "raid", "username": "a", "viewers": HUGE}, "viewers"),
    ({"type": "cheer", "username": "a", "bits": str(HUGE)}, "bits"),
])
def test_out_of_range_numbers_are_invalid_field_and_the_connection_stays(make_manager, frame, field):
    with listening(make_manager) as running:
        with running.ws() as ws:
            reply = ask(ws, {**frame, "id": "n"})
            assert reply["status"] == "error" and reply["id"] == "n", reply
            assert reply["error"]["code"] == ErrorCode.INVALID_FIELD
            assert reply["error"]["message"].startswith(field + " "), reply
            assert len(reply["error"]["message"]) < 200  # the 400 digits are not echoed back
            assert ask(ws, {"type": "follow", "username": "still here"})["status"] == "ok"
        status, reply = post(running.http, frame)
        assert status == 400 and reply["error"]["code"] == ErrorCode.INVALID_FIELD
        assert running.manager.get_stats()["accepted"] == 1


# -- clients that do not read ----------------------------------------------------------------


def test_a_client_that_pings_and_never_reads_is_dropped_with_bounded_memory(make_manager):
    with listening(make_manager) as running:
        sock = _ws_socket(running.server.port)
        before = _rss_bytes()
        ping = b"\x89\x80\0\0\0\0"  # an empty masked ping; the server owes a pong for each
        result: dict[str, object] = {}

        def flood() -> None:
            try:
                for _ in range(100):
                    sock.sendall(ping * 10_000)  # 1,000,000 pings in all
                result["sent"] = True
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:  # keep pinging, still never reading
                    sock.sendall(ping * 100)
                    time.sleep(0.05)
            except OSError as exc:  # reset by the server: dropped
                result["dropped"] = exc

        thread = threading.Thread(target=flood, daemon=True)
        thread.start()
        thread.join(60)
        assert not thread.is_alive(), "the flood is still being read after 60 s"
        assert "dropped" in result, f"never dropped ({result})"
        sock.close()
        growth = _rss_bytes() - before
        assert growth < 30 * 1024 * 1024, f"the server grew by {growth / 1e6:.0f} MB"
        with running.ws() as ws:
            assert ask(ws, {"type": "follow", "username": "unbothered"})["status"] == "ok"


def test_a_subscriber_that_never_reads_is_closed_and_others_are_served(make_manager):
    with listening(make_manager, max_messages_per_second=0) as running, running.ws() as other:
        sock = _ws_socket(running.server.port)
        frame = json.dumps({"request": "Subscribe", "id": "s"}).encode()
        sock.sendall(bytes([0x81, 0x80 | len(frame)]) + b"\0\0\0\0" + frame)
        for n in range(2000):  # ~4 MiB of queued/played events for the subscriber, never read
            text = " ".join(f"word{n}x{i}" for i in range(45))  # ~500 speakable characters
            reply = ask(other, {"type": "tts", "text": text})
            assert reply["status"] == "ok" or reply["error"]["code"] == ErrorCode.QUEUE_FULL, reply
            if n % 500 == 0 and running.manager.get_stats()["pending"] > 500:
                running.manager.clear()
        assert _closed_by_server(sock, timeout=20)
        assert ask(other, {"request": "GetStats"})["status"] == "ok"


# -- slow bodies -----------------------------------------------------------------------------


def test_slow_chunked_bodies_are_parsed_as_they_arrive_and_health_answers_meanwhile(make_manager):
    # One byte per chunk: 6 bytes on the wire per body byte, so the wire carries far more
    # than max_frame_bytes (64 KiB) for a body well under it; a few chunks per packet.
    with listening(make_manager) as running:
        port = running.server.port
        bodies = [json.dumps({"type": "tts", "text": f"slow client {n} " + "y" * 26_000}).encode()
                  for n in range(50)]
        socks = []
        for _ in bodies:
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(b"POST /event HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
            socks.append(sock)
        step = 50
        longest = max(len(body) for body in bodies)
        for offset in range(0, longest, step):
            for sock, body in zip(socks, bodies, strict=True):
                piece = body[offset : offset + step]
                sock.sendall(b"".join(b"1\r\n%s\r\n" % bytes([c]) for c in piece))
            if offset == step * 200:
                status, health = post(running.http, b"", path="/health", method="GET")
                assert status == 200 and health["status"] == "ok"
        for sock in socks:
            sock.sendall(b"0\r\n\r\n")
        for sock in socks:
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            sock.close()
            assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
        assert running.manager.get_stats()["accepted"] == 50


def test_a_malformed_chunk_after_the_head_gets_an_answer(make_manager):
    # aiohttp notices the bad chunk but leaves the body unfinished: the body time-out answers.
    with listening(make_manager, unauthenticated_timeout_seconds=1.0) as running, socket.create_connection(
            ("127.0.0.1", running.server.port), timeout=10) as sock:
        sock.sendall(b"POST /event HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"  # the body is being read now
        sock.sendall(b"5\r\nhello\r\nzz\r\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        assert answer.split(b" ", 2)[1] in (b"400", b"408"), answer
        assert running.manager.get_stats()["accepted"] == 0


# -- connection limit and idle connections -----------------------------------------------------


def test_beyond_max_connections_new_ones_are_refused_and_open_ones_keep_working(make_manager):
    with listening(make_manager, max_connections=5) as running, running.ws() as ws:
        port = running.server.port
        idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
        assert wait_until(lambda: raw_http(port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                     .startswith(b"HTTP/1.1 503"))
        answer = raw_http(port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]["code"] == ErrorCode.TOO_MANY_CONNECTIONS
        assert ask(ws, {"type": "follow", "username": "connected before"})["status"] == "ok"
        for sock in idle:
            sock.close()
        assert wait_until(lambda: raw_http(port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                     .startswith(b"HTTP/1.1 200"))


def test_connections_that_send_nothing_or_never_authenticate_are_closed(make_manager):
    with listening(make_manager, token="s3cret", unauthenticated_timeout_seconds=0.5) as running:
        port = running.server.port
        silent = socket.create_connection(("127.0.0.1", port))
        half_head = socket.create_connection(("127.0.0.1", port))
        half_head.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0")
        half_body = socket.create_connection(("127.0.0.1", port))
        half_body.sendall(b"POST /event?token=s3cret HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Length: 50\r\n\r\n{")
        with running.ws("/?token=s3cret") as trusted, running.ws() as anonymous:
            for sock in (silent, half_head):
                assert _closed_by_server(sock, timeout=10)
            answer = half_body.recv(65536)
            assert answer.startswith(b"HTTP/1.1 408"), answer
            with pytest.raises(ConnectionClosed):
                anonymous.recv(timeout=10)
            assert anonymous.close_code == 1008
            # The trusted client connected first: its time-out has passed too, and it may stay idle.
            assert ask(trusted, {"request": "GetStats"})["status"] == "ok"
        for sock in (silent, half_head, half_body):
            sock.close()


def test_a_flood_of_malformed_requests_writes_a_few_log_lines(make_manager, caplog):
    caplog.set_level(logging.INFO)
    with listening(make_manager) as running:
        for n in range(200):
            answer = raw_http(running.server.port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              b"Bad header %d\r\n\r\n" % n)
            assert answer.split(b" ", 2)[1] == b"400"
        assert post(running.http, b"", path="/health", method="GET")[0] == 200
    listener_lines = [r for r in caplog.records if r.name.startswith(("tts_core.listener", "aiohttp"))]
    assert len(listener_lines) < 20, [r.getMessage()[:100] for r in listener_lines[:30]]


# -- resource exhaustion ----------------------------------------------------------------------------


def test_at_the_open_file_limit_accepted_messages_still_play_and_the_log_stays_short(tmp_path):
    args = [sys.executable, str(CHILD), "256", str(tmp_path / "data"), str(tmp_path / "out")]
    child = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    socks: list[socket.socket] = []
    assert child.stdout is not None and child.stderr is not None and child.stdin is not None
    err_pipe, lines = child.stderr, []
    reader = threading.Thread(target=lambda: lines.extend(iter(err_pipe.readline, b"")), daemon=True)
    reader.start()
    try:
        port = int(child.stdout.readline().split()[1])
        from websockets.sync.client import connect

        with connect(f"ws://127.0.0.1:{port}/", open_timeout=10) as ws:
            ask(ws, {"request": "Subscribe", "events": ["playback_finished", "failed"]})
            for _ in range(400):  # more connections than the child has file descriptors
                socks.append(socket.create_connection(("127.0.0.1", port), timeout=10))
            # The listener took the flood in: at its connection limit, or out of descriptors.
            limits = (b"refusing new ones", b"Too many open files")
            assert wait_until(lambda: any(m in line for line in lines for m in limits)), lines[-5:]
            ids = [ask(ws, {"type": "tts", "text": f"still speaking {n}"}, timeout=20)["message_id"]
                   for n in range(3)]
            outcomes = {}
            while len(outcomes) < len(ids):
                event = json.loads(ws.recv(timeout=60))
                if event.get("message_id") in ids:
                    outcomes[event["message_id"]] = event
            assert all(e["event"] == "playback_finished" for e in outcomes.values()), outcomes
    finally:
        for sock in socks:
            sock.close()
        child.stdin.close()  # the child stops
        try:
            child.wait(30)
        finally:
            child.kill()
        reader.join(10)
    log = b"".join(lines).decode()
    lines = log.splitlines()
    assert "Traceback" not in log, log[-3000:]
    assert len(lines) < 80, f"{len(lines)} log lines:\n" + "\n".join(lines[:40])
