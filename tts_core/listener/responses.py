"""The listener's HTTP responses: JSON replies with the protocol's status codes, one
request per connection; also for requests aiohttp cannot parse (``JsonErrorServer``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from tts_core import __version__
from tts_core.domain.log_text import loggable
from tts_core.listener.protocol import ErrorCode, encode, error_reply, http_status

log = logging.getLogger(__name__)

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


class JsonErrorHandler(RequestHandler):
    """aiohttp's connection handler, answering a request it cannot parse (a garbage
    request line, a bad or duplicate Content-Length, a bad chunk size, NUL or an
    over-long line in the head) with the JSON error object instead of plain text."""

    def handle_error(self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        if request.writer.output_size > 0:  # a response has begun: only closing is left
            return super().handle_error(request, status, exc, message)
        reason = loggable(str(exc) if exc is not None else (message or "error"), 160)
        log.debug("listener: malformed request from %s (%d): %s", request.remote, status, reason)
        if status >= 500:
            return json_response(error_reply(None, ErrorCode.INTERNAL_ERROR, "see the log"), status=status)
        return json_response(error_reply(None, ErrorCode.INVALID_FRAME, f"malformed HTTP request: {reason}"),
                             status=status)


class JsonErrorServer(web.Server):
    """``web.Server`` whose connections are JsonErrorHandlers."""

    def __call__(self) -> RequestHandler:
        return JsonErrorHandler(self, loop=self._loop, **self._kwargs)
