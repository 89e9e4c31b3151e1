"""A loopback aiohttp server answering like OpenAI's ``POST /v1/audio/speech`` (and
OpenAI-compatible servers such as Kokoro-FastAPI, which also list their voices at
``GET /v1/audio/voices``).

Success: the audio itself as the body (``audio/mpeg``, ``audio/wav``, ``audio/pcm``).
Errors: OpenAI's JSON shape ``{"error": {"message", "type", "param", "code"}}``.
``mode`` picks the answer: "ok", "401", "403", "404" (unknown model), "400-voice"
(unknown voice), "429" (with ``retry_after``), "quota" (429 insufficient_quota),
"500", "503", "empty" (200 without a body), "hang" (never answers until stopped);
``modes``: one per request first, then ``mode``. ``voices``: served at
``/v1/audio/voices`` (None: that route is a 404 as on OpenAI's own API).
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from fakes.audio import mp3_tone, pcm_tone
from tts_core.domain.audio import silent_wav

SPEECH = "/v1/audio/speech"
VOICES = "/v1/audio/voices"
CONTENT_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "pcm": "audio/pcm", "opus": "audio/opus"}


def _error(message: str, type_: str, code: str | None, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


@dataclass
class FakeOpenAI:
    mode: str = "ok"
    modes: list[str] = field(default_factory=list)
    retry_after: str | None = "3"
    tone_ms: int = 500
    voices: list[str] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Future[None] | None = None
        self._release: asyncio.Event | None = None
        self._ready = threading.Event()
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="fake-openai",
                                        daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake OpenAI server did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            def finish() -> None:
                assert self._release is not None and self._stop is not None
                self._release.set()  # hanging requests end
                if not self._stop.done():
                    self._stop.set_result(None)

            loop.call_soon_threadsafe(finish)
        self._thread.join(10)

    def _next_mode(self) -> str:
        with self.lock:
            return self.modes.pop(0) if self.modes else self.mode

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = self._loop.create_future()
        self._release = asyncio.Event()
        app = web.Application()
        self.routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = runner.addresses[0][1]
        self._ready.set()
        try:
            await self._stop
        finally:
            await runner.cleanup()

    def routes(self, app: web.Application) -> None:
        app.router.add_post(SPEECH, self._speech)
        app.router.add_get(VOICES, self._voices)

    async def _voices(self, request: web.Request) -> web.Response:
        self.headers.append(dict(request.headers))
        if self.voices is None:
            return web.json_response(
                _error(f"Invalid URL (GET {VOICES})", "invalid_request_error", None), status=404)
        return web.json_response({"voices": self.voices})

    async def _speech(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        with self.lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
        mode = self._next_mode()
        model, voice = body.get("model"), body.get("voice")
        if mode == "hang":
            assert self._release is not None
            await self._release.wait()
            return web.Response(status=503)
        if mode == "401":
            return web.json_response(_error(
                "Incorrect API key provided: sk-wrong***. You can find your API key at "
                "https://platform.openai.com/account/api-keys.", "invalid_request_error", "invalid_api_key"),
                status=401)
        if mode == "403":
            return web.json_response(_error(
                "Country, region, or territory not supported", "request_forbidden",
                "unsupported_country_region_territory"), status=403)
        if mode == "404":
            return web.json_response(_error(
                f"The model `{model}` does not exist or you do not have access to it.",
                "invalid_request_error", "model_not_found"), status=404)
        if mode == "400-voice":
            return web.json_response(_error(
                f"Invalid value: '{voice}'. Supported values are: 'alloy', 'ash', 'ballad', 'coral', "
                "'echo', 'fable', 'onyx', 'nova', 'sage', 'shimmer', and 'verse'.",
                "invalid_request_error", "invalid_value", "voice"), status=400)
        if mode in ("429", "quota"):
            headers = {"Retry-After": self.retry_after} if self.retry_after and mode == "429" else {}
            error = (_error(f"Rate limit reached for {model} on requests per min (RPM): Limit 3, Used 3, "
                            "Requested 1. Please try again in 20s.", "requests", "rate_limit_exceeded")
                     if mode == "429" else
                     _error("You exceeded your current quota, please check your plan and billing details.",
                            "insufficient_quota", "insufficient_quota"))
            return web.Response(text=json.dumps(error), status=429, headers=headers,
                                content_type="application/json")
        if mode in ("500", "503"):
            return web.json_response(_error(
                "The server had an error while processing your request. Sorry about that!",
                "server_error", None), status=int(mode))
        fmt = body.get("response_format", "mp3")
        if mode == "empty":
            return web.Response(body=b"", content_type=CONTENT_TYPES.get(fmt, "audio/mpeg"))
        audio = {"mp3": lambda: mp3_tone(self.tone_ms), "wav": lambda: silent_wav(self.tone_ms, 24000),
                 "pcm": lambda: pcm_tone(self.tone_ms, rate=24000)}[fmt]()
        return web.Response(body=audio, content_type=CONTENT_TYPES[fmt])
