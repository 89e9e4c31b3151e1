"""The same protocol over plain HTTP on the listener's port: POST /event, GET /health."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from listener_support import listening, post, raw_http

from tts_core.listener.protocol import ErrorCode


@pytest.fixture
def running(make_manager):
    with listening(make_manager) as running:
        yield running


def test_post_event_queues_and_replies_with_the_message_id(running):
    status, reply = post(running.http, {"type": "donation", "donor_name": "JohnDoe", "amount": 25.0,
                                        "message": "Great stream!", "id": "h1"})
    assert status == 200 and reply["status"] == "ok" and reply["id"] == "h1"
    assert (reply["priority"], reply["state"], reply["text"]) == (
        "HIGH", "queued", "JohnDoe donated 25 dollars: Great stream!")
    assert running.manager.wait_until_idle(5)
    assert running.sink.played[0].text == "JohnDoe donated 25 dollars: Great stream!"


def test_post_requests_work_too(running):
    assert post(running.http, {"request": "Pause"}) == (200, {"id": None, "status": "ok", "paused": True})
    status, reply = post(running.http, {"request": "GetQueue"})
    assert status == 200 and reply["queue"] == []


def test_health(running):
    status, reply = post(running.http, b"", path="/health", method="GET")
    assert status == 200 and reply["status"] == "ok" and reply["running"] is True


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"{nope", 400, ErrorCode.BAD_JSON),
    (b'{"type": "wedding"}', 400, ErrorCode.UNKNOWN_TYPE),
    (b'{"type": "raid", "username": "a", "viewers": "many"}', 400, ErrorCode.INVALID_FIELD),
    (b'{"request": "Subscribe"}', 400, ErrorCode.UNSUPPORTED),
    (b'{"request": "Reject", "message_id": "nope"}', 404, ErrorCode.NOT_FOUND),
    (b"\xff\xfe\xfd", 400, ErrorCode.BAD_JSON),
])
def test_errors_map_to_http_statuses(running, body, status, code):
    got_status, reply = post(running.http, body)
    assert (got_status, reply["error"]["code"]) == (status, code)


def test_unknown_paths_and_methods(running):
    assert post(running.http, b"{}", path="/nope")[0] == 404
    status, reply = post(running.http, b"", path="/event", method="GET")
    assert status == 405 and reply["error"]["code"] == ErrorCode.METHOD_NOT_ALLOWED


def test_oversize_body_and_missing_length(make_manager):
    with listening(make_manager, max_frame_bytes=1024) as running:
        status, reply = post(running.http, b'{"type":"tts","text":"' + b"x" * 5000 + b'"}')
        assert status == 413 and reply["error"]["code"] == ErrorCode.FRAME_TOO_LARGE
        # Without Content-Length (or chunked) a POST has no body: the bytes after it would be
        # the next request, so the answer comes right after the head.
        answer = raw_http(running.server.port, b"POST /event HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 411") and b"Content-Length" in answer
        long_header = b"GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: " + b"a" * 20000  # never ends
        assert raw_http(running.server.port, long_header).split(b" ", 2)[1] == b"400"  # refused, not buffered


def test_body_split_across_packets(running):
    import socket
    import time

    body = json.dumps({"type": "follow", "username": "slow_typist"}).encode()
    with socket.create_connection(("127.0.0.1", running.server.port), timeout=5) as sock:
        sock.sendall(b"POST /event HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % len(body))
        for i in range(0, len(body), 7):
            sock.sendall(body[i : i + 7])
            time.sleep(0.005)
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200") and b'"message_id"' in answer


def test_token_by_header_or_query(make_manager):
    with listening(make_manager, token="s3cret") as running:
        status, reply = post(running.http, {"type": "follow", "username": "a"})
        assert status == 401 and reply["error"]["code"] == ErrorCode.UNAUTHORIZED
        assert post(running.http, {"type": "follow", "username": "a"},
                    headers={"Authorization": "Bearer wrong"})[0] == 401
        assert post(running.http, {"type": "follow", "username": "a"},
                    headers={"Authorization": "Bearer s3cret"})[0] == 200
        assert post(running.http, {"type": "follow", "username": "b"}, path="/event?token=s3cret")[0] == 200


def test_browser_pages_cannot_post_events(make_manager):
    with listening(make_manager, allowed_origins=["http://localhost:3000"]) as running:
        # A page's fetch(..., {mode: "no-cors"}) sends a "simple" POST with its Origin header.
        status, reply = post(running.http, b'{"type":"tts","text":"pwned"}',
                             headers={"Origin": "https://evil.example", "Content-Type": "text/plain"})
        assert status == 403 and reply["error"]["code"] == ErrorCode.FORBIDDEN_ORIGIN
        answer = raw_http(running.server.port,
                          b"OPTIONS /event HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 403")
        assert running.manager.get_stats()["accepted"] == 0
        answer = raw_http(running.server.port,
                          b"OPTIONS /event HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://localhost:3000\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 204")
        assert b"Access-Control-Allow-Origin: http://localhost:3000" in answer
        status, _ = post(running.http, {"type": "tts", "text": "allowed page"},
                         headers={"Origin": "http://localhost:3000"})
        assert status == 200


def test_chunked_body_and_expect_100_continue(running):
    body = json.dumps({"type": "follow", "username": "chunky"}).encode()
    pieces = [body[i : i + 10] for i in range(0, len(body), 10)]
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces)
    head = b"POST /event HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer = raw_http(running.server.port, head + chunks + b"0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200") and b'"message_id"' in answer
    bad = raw_http(running.server.port, head + b"zz\r\n")
    assert bad.split(b" ", 2)[1] == b"400"

    import socket

    with socket.create_connection(("127.0.0.1", running.server.port), timeout=5) as sock:
        head = (b"POST /event HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body))
        sock.sendall(head)
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body + b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # a 2nd request: not served
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200") and answer.count(b"HTTP/1.1") == 1


def test_the_curl_recipe_from_the_docs(running):
    assert shutil.which("curl"), "curl is not installed (`make system-deps` installs it)"
    big = "x" * 2000  # curl sends Expect: 100-continue for bodies over 1 KiB
    for frame in ({"type": "tts", "text": "hello from curl"}, {"type": "tts", "text": f"long {big}"}):
        result = subprocess.run(
            ["curl", "-sS", "--max-time", "5", "-H", "Content-Type: application/json",
             "-d", json.dumps(frame), f"{running.http}/event"],
            capture_output=True, text=True, check=True, timeout=10)
        assert json.loads(result.stdout)["status"] == "ok"
