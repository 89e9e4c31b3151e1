"""A loopback aiohttp server answering like ElevenLabs' text-to-speech API.

``POST /v1/text-to-speech/{voice_id}?output_format=mp3_44100_128`` answers the audio as
the body (``audio/mpeg``; ``pcm_*``: raw 16-bit PCM); ``GET /v1/voices`` the account's
voices. Errors in ElevenLabs' shape ``{"detail": {"status", "message"}}``. ``mode``:
"ok", "401" (invalid key), "quota" (401 quota_exceeded), "404" (voice_not_found),
"400-model" (model_not_found), "422" (validation), "429" (with ``retry_after``), "500",
"empty", "hang"; ``modes`` first, one per request.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from fakes.audio import mp3_tone, pcm_tone
from fakes.openai_speech import FakeOpenAI

VOICES = [
    {"voice_id": "21m00Tcm4TlvDq8ikWAM", "name": "Rachel", "category": "premade",
     "labels": {"accent": "american", "gender": "female"}},
    {"voice_id": "pNInz6obpgDQGcFmaJgB", "name": "Adam", "category": "premade",
     "labels": {"accent": "american", "gender": "male"}},
]


def _detail(status: str, message: str) -> dict[str, Any]:
    return {"detail": {"status": status, "message": message}}


class FakeElevenLabs(FakeOpenAI):
    """Same server machinery as FakeOpenAI (requests, headers, modes, hang, stop)."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/text-to-speech/{voice_id}", self._tts)
        app.router.add_get("/v1/voices", self._list)

    async def _list(self, request: web.Request) -> web.Response:
        self.headers.append(dict(request.headers))
        if request.headers.get("xi-api-key") != "good-key-0123456789":
            return web.json_response(_detail("invalid_api_key", "Invalid API key"), status=401)
        return web.json_response({"voices": VOICES})

    async def _tts(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        voice_id = request.match_info["voice_id"]
        with self.lock:
            self.requests.append({"voice_id": voice_id, "query": dict(request.query), **body})
            self.headers.append(dict(request.headers))
        mode = self._next_mode()
        if mode == "hang":
            assert self._release is not None
            await self._release.wait()
            return web.Response(status=503)
        errors = {
            "401": (401, _detail("invalid_api_key", "Invalid API key")),
            "quota": (401, _detail("quota_exceeded", "This request exceeds your quota of 10000. You have 3 "
                                                     "credits remaining, while 54 credits are required.")),
            "404": (404, _detail("voice_not_found", f"A voice with the voice_id {voice_id} was not found.")),
            "400-model": (400, _detail("model_not_found", "A model with model ID eleven_x was not found.")),
            "422": (422, {"detail": [{"loc": ["body", "text"], "msg": "field required",
                                      "type": "value_error.missing"}]}),
            "429": (429, _detail("too_many_concurrent_requests",
                                 "Too many concurrent requests for your subscription.")),
            "500": (500, _detail("internal_error", "An internal error occurred.")),
        }
        if mode in errors:
            status, error = errors[mode]
            headers = {"Retry-After": self.retry_after} if mode == "429" and self.retry_after else {}
            return web.Response(text=json.dumps(error), status=status, headers=headers,
                                content_type="application/json")
        fmt = request.query.get("output_format", "mp3_44100_128")
        if mode == "empty":
            return web.Response(body=b"", content_type="audio/mpeg")
        if fmt.startswith("pcm_"):
            return web.Response(body=pcm_tone(self.tone_ms, rate=int(fmt.split("_")[1])),
                                content_type="audio/pcm")
        return web.Response(body=mp3_tone(self.tone_ms), content_type="audio/mpeg")
