"""The listener's HTTP responses: JSON replies with the protocol's status codes, one
request per connection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from tts_core import __version__
from tts_core.listener.protocol import ErrorCode, encode, error_reply, http_status

SERVER_HEADER = f"obs-tts-queue/{__version__}"


def response(status: int, text: str, headers: Mapping[str, str] | None = None,
             content_type: str = "application/json") -> web.Response:
    """One response that closes the connection (one request per connection)."""
    answer = web.Response(status=status, text=text, content_type=content_type, charset="utf-8",
                          headers={"Cache-Control": "no-store", "Server": SERVER_HEADER, **(headers or {})})
    answer.force_close()
    return answer


def json_response(reply: dict[str, Any], extra_headers: Mapping[str, str] | None = None,
                  status: int | None = None) -> web.Response:
    """``reply`` with the HTTP status its error code maps to (200 for ok)."""
    headers = dict(extra_headers or {})
    if reply.get("status") == "error" and reply["error"]["code"] == ErrorCode.TOO_MANY_ATTEMPTS:
        headers["Retry-After"] = "60"
    return response(status or http_status(reply), encode(reply), headers)


def error_response(code: str, message: str, status: int | None = None,
                   extra_headers: Mapping[str, str] | None = None) -> web.Response:
    return json_response(error_reply(None, code, message), extra_headers, status)
