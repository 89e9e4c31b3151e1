"""The little HTTP the listener speaks besides WebSocket, sans-I/O: parse a request head,
tell a WebSocket upgrade from a plain request, format a JSON response.

Only what bots need: ``POST /event`` (Content-Length or chunked body, ``Expect:
100-continue`` honoured) and ``GET /health``; one request per connection
(``Connection: close``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

MAX_HEAD_BYTES = 16 * 1024  # request line + headers


@dataclass(frozen=True)
class HttpRequest:
    """A parsed request head. ``headers`` keys are lower-case; ``query`` keeps the first value."""

    method: str
    target: str
    headers: Mapping[str, str]
    path: str = ""
    query: Mapping[str, str] = field(default_factory=dict)

    @property
    def content_length(self) -> int | None:
        """The body length, or None if absent or not a plain number."""
        value = self.headers.get("content-length")
        return int(value) if value is not None and value.isdigit() else None

    @property
    def is_websocket_upgrade(self) -> bool:
        return self.method == "GET" and "websocket" in self.headers.get("upgrade", "").lower()


def parse_head(raw: bytes) -> HttpRequest | None:
    """Parse the request line and headers (without the final blank line); None if malformed."""
    lines = raw.split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0"):
        return None
    if not (parts[0].isascii() and parts[0].isalpha()):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not name.strip():
            return None
        headers[name.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
    method, target = parts[0].upper(), parts[1]
    return HttpRequest(method, target, headers, urlsplit(target).path or "/", query_params(target))


def query_params(target: str) -> dict[str, str]:
    """The query parameters of a request target ("/event?token=x"), first value of each."""
    return {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def format_response(status: int, body: str, extra_headers: Mapping[str, str] | None = None,
                    content_type: str = "application/json") -> bytes:
    """A complete HTTP/1.1 response that closes the connection."""
    payload = body.encode("utf-8")
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {content_type}; charset=utf-8",
             f"Content-Length: {len(payload)}", "Connection: close", "Cache-Control: no-store"]
    lines += [f"{name}: {value}" for name, value in (extra_headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload


class BodyTooLarge(ValueError):
    """A chunked body grew beyond the limit."""


_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]{1,8}")


def decode_chunked(data: bytes, limit: int) -> bytes | None:
    """The body of a ``Transfer-Encoding: chunked`` request once it is complete, None while
    more is to come. Raises BodyTooLarge beyond ``limit`` bytes, ValueError if malformed."""
    body = bytearray()
    pos = 0
    while True:
        end = data.find(b"\r\n", pos)
        if end < 0:
            return None
        size_text = data[pos:end].split(b";", 1)[0].strip()
        if not _CHUNK_SIZE.fullmatch(size_text):
            raise ValueError(f"bad chunk size {size_text[:20]!r}")
        size = int(size_text, 16)
        if len(body) + size > limit:
            raise BodyTooLarge(f"body is larger than {limit} bytes")
        if size == 0:  # last chunk; optional trailers end with an empty line
            if data[end + 2 : end + 4] == b"\r\n":
                return bytes(body)
            return bytes(body) if data.find(b"\r\n\r\n", end) >= 0 else None
        start = end + 2
        if len(data) < start + size + 2:
            return None
        if data[start + size : start + size + 2] != b"\r\n":
            raise ValueError("chunk data is not followed by CRLF")
        body += data[start : start + size]
        pos = start + size + 2
