"""What a web page (or a guesser) can do to the listener, on real sockets: DNS rebinding
(foreign Host names), the null origin, the overlay served from the listener itself,
wrong-token throttling, tokens kept out of the log, and a bad listener.host."""

from __future__ import annotations

import json
import logging
import socket

import pytest
from listener_support import ask, listening, post, raw_http
from websockets.exceptions import InvalidStatus

from tts_core import TTSConfig, TTSQueueManager
from tts_core.config import ConfigError
from tts_core.listener import ListenerServer
from tts_core.listener.guard import MAX_FAILED_TOKENS
from tts_core.listener.protocol import ErrorCode


def _status_and_body(answer: bytes) -> tuple[int, bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def _upgrade(host: str, origin: str | None = None, path: str = "/") -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _first_answer(port: int, payload: bytes) -> bytes:
    """The response head (and what came with it) without waiting for the connection to end."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


# -- DNS rebinding --------------------------------------------------------------------------


@pytest.mark.parametrize("request_line", [b"GET /health", b"POST /event", b"GET /overlay", b"GET /overlay.js",
                                          b"OPTIONS /event"])
def test_a_foreign_host_name_is_refused_on_every_path(make_manager, request_line):
    with listening(make_manager) as running:
        body = b'{"type":"tts","text":"rebound"}'
        answer = raw_http(running.server.port, request_line + b" HTTP/1.1\r\nHost: evil.example:8765\r\n"
                          b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        status, payload = _status_and_body(answer)
        assert status == 421 and json.loads(payload)["error"]["code"] == ErrorCode.FORBIDDEN_HOST
        assert running.manager.get_stats()["accepted"] == 0


def test_a_foreign_host_name_cannot_open_a_websocket(make_manager):
    with listening(make_manager) as running:
        status, _ = _status_and_body(_first_answer(running.server.port, _upgrade("evil.example")))
        assert status == 421
        own = _upgrade(f"localhost:{running.server.port}")
        assert _status_and_body(_first_answer(running.server.port, own))[0] == 101


def test_loopback_names_addresses_and_allowed_hosts_are_served(make_manager):
    with listening(make_manager, allowed_hosts=["streampc.local"]) as running:
        port = running.server.port
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", "[::1]", "192.168.1.20:80", "STREAMPC.local"):
            answer = raw_http(port, b"GET /health HTTP/1.1\r\nHost: %s\r\n\r\n" % host.encode())
            assert _status_and_body(answer)[0] == 200, host
        answer = raw_http(port, b"GET /health HTTP/1.1\r\nHost: other.local\r\n\r\n")
        assert _status_and_body(answer)[0] == 421


# -- origins and the overlay --------------------------------------------------------------------


def test_the_null_origin_is_refused_even_when_allow_listed(make_manager):
    with listening(make_manager, allowed_origins=["null"]) as running:
        status, reply = post(running.http, b'{"type":"tts","text":"from a sandboxed iframe"}',
                             headers={"Origin": "null", "Content-Type": "text/plain"})
        assert status == 403 and reply["error"]["code"] == ErrorCode.FORBIDDEN_ORIGIN
        with pytest.raises(InvalidStatus) as refused:
            running.ws(origin="null")
        assert refused.value.response.status_code == 403
        assert running.manager.get_stats()["accepted"] == 0


def test_the_overlay_page_is_served_and_its_own_origin_may_subscribe(make_manager):
    with listening(make_manager) as running:
        port = running.server.port
        answer = raw_http(port, b"GET /overlay HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port)
        status, page = _status_and_body(answer)
        assert status == 200 and b"Content-Type: text/html" in answer
        assert b"Content-Security-Policy: default-src 'none'; script-src 'self';" in answer  # none inline
        assert b'src="/overlay.js"' in page
        script_request = b"GET /overlay.js HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % port
        script = _status_and_body(raw_http(port, script_request))[1]
        assert b'"Subscribe"' in script and b"textContent" in script  # captions are text, never HTML
        assert b"innerHTML" not in script
        own_origin = f"http://127.0.0.1:{port}"
        with running.ws(origin=own_origin) as overlay, running.ws() as bot:
            assert ask(overlay, {"request": "Subscribe", "events": ["playback_started"]})["status"] == "ok"
            message_id = ask(bot, {"type": "tts", "text": "caption me", "username": "viewer"})["message_id"]
            event = json.loads(overlay.recv(timeout=5))
            assert event["event"] == "playback_started" and event["message_id"] == message_id
            assert event["text"] == "caption me"
        with pytest.raises(InvalidStatus):  # another page on another port is still a foreign origin
            running.ws(origin="http://127.0.0.1:3000")


def test_the_overlay_can_be_switched_off(make_manager):
    with listening(make_manager, overlay=False) as running:
        for path in ("/overlay", "/overlay.js", "/overlay.css"):
            assert post(running.http, b"", path=path, method="GET")[0] == 404


# -- tokens -----------------------------------------------------------------------------------------


def test_wrong_tokens_lock_the_address_out_and_are_logged(make_manager, caplog):
    caplog.set_level(logging.WARNING)
    with listening(make_manager, token="s3cret") as running:
        event = {"type": "follow", "username": "a"}
        for n in range(MAX_FAILED_TOKENS):
            status, reply = post(running.http, event, headers={"Authorization": f"Bearer guess{n}"})
            assert status == 401 and reply["error"]["code"] == ErrorCode.UNAUTHORIZED
        status, reply = post(running.http, event, headers={"Authorization": "Bearer s3cret"})
        assert status == 429 and reply["error"]["code"] == ErrorCode.TOO_MANY_ATTEMPTS, reply
        with pytest.raises(InvalidStatus) as refused:
            running.ws("/?token=s3cret")
        assert refused.value.response.status_code == 429
        with running.ws() as ws:  # no token in the handshake: the Authenticate frame is throttled too
            reply = ask(ws, {"request": "Authenticate", "token": "s3cret", "id": "a"})
            assert reply["error"]["code"] == ErrorCode.TOO_MANY_ATTEMPTS
        assert running.manager.get_stats()["accepted"] == 0
    lines = [r.getMessage() for r in caplog.records if "wrong token" in r.getMessage()]
    assert len([x for x in lines if "from 127.0.0.1" in x]) == MAX_FAILED_TOKENS
    assert any("refusing its token attempts" in x for x in lines)


def test_authenticate_frames_count_as_attempts(make_manager):
    with listening(make_manager, token="s3cret") as running:
        with running.ws() as ws:
            codes = [ask(ws, {"request": "Authenticate", "token": f"guess{n}"})["error"]["code"]
                     for n in range(MAX_FAILED_TOKENS)]
        assert codes == [ErrorCode.UNAUTHORIZED] * MAX_FAILED_TOKENS
        right = {"Authorization": "Bearer s3cret"}
        assert post(running.http, {"request": "GetStats"}, headers=right)[0] == 429


def test_authenticate_frames_over_http_count_too(make_manager):
    with listening(make_manager, token="s3cret") as running:
        for n in range(MAX_FAILED_TOKENS):
            assert post(running.http, {"request": "Authenticate", "token": f"guess{n}"})[0] == 401
        status, reply = post(running.http, {"request": "Authenticate", "token": "s3cret"})
        assert status == 429 and reply["error"]["code"] == ErrorCode.TOO_MANY_ATTEMPTS


def test_no_token_is_ever_logged_even_at_debug(make_manager, caplog):
    caplog.set_level(logging.DEBUG)
    secret, guesses = "s3cret-Token-42", ["guess-Alpha-1", "guess-Beta-2"]
    with listening(make_manager, token=secret) as running:
        with running.ws(f"/?token={secret}") as ws:
            assert ask(ws, {"request": "GetStats"})["status"] == "ok"
        with running.ws(additional_headers={"Authorization": f"Bearer {secret}"}) as ws:
            assert ask(ws, {"request": "GetStats"})["status"] == "ok"
        with running.ws() as ws:
            reply = ask(ws, {"request": "Authenticate", "token": guesses[0]})
            assert guesses[0] not in json.dumps(reply)
            assert ask(ws, {"request": "Authenticate", "token": secret})["status"] == "ok"
        status, reply = post(running.http, {"request": "GetStats"}, path=f"/event?token={guesses[1]}")
        assert status == 401 and guesses[1] not in json.dumps(reply)
        with pytest.raises(InvalidStatus):
            running.ws(f"/?token={guesses[1]}")
    # Leaving `listening` stopped the listener and joined its threads: every line is logged.
    # The test's own client library (websockets.client) logs its handshake at debug; ours must not.
    ours = [r for r in caplog.records if not r.name.startswith("websockets.client")]
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in ours)
    assert "listener" in logged  # the debug log did run
    for token in (secret, *guesses):
        assert token not in logged


# -- the listener address ----------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["nosuchhost.invalid", "10.255.255.1"])
def test_a_bad_listener_host_is_named_in_the_error(make_manager, host):
    config = TTSConfig()
    config.listener.host, config.listener.port = host, 0
    manager: TTSQueueManager = make_manager(config)
    with pytest.raises(OSError) as failed:
        ListenerServer(manager).start()
    message = str(failed.value)
    assert "listener.host" in message and host in message and "[Errno" not in message


def test_a_listener_host_with_a_scheme_or_port_is_a_config_error():
    for host in ("http://127.0.0.1", "127.0.0.1:8765", " "):
        with pytest.raises(ConfigError, match=r"listener\.host"):
            TTSConfig.from_dict({"listener": {"host": host}})
