"""OpenAI's voices and OpenAI-compatible speech servers (Kokoro-FastAPI and others that
serve ``POST {base_url}/audio/speech``) through the official ``openai`` SDK
(``pip install 'obs-tts-queue[openai]'``); MP3 or WAV clips.

One SDK client per engine (thread-safe), its own retries off (the queue retries), a
per-call time-out. A key is optional: local servers need none, and then no
Authorization header is sent at all. The key is never logged or shown.
"""

from __future__ import annotations

import logging
import os
import struct
from typing import Any
from urllib.parse import urlparse

from tts_core.engines.base import (
    Engine,
    EngineError,
    EngineRateLimited,
    PermanentEngineError,
    TransientEngineError,
    Voice,
)
from tts_core.engines.support import DEFAULT_RATE_WPM, parse_retry_after, redact, require

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "tts-1"
DEFAULT_VOICE = "alloy"
DEFAULT_FORMAT = "mp3"
DEFAULT_TIMEOUT_SECONDS = 20.0
# OpenAI's built-in voices: the list when the server offers none and the config names none.
OPENAI_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer",
                 "verse")
# Formats a clip can be played in: WAV and MP3 as they come, raw PCM wrapped into WAV.
FORMATS = ("mp3", "wav", "pcm")
PCM_SAMPLE_RATE = 24000  # OpenAI's "pcm": 24 kHz, 16-bit signed little-endian, mono
MIN_SPEED, MAX_SPEED = 0.25, 4.0


class OpenAIEngine(Engine):
    """Parameters: ``base_url`` (default OpenAI's; e.g. ``http://localhost:8880/v1`` for
    Kokoro-FastAPI), ``key`` (optional; else ``$OPENAI_API_KEY``), ``model``
    (``tts-1``, ``gpt-4o-mini-tts``, ``kokoro``, ...), ``voice``, ``voices`` (the voice
    list when the server offers none), ``response_format`` (mp3, wav or pcm),
    ``speed`` (0.25-4.0; else from ``rate`` in words/min), ``timeout`` (seconds per call)."""

    name = "openai"

    def __init__(
        self,
        base_url: str | None = None,
        key: str | None = None,
        model: str | None = None,
        voice: str | None = None,
        voices: list[str] | None = None,
        response_format: str | None = None,
        speed: float | None = None,
        rate: int | None = None,
        volume: float | None = None,  # the API has no volume; accepted like every engine's
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._openai = require("openai", "openai", "the OpenAI SDK (openai)")
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        if urlparse(self.base_url).scheme not in ("http", "https"):
            raise PermanentEngineError(
                f"openai: base_url must start with http:// or https://, got {base_url!r}"
            )
        self.model = model or DEFAULT_MODEL
        self.voice = voice or DEFAULT_VOICE
        self.voices = [str(v) for v in voices or []]
        self.response_format = (response_format or DEFAULT_FORMAT).lower()
        if self.response_format not in FORMATS:
            raise PermanentEngineError(
                f"openai: response_format must be one of {', '.join(FORMATS)} (what OBS and the "
                f"players here can play), got {response_format!r}"
            )
        if speed is not None and not MIN_SPEED <= float(speed) <= MAX_SPEED:
            raise PermanentEngineError(f"openai: speed must be {MIN_SPEED}-{MAX_SPEED}, got {speed}")
        self.speed, self.rate, self.timeout = speed, rate, timeout
        self._key = key or os.environ.get("OPENAI_API_KEY") or ""
        if not self._key and urlparse(self.base_url).hostname == "api.openai.com":
            raise PermanentEngineError(
                "openai: api.openai.com needs a key: set engine.openai.key (or $OPENAI_API_KEY); "
                "a local server (engine.openai.base_url) needs none"
            )
        # The SDK insists on a key; without one, each request omits the Authorization header.
        self._headers: dict[str, Any] = {} if self._key else {"Authorization": self._openai.Omit()}
        self._client = self._openai.OpenAI(
            api_key=self._key or "no-key", base_url=self.base_url, timeout=timeout, max_retries=0,
        )
        self._server_voices: list[Voice] | None = None

    def __repr__(self) -> str:
        return (f"OpenAIEngine(base_url={self.base_url!r}, model={self.model!r}, voice={self.voice!r}, "
                f"response_format={self.response_format!r}, key={'***' if self._key else None})")

    def cache_identity(self, voice: str | None) -> str:
        default = f"|default_voice={self.voice}" if voice is None else ""
        return (f"openai|{self.base_url}|model={self.model}|format={self.response_format}"
                f"|speed={self.speed}|rate={self.rate}{default}")

    def _speed(self, rate: int | None) -> float | None:
        if rate:
            return round(max(MIN_SPEED, min(rate / DEFAULT_RATE_WPM, MAX_SPEED)), 3)
        if self.speed is not None:
            return float(self.speed)
        if self.rate:
            return self._speed(self.rate)
        return None

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        if not text.strip():
            raise PermanentEngineError("openai: nothing to speak (the text is empty)")
        voice = voice or self.voice
        params: dict[str, Any] = {"model": self.model, "voice": voice, "input": text,
                                  "response_format": self.response_format}
        speed = self._speed(rate)
        if speed is not None:
            params["speed"] = speed
        try:
            response = self._client.audio.speech.create(**params, timeout=self.timeout,
                                                        extra_headers=self._headers)
            data: bytes = response.content
        except self._openai.OpenAIError as exc:
            raise self._classify(exc, voice) from None
        if not data:
            raise TransientEngineError("openai: the server answered without audio (empty body)")
        if self.response_format == "pcm":
            return pcm_to_wav(data, PCM_SAMPLE_RATE)
        return data

    def _classify(self, exc: BaseException, voice: str | None) -> EngineError:
        error = classify(exc, voice, self.model, self.base_url)
        text = redact(str(error), self._key)
        if text == str(error):
            return error
        if isinstance(error, EngineRateLimited):
            return EngineRateLimited(text, error.retry_after)
        return type(error)(text)

    def list_voices(self) -> list[Voice]:
        """The server's voices where it offers a list (GET {base_url}/audio/voices, as
        Kokoro-FastAPI does), else ``voices`` of the config, else OpenAI's built-in ones."""
        if self._server_voices is None:
            self._server_voices = self._ask_server_for_voices()
        if self._server_voices:
            return self._server_voices
        return [Voice(id=v, name=v) for v in (self.voices or OPENAI_VOICES)]

    def _ask_server_for_voices(self) -> list[Voice]:
        try:
            answer = self._client.get("/audio/voices", cast_to=object,
                                      options={"timeout": min(self.timeout, 5.0), "headers": self._headers})
        except self._openai.OpenAIError as exc:
            log.info("openai: the server lists no voices (%s); using the configured list",
                     redact(" ".join(str(exc).split())[:120], self._key))
            return []
        return parse_voice_list(answer)

    def check_voice(self, voice: str) -> None:
        """Only a server that lists its voices (or a configured ``voices`` list) can refuse
        one here; otherwise the server's own 400/404 says so at the first message."""
        if self._server_voices is None:
            self._server_voices = self._ask_server_for_voices()
        if self._server_voices or self.voices:
            super().check_voice(voice)

    def close(self) -> None:
        self._client.close()


def parse_voice_list(answer: object) -> list[Voice]:
    """Voices from a server's list: ``{"voices": ["af_bella", ...]}`` (Kokoro-FastAPI),
    ``{"voices": [{"id": ..., "name": ...}]}``, or a bare list of either."""
    items = answer.get("voices", answer.get("data", [])) if isinstance(answer, dict) else answer
    voices: list[Voice] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            voices.append(Voice(id=item, name=item))
        elif isinstance(item, dict):
            ident = item.get("id") or item.get("voice_id") or item.get("name")
            if ident:
                voices.append(Voice(id=str(ident), name=str(item.get("name") or ident),
                                    language=str(item.get("language") or ""),
                                    gender=str(item.get("gender") or "")))
    return voices


def pcm_to_wav(pcm: bytes, sample_rate: int) -> bytes:
    """16-bit mono little-endian PCM as a WAV file."""
    pcm = pcm[: len(pcm) - len(pcm) % 2]
    header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, sample_rate, sample_rate * 2, 2, 16)
    return header + b"data" + struct.pack("<I", len(pcm)) + pcm


def _error_detail(exc: BaseException) -> tuple[str, str]:
    """(message, code) from the error body: OpenAI's ``{"error": {"message", "type",
    "code"}}``, FastAPI's ``{"detail": ...}``, or the exception's text."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            detail = inner.get("message") or inner.get("detail") or ""
            if isinstance(detail, dict):
                detail = detail.get("message") or str(detail)
            return str(detail or body), str(inner.get("code") or inner.get("type") or "")
        return str(inner), ""
    if isinstance(body, str) and body:
        return body, ""
    return str(exc) or type(exc).__name__, ""


def classify(exc: BaseException, voice: str | None, model: str, base_url: str) -> EngineError:
    """An ``openai`` SDK error as the shared error types: 401/403 key refused, 400/404/422
    unknown model or voice (permanent); 429 rate-limited with Retry-After, except an
    exhausted quota (permanent); 5xx, 408, time-outs and connection errors transient."""
    name = type(exc).__name__
    if name == "APITimeoutError":
        return TransientEngineError(f"openai: {base_url} did not answer in time")
    if name == "APIConnectionError":
        return TransientEngineError(f"openai: cannot reach {base_url}: {' '.join(str(exc).split())}")
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        return TransientEngineError(f"openai: unexpected answer from {base_url}: {name}: {exc}")
    detail, code = _error_detail(exc)
    detail = " ".join(detail.split())[:300]
    if status in (401, 403):
        return PermanentEngineError(
            f"openai: the key was refused ({status}): {detail}; check engine.openai.key"
        )
    if status == 429:
        if code == "insufficient_quota":
            return PermanentEngineError(f"openai: the account's quota is used up (429): {detail}")
        response = getattr(exc, "response", None)
        retry_after = parse_retry_after(response.headers.get("Retry-After") if response is not None else None)
        wait = f"; retry after {retry_after:g} s" if retry_after is not None else ""
        return EngineRateLimited(f"openai: rate-limited (429 Too Many Requests){wait}: {detail}", retry_after)
    if status >= 500 or status == 408:
        return TransientEngineError(f"openai: server error {status}: {detail}")
    if status == 404:
        return PermanentEngineError(
            f"openai: unknown model {model!r} or voice {voice!r} (404): {detail}; "
            "check engine.openai.model and voice (`obs-tts voices --engine openai`)"
        )
    return PermanentEngineError(
        f"openai: the server refused the request ({status}; model {model!r}, voice {voice!r}): {detail}"
    )
