"""The listener's tiny HTTP layer without sockets: request heads, chunked bodies, responses."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tts_core.listener.http import BodyTooLarge, bearer_token, decode_chunked, format_response, parse_head


def test_parse_head_reads_method_path_query_and_headers():
    head = parse_head(b"POST /event?token=abc&x=1 HTTP/1.1\r\nContent-Length: 12\r\nOrigin: http://a\r\n"
                      b"Authorization: Bearer s3cret")
    assert head is not None
    assert (head.method, head.path, head.query) == ("POST", "/event", {"token": "abc", "x": "1"})
    assert head.content_length == 12 and head.headers["origin"] == "http://a"
    assert bearer_token(head.headers) == "s3cret" and not head.is_websocket_upgrade


def test_websocket_upgrades_are_recognised():
    head = parse_head(b"GET / HTTP/1.1\r\nUpgrade: WebSocket\r\nConnection: Upgrade")
    assert head is not None and head.is_websocket_upgrade


@pytest.mark.parametrize("raw", [
    b"", b"GET /", b"GET / HTTP/2", b"G\xc3T / HTTP/1.1", b"GET / HTTP/1.1\r\nno colon",
])
def test_malformed_heads_are_none(raw):
    assert parse_head(raw) is None


def test_content_length_must_be_a_plain_number():
    head = parse_head(b"POST /event HTTP/1.1\r\nContent-Length: -5")
    assert head is not None and head.content_length is None


def test_chunked_bodies():
    assert decode_chunked(b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n", 100) == b"hello world"
    assert decode_chunked(b"5\r\nhel", 100) is None
    assert decode_chunked(b"0\r\nTrailer: x\r\n", 100) is None
    assert decode_chunked(b"0\r\nTrailer: x\r\n\r\n", 100) == b""
    with pytest.raises(BodyTooLarge):
        decode_chunked(b"ff\r\n", 100)
    with pytest.raises(ValueError, match="chunk size"):
        decode_chunked(b"-1\r\n", 100)
    with pytest.raises(ValueError, match="CRLF"):
        decode_chunked(b"2\r\nabc\r\n", 100)


def test_format_response():
    response = format_response(429, '{"a":1}', {"Allow": "POST"})
    assert response.startswith(b"HTTP/1.1 429 Too Many Requests\r\n")
    assert b"Content-Length: 7\r\n" in response and b"Connection: close" in response
    assert response.endswith(b'\r\n\r\n{"a":1}')


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=300))
def test_fuzz_heads_and_chunks_never_crash(raw):
    parse_head(raw)
    with contextlib.suppress(ValueError):  # BodyTooLarge is a ValueError too
        decode_chunked(raw, 64)
