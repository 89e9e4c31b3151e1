"""ElevenLabs voices through the official ``elevenlabs`` SDK (``pip install
'obs-tts-queue[elevenlabs]'``); MP3 clips, or PCM wrapped into WAV.

One SDK client per engine, its own retries off (the queue retries), a per-call
time-out (each read, and the whole clip). The voice may be named by id or by name (the
account's voice list resolves it). The key is never logged or shown.
"""

from __future__ import annotations

import logging
import os
import time
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
from tts_core.engines.openai_engine import pcm_to_wav
from tts_core.engines.support import DEFAULT_RATE_WPM, parse_retry_after, redact, require

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.elevenlabs.io"
DEFAULT_MODEL = "eleven_multilingual_v2"
DEFAULT_VOICE = "21m00Tcm4TlvDq8ikWAM"  # "Rachel", a premade voice every account has
DEFAULT_FORMAT = "mp3_44100_128"
DEFAULT_TIMEOUT_SECONDS = 20.0
MIN_SPEED, MAX_SPEED = 0.7, 1.2  # what ElevenLabs accepts as voice_settings.speed
# Permanent 401/400 statuses in ElevenLabs' {"detail": {"status": ..., "message": ...}}.
QUOTA_STATUSES = ("quota_exceeded", "payment_required", "insufficient_credits")


class ElevenLabsEngine(Engine):
    """Parameters: ``key`` (else ``$ELEVENLABS_API_KEY``), ``voice`` (a voice id or the
    name of a voice of the account), ``model`` (``eleven_multilingual_v2``,
    ``eleven_flash_v2_5``, ...), ``output_format`` (``mp3_44100_128``, ``mp3_22050_32``,
    ``pcm_16000``, ``pcm_24000``, ...; PCM becomes WAV), ``stability`` and
    ``similarity_boost`` (0.0-1.0), ``speed`` (0.7-1.2; else from ``rate``),
    ``base_url`` (tests and proxies), ``timeout`` (seconds per call)."""

    name = "elevenlabs"

    def __init__(
        self,
        key: str | None = None,
        voice: str | None = None,
        model: str | None = None,
        output_format: str | None = None,
        stability: float | None = None,
        similarity_boost: float | None = None,
        speed: float | None = None,
        base_url: str | None = None,
        rate: int | None = None,
        volume: float | None = None,  # the API has no volume; accepted like every engine's
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._sdk = require("elevenlabs", "elevenlabs", "the ElevenLabs SDK (elevenlabs)")
        self._key = key or os.environ.get("ELEVENLABS_API_KEY") or ""
        if not self._key:
            raise PermanentEngineError(
                "elevenlabs: no key: set engine.elevenlabs.key (or $ELEVENLABS_API_KEY)"
            )
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        if urlparse(self.base_url).scheme not in ("http", "https"):
            raise PermanentEngineError(
                f"elevenlabs: base_url must start with http:// or https://, got {base_url!r}"
            )
        self.voice = voice or DEFAULT_VOICE
        self.model = model or DEFAULT_MODEL
        self.output_format = output_format or DEFAULT_FORMAT
        if not self.output_format.startswith(("mp3_", "pcm_")) or (
            self.output_format.startswith("pcm_") and not self.output_format[4:].isdigit()
        ):
            raise PermanentEngineError(
                "elevenlabs: output_format must be an MP3 (e.g. mp3_44100_128) or PCM (e.g. pcm_24000) "
                f"format, got {output_format!r}"
            )
        for setting, value in (("stability", stability), ("similarity_boost", similarity_boost)):
            if value is not None and not 0.0 <= float(value) <= 1.0:
                raise PermanentEngineError(f"elevenlabs: {setting} must be 0.0-1.0, got {value}")
        if speed is not None and not MIN_SPEED <= float(speed) <= MAX_SPEED:
            raise PermanentEngineError(f"elevenlabs: speed must be {MIN_SPEED}-{MAX_SPEED}, got {speed}")
        self.stability, self.similarity_boost, self.speed = stability, similarity_boost, speed
        self.rate, self.timeout = rate, timeout
        self._client = self._sdk.ElevenLabs(api_key=self._key, base_url=self.base_url, timeout=timeout)
        self._voices: list[Voice] | None = None

    def __repr__(self) -> str:
        return (f"ElevenLabsEngine(base_url={self.base_url!r}, voice={self.voice!r}, model={self.model!r}, "
                f"output_format={self.output_format!r}, key=***)")

    def cache_identity(self, voice: str | None) -> str:
        default = f"|default_voice={self.voice}" if voice is None else ""
        return (f"elevenlabs|{self.base_url}|model={self.model}|format={self.output_format}"
                f"|stability={self.stability}|similarity={self.similarity_boost}|speed={self.speed}"
                f"|rate={self.rate}{default}")

    def _options(self, timeout: float) -> dict[str, Any]:
        return {"timeout_in_seconds": max(1, round(timeout)), "max_retries": 0}

    def _voice_settings(self, rate: int | None) -> Any:
        speed = self.speed
        rate = rate or self.rate
        if rate and speed is None:
            speed = round(max(MIN_SPEED, min(rate / DEFAULT_RATE_WPM, MAX_SPEED)), 3)
        values = {"stability": self.stability, "similarity_boost": self.similarity_boost, "speed": speed}
        values = {k: float(v) for k, v in values.items() if v is not None}
        return self._sdk.VoiceSettings(**values) if values else None

    def voice_id(self, voice: str) -> str:
        """The id of ``voice`` (an id, or a name of the account's voices, any case)."""
        try:
            voices = self.list_voices()
        except EngineError:
            return voice  # the service decides (404 voice_not_found)
        for v in voices:
            if voice in (v.id,) or voice.casefold() == v.name.casefold():
                return v.id
        return voice

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        if not text.strip():
            raise PermanentEngineError("elevenlabs: nothing to speak (the text is empty)")
        wanted = voice or self.voice
        voice_id = self.voice_id(wanted)
        params: dict[str, Any] = {"text": text, "model_id": self.model, "output_format": self.output_format}
        settings = self._voice_settings(rate)
        if settings is not None:
            params["voice_settings"] = settings
        deadline = time.monotonic() + self.timeout
        chunks: list[bytes] = []
        try:
            for chunk in self._client.text_to_speech.convert(voice_id, **params,
                                                             request_options=self._options(self.timeout)):
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise TransientEngineError(f"elevenlabs: the clip took longer than {self.timeout:g} s")
        except EngineError:
            raise
        except Exception as exc:  # noqa: BLE001 - classified below
            raise self._classify(exc, wanted) from None
        data = b"".join(chunks)
        if not data:
            raise TransientEngineError("elevenlabs: the service answered without audio (empty body)")
        if self.output_format.startswith("pcm_"):
            return pcm_to_wav(data, int(self.output_format[4:]))
        return data

    def _classify(self, exc: BaseException, voice: str | None) -> EngineError:
        error = classify(exc, voice, self.model)
        text = redact(str(error), self._key)
        if text == str(error):
            return error
        if isinstance(error, EngineRateLimited):
            return EngineRateLimited(text, error.retry_after)
        return type(error)(text)

    def list_voices(self) -> list[Voice]:
        """The account's voices (GET /v1/voices), asked once."""
        if self._voices is None:
            try:
                answer = self._client.voices.get_all(request_options=self._options(min(self.timeout, 10.0)))
            except Exception as exc:  # noqa: BLE001
                raise self._classify(exc, None) from None
            self._voices = [
                Voice(id=str(v.voice_id), name=str(v.name or v.voice_id),
                      language=str((v.labels or {}).get("language") or (v.labels or {}).get("accent") or ""),
                      gender=str((v.labels or {}).get("gender") or ""))
                for v in answer.voices or []
            ]
        return self._voices

    def close(self) -> None:
        httpx_client = getattr(getattr(self._client, "_client_wrapper", None), "httpx_client", None)
        inner = getattr(httpx_client, "httpx_client", None)
        if inner is not None:
            inner.close()


def _detail(body: object) -> tuple[str, str]:
    """(message, status) from ElevenLabs' ``{"detail": {"status", "message"}}``, FastAPI's
    ``{"detail": [{"msg": ...}]}`` or a plain text body."""
    if isinstance(body, dict):
        detail = body.get("detail", body)
        if isinstance(detail, dict):
            return str(detail.get("message") or detail), str(detail.get("status") or detail.get("code") or "")
        if isinstance(detail, list):
            return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail), ""
        return str(detail), ""
    return str(body or ""), ""


def classify(exc: BaseException, voice: str | None, model: str) -> EngineError:
    """An ElevenLabs SDK (or httpx) error as the shared error types: invalid key, quota
    used up, unknown voice or model, refused requests permanent; 429 rate-limited with
    Retry-After; 5xx, time-outs and connection errors transient."""
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        if "Timeout" in name:
            return TransientEngineError("elevenlabs: the service did not answer in time")
        if name in ("ConnectError", "ReadError", "RemoteProtocolError", "WriteError", "NetworkError"):
            return TransientEngineError(f"elevenlabs: cannot reach the service: {name}: {exc}")
        return TransientEngineError(f"elevenlabs: unexpected failure: {name}: {exc}")
    message, code = _detail(getattr(exc, "body", None))
    message = " ".join(message.split())[:300]
    if code in QUOTA_STATUSES:
        return PermanentEngineError(f"elevenlabs: the account's quota is used up ({status}): {message}")
    if status in (401, 403):
        return PermanentEngineError(
            f"elevenlabs: the key was refused ({status}): {message}; check engine.elevenlabs.key"
        )
    if status == 429:
        headers = getattr(exc, "headers", None) or {}
        retry_after = parse_retry_after({k.lower(): v for k, v in headers.items()}.get("retry-after"))
        wait = f"; retry after {retry_after:g} s" if retry_after is not None else ""
        return EngineRateLimited(f"elevenlabs: rate-limited (429 {code or 'Too Many Requests'}){wait}: "
                                 f"{message}", retry_after)
    if status >= 500 or status == 408:
        return TransientEngineError(f"elevenlabs: server error {status}: {message}")
    if status == 404 or code in ("voice_not_found", "model_not_found"):
        return PermanentEngineError(
            f"elevenlabs: unknown voice {voice!r} or model {model!r} ({status}): {message}; "
            "`obs-tts voices --engine elevenlabs` lists the account's voices"
        )
    return PermanentEngineError(
        f"elevenlabs: the service refused the request ({status}; voice {voice!r}, model {model!r}): {message}"
    )
