"""A request over HTTP without the token is told how to send it with an HTTP request
(a curl user cannot send a WebSocket Authenticate frame first)."""

from __future__ import annotations

from tts_core.listener.guard import TokenAttempts, TokenCheck
from tts_core.listener.protocol import ErrorCode
from tts_core.listener.session import Session


def refusal(transport: str) -> dict:
    session = Session(TokenCheck("s3cret", TokenAttempts()), "10.0.0.1", transport=transport)
    outcome = session.receive('{"type":"follow","username":"a"}')
    reply = session.settle(outcome).reply
    assert reply is not None and reply["error"]["code"] == ErrorCode.UNAUTHORIZED
    return reply["error"]


def test_http_says_header_or_query_token() -> None:
    error = refusal("http")
    assert "Authorization: Bearer <token>" in error["message"] and "?token=" in error["message"]
    assert "Authenticate" not in error["message"]


def test_websocket_says_authenticate_first() -> None:
    assert '{"request":"Authenticate"' in refusal("websocket")["message"]
