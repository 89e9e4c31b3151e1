"""The HTTP side of the listener: a routing table of paths and methods.

``POST /event`` carries one frame (the same protocol as a WebSocket frame, one Session
per request, sharing one rate limit), ``GET /health`` says whether the queue runs and
whether its journal takes writes,
``GET /overlay`` serves the captions page, ``GET /`` the moderator dashboard (with
``/dashboard.js`` and ``/dashboard.css``; a WebSocket upgrade on ``/`` never gets here),
``OPTIONS`` answers a browser's preflight
(only allow-listed origins get this far). Bodies are read as they arrive, within the
time-out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tts_core import __version__
from tts_core.config import ListenerConfig
from tts_core.listener.dashboard import DASHBOARD_FILES, dashboard_csp
from tts_core.listener.dispatcher import CommandThread
from tts_core.listener.guard import Gate, Visitor
from tts_core.listener.overlay import OVERLAY_FILES, overlay_csp
from tts_core.listener.protocol import ErrorCode
from tts_core.listener.responses import error_response, json_response, response
from tts_core.listener.session import Session
from tts_core.listener.static_files import packaged_page_file
from tts_core.runtime.manager import TTSQueueManager

Handler = Callable[[web.BaseRequest, Visitor, dict[str, str]], Awaitable[web.StreamResponse]]
NewSession = Callable[[str, Visitor], Session]


class HttpRoutes:
    """Answers the HTTP requests that passed the gate's Host and Origin checks.

    Parameters: ``config`` (the listener's), ``manager`` (for ``/health``), ``commands``
    (where an event's command runs), ``gate`` (checks the token of ``POST /event``),
    ``new_session`` (a Session for a transport and a visitor), ``page_host`` (the
    overlay's WebSocket address when a request has no Host header).
    """

    def __init__(self, config: ListenerConfig, manager: TTSQueueManager, commands: CommandThread, gate: Gate,
                 new_session: NewSession, page_host: str) -> None:
        self.config = config
        self.manager = manager
        self.commands = commands
        self.gate = gate
        self.new_session = new_session
        self.page_host = page_host
        self.routes: dict[str, dict[str, Handler]] = {"/event": {"POST": self._event},
                                                      "/health": {"GET": self._health}}
        if config.overlay:
            for path in OVERLAY_FILES:  # the page, its script and its style
                self.routes[path] = {"GET": self._overlay}
        for path in DASHBOARD_FILES:
            self.routes[path] = {"GET": self._dashboard}

    async def serve(self, request: web.BaseRequest, visitor: Visitor) -> web.StreamResponse:
        cors = _cors_headers(visitor.origin)
        if request.method == "OPTIONS":
            return response(204, "", cors)
        methods = self.routes.get(request.path)
        if methods is None:
            hint = "no such path; use POST /event, GET /health, GET /overlay, GET / (the dashboard) " \
                   "or a WebSocket on /"
            return error_response(ErrorCode.NOT_FOUND, hint, extra_headers=cors)
        handler = methods.get(request.method)
        if handler is None:
            allowed = ", ".join(methods)
            return error_response(ErrorCode.METHOD_NOT_ALLOWED, f"use {allowed} here",
                                  extra_headers={**cors, "Allow": allowed})
        return await handler(request, visitor, cors)

    async def _event(self, request: web.BaseRequest, visitor: Visitor,
                     cors: dict[str, str]) -> web.StreamResponse:
        refusal = self.gate.check_token(visitor)
        if refusal is not None:
            return json_response(refusal, cors)
        body = await self._read_body(request)
        if isinstance(body, web.StreamResponse):
            return body
        session = self.new_session("http", visitor)
        outcome = session.receive(body)
        if outcome.command is not None:
            outcome = session.complete(outcome, await self.commands.run(outcome.command))
        assert outcome.reply is not None
        return json_response(outcome.reply, cors)

    async def _health(self, request: web.BaseRequest, visitor: Visitor,
                      cors: dict[str, str]) -> web.StreamResponse:
        manager = self.manager
        journal = manager.journal.health()
        # "degraded": the queue runs, but the journal refuses writes, so new messages are refused.
        status = "degraded" if journal["journal_state"] == "refusing_writes" else "ok"
        health: dict[str, Any] = {"status": status, "version": __version__, "running": manager.is_running,
                                  "enabled": manager.enabled, "paused": manager.paused,
                                  "pending": len(manager.queue), **journal}
        return json_response(health, cors, status=200)

    async def _overlay(self, request: web.BaseRequest, visitor: Visitor,
                       cors: dict[str, str]) -> web.StreamResponse:
        name, content_type = OVERLAY_FILES[request.path]
        host = visitor.host or self.page_host
        return response(200, packaged_page_file(name), {"Content-Security-Policy": overlay_csp(host),
                                                  "X-Content-Type-Options": "nosniff"},
                        content_type=content_type)

    async def _dashboard(self, request: web.BaseRequest, visitor: Visitor,
                         cors: dict[str, str]) -> web.StreamResponse:
        name, content_type = DASHBOARD_FILES[request.path]
        host = visitor.host or self.page_host
        return response(200, packaged_page_file(name), {"Content-Security-Policy": dashboard_csp(host),
                                                    "X-Content-Type-Options": "nosniff",
                                                    "Referrer-Policy": "no-referrer"},
                        content_type=content_type)

    async def _read_body(self, request: web.BaseRequest) -> bytes | web.StreamResponse:
        """The request body, read as it arrives (within the time-out), or the error response."""
        limit = self.config.max_frame_bytes
        too_large = f"body is larger than {limit} bytes"
        chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        length = request.content_length
        if length is None and not chunked:
            hint = "send the body with a Content-Length header (or chunked)"
            return error_response(ErrorCode.INVALID_FRAME, hint, status=411)
        if length is not None and length > limit:
            return error_response(ErrorCode.FRAME_TOO_LARGE, too_large)
        if request.headers.get("Expect", "").lower() == "100-continue":
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # as aiohttp's router does
        body = bytearray()
        timeout = self.config.unauthenticated_timeout_seconds

        async def read_all() -> bool:
            """False as soon as the body is larger than the limit."""
            while chunk := await request.content.readany():
                body.extend(chunk)
                if len(body) > limit:
                    return False
            return True

        try:
            within_limit = await asyncio.wait_for(read_all(), timeout)  # asyncio.timeout: 3.11+
        except (TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11
            return error_response(ErrorCode.INVALID_FRAME, f"the body did not arrive within {timeout:g} s",
                                  status=408)
        except ValueError as exc:  # aiohttp's HttpProcessingError family: a malformed body
            return error_response(ErrorCode.INVALID_FRAME, f"malformed body: {exc}")
        if not within_limit:
            return error_response(ErrorCode.FRAME_TOO_LARGE, too_large)
        return bytes(body)


def _cors_headers(origin: str | None) -> dict[str, str]:
    """Only reached for allow-listed origins (or none): let those pages read replies."""
    if origin is None:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type"}
