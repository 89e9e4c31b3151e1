"""The dashboard's side of the listener: GET / serves the page from the package behind
the same gate, a WebSocket on / still works, GetHistory shows what ended before a
client connected, and GetStats says how the engine is."""

from __future__ import annotations

import urllib.request

from doubles import wait_until
from listener_support import ask, listening, post, raw_http

from tts_core.listener.protocol import ErrorCode


def get(url: str) -> tuple[int, dict[str, str], str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, dict(response.headers), response.read().decode()


def test_the_page_its_script_and_style_are_served_with_a_strict_policy(make_manager):
    with listening(make_manager) as running:
        status, headers, page = get(running.http + "/")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert '<script src="/dashboard.js"' in page and "<title>TTS dashboard</title>" in page
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy
        assert f"connect-src ws://127.0.0.1:{running.server.port};" in policy
        assert "frame-ancestors 'none'" in policy and headers["X-Content-Type-Options"] == "nosniff"
        status, headers, script = get(running.http + "/dashboard.js")
        assert headers["Content-Type"].startswith("text/javascript") and "GetHistory" in script
        assert "innerHTML" not in script, "viewer text is only ever set as text"
        assert get(running.http + "/dashboard.css")[1]["Content-Type"].startswith("text/css")
        with running.ws() as ws:  # a WebSocket upgrade on / is the protocol, as before
            assert ask(ws, {"request": "GetStats", "id": 1})["status"] == "ok"
        assert post(running.http, b"{}", path="/", method="POST")[0] == 405


def test_the_gate_guards_the_page_too(make_manager):
    with listening(make_manager) as running:
        answer = raw_http(running.server.port, b"GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 421") and ErrorCode.FORBIDDEN_HOST.encode() in answer
        answer = raw_http(running.server.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                               b"Origin: https://evil.example\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 403")
        port = running.server.port
        upgrade = (f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port + 1}\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").encode()
        assert raw_http(port, upgrade).startswith(b"HTTP/1.1 403"), "another port is another origin"


def test_a_token_is_needed_over_the_websocket_not_for_the_page(make_manager):
    with listening(make_manager, token="s3cret") as running:
        assert get(running.http + "/")[0] == 200  # the page holds no secret; its socket needs the token
        with running.ws() as ws:
            refused = ask(ws, {"request": "GetHistory", "id": 1})
            assert refused["error"]["code"] == ErrorCode.UNAUTHORIZED
            assert ask(ws, {"request": "Authenticate", "token": "s3cret", "id": 2})["status"] == "ok"
            assert ask(ws, {"request": "GetHistory", "id": 3})["history"] == []


def test_history_shows_what_ended_before_the_client_came(make_manager):
    with listening(make_manager) as running:
        with running.ws() as bot:
            played = ask(bot, {"type": "tts", "text": "played before", "username": "ann"})["message_id"]
            assert running.manager.wait_until_idle(10)  # it ends first, whatever the machine's load
            held = ask(bot, {"type": "tts", "text": "a mod rejects it", "needs_approval": True})["message_id"]
            assert ask(bot, {"request": "Reject", "message_id": held})["rejected"] == held
            ask(bot, {"type": "user_banned", "username": "troll"})
            refused = ask(bot, {"type": "tts", "text": "troll again", "username": "troll"})
            assert refused["status"] == "rejected"
        assert running.manager.wait_until_idle(10)

        def ended() -> list[dict]:
            with running.ws() as later:
                return list(ask(later, {"request": "GetHistory", "id": "h"})["history"])

        assert wait_until(lambda: len(ended()) == 3, 10), ended()
        newest_first = ended()
        assert [e["event"] for e in newest_first] == ["rejected", "rejected", "playback_finished"]
        assert newest_first[0]["reason"] == "blocked_user" and newest_first[0]["stage"] == "blocked_users"
        assert newest_first[1]["message_id"] == held and newest_first[1]["reason"] == "moderator"
        assert newest_first[2]["message_id"] == played and newest_first[2]["username"] == "ann"
        with running.ws() as ws:
            stats = ask(ws, {"request": "GetStats"})["stats"]
        assert stats["engine"] == {"name": "tone", "status": ""}


def test_blocking_a_viewer_says_for_how_long(make_manager):
    with listening(make_manager) as running, running.ws() as ws:
        assert ask(ws, {"type": "user_banned", "username": "troll"})["blocked_seconds"] == 600
        timeout = ask(ws, {"type": "user_timeout", "username": "loud", "duration_seconds": 30})
        assert timeout["blocked_seconds"] == 30
