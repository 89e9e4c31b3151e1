"""Microsoft Edge's free neural voices through edge-tts (LGPL; ``pip install
'obs-tts-queue[edge]'``); MP3 clips.

edge-tts is asyncio-only: every call runs on a private event loop in the worker
thread, bounded by ``timeout`` (a service that never ends its turn would hang it).
The clip carries the service's word boundaries (``TimedAudio``) for the captions.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
from collections.abc import Coroutine
from typing import Any, TypeVar

from tts_core.domain.words import SpokenWord, TimedAudio, from_ticks
from tts_core.engines.base import (
    Engine,
    EngineError,
    EngineRateLimited,
    PermanentEngineError,
    TransientEngineError,
    Voice,
)
from tts_core.engines.support import parse_retry_after, rate_percent, require, volume_percent

log = logging.getLogger(__name__)

DEFAULT_VOICE = "en-US-AriaNeural"
DEFAULT_TIMEOUT_SECONDS = 20.0
T = TypeVar("T")
_PITCH = re.compile(r"^[+-]\d+Hz$")
_RATE = re.compile(r"^[+-]\d+%$")


class EdgeEngine(Engine):
    """Parameters: ``voice`` (e.g. ``en-US-AriaNeural``; `obs-tts voices --engine edge`),
    ``rate`` (words/min, or edge's own ``"+10%"``), ``pitch`` (``"+0Hz"``), ``volume``
    (0.0-1.0), ``timeout`` (seconds per clip)."""

    name = "edge"

    def __init__(
        self,
        voice: str | None = None,
        rate: int | str | None = None,
        pitch: str = "+0Hz",
        volume: float | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._edge = require("edge_tts", "edge", "edge-tts (Microsoft Edge voices)")
        self.voice = voice or DEFAULT_VOICE
        if isinstance(rate, str) and not _RATE.match(rate):
            raise PermanentEngineError(f"edge: rate must be words per minute or like '+10%', got {rate!r}")
        if not _PITCH.match(pitch):
            raise PermanentEngineError(f"edge: pitch must look like '+0Hz' or '-20Hz', got {pitch!r}")
        self.rate, self.pitch, self.volume, self.timeout = rate, pitch, volume, timeout

    def __repr__(self) -> str:
        return f"EdgeEngine(voice={self.voice!r}, rate={self.rate!r}, pitch={self.pitch!r})"

    def cache_identity(self, voice: str | None) -> str:
        default = f"|default_voice={self.voice}" if voice is None else ""
        return f"edge|pitch={self.pitch}|rate={self.rate}|volume={self.volume}{default}"

    def _rate(self, rate: int | None) -> str:
        if rate:
            return rate_percent(rate)
        if isinstance(self.rate, str):
            return self.rate
        return rate_percent(self.rate)

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        voice = voice or self.voice
        volume = self.volume if volume is None else volume
        try:
            communicate = self._edge.Communicate(
                text,
                voice,
                rate=self._rate(rate),
                pitch=self.pitch,
                volume=volume_percent(volume),
                boundary="WordBoundary",
                connect_timeout=max(1, round(self.timeout)),
                receive_timeout=max(1, round(self.timeout)),
            )
        except ValueError as exc:
            raise PermanentEngineError(
                f"edge: invalid voice or setting ({exc}); voice was {voice!r}"
            ) from None
        try:
            return _run(self._collect(communicate))
        except EngineError:
            raise
        except Exception as exc:  # noqa: BLE001 - classified below
            raise classify(exc, voice) from None

    async def _collect(self, communicate: Any) -> bytes:
        chunks: list[bytes] = []
        words: list[SpokenWord] = []

        async def run() -> None:
            async for chunk in communicate.stream():
                if chunk["type"] == "audio":
                    chunks.append(chunk["data"])
                elif chunk["type"] == "WordBoundary":
                    words.append(from_ticks(chunk["text"], chunk["offset"], chunk["duration"]))

        try:
            await asyncio.wait_for(run(), self.timeout)
        except (TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11
            raise TransientEngineError(f"edge: no complete answer within {self.timeout:g} s") from None
        return TimedAudio(b"".join(chunks), words)

    def list_voices(self) -> list[Voice]:
        async def fetch() -> list[dict[str, Any]]:
            voices: list[dict[str, Any]] = await asyncio.wait_for(self._edge.list_voices(), self.timeout)
            return voices

        try:
            found = _run(fetch())
        except Exception as exc:  # noqa: BLE001
            raise classify(exc, None) from None
        return [
            Voice(
                id=v["ShortName"],
                name=v.get("FriendlyName") or v["ShortName"],
                language=v.get("Locale", ""),
                gender=str(v.get("Gender", "")).lower(),
            )
            for v in found
        ]


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a private loop; from a thread that already runs a
    loop (a caller's async code), on a helper thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="tts-edge") as pool:
        return pool.submit(asyncio.run, coro).result()


def classify(exc: BaseException, voice: str | None) -> EngineError:
    """edge-tts/aiohttp failures as the shared error types."""
    status = getattr(exc, "status", None)
    name = type(exc).__name__
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):  # one class from Python 3.11
        return TransientEngineError("edge: the service did not answer in time")
    if isinstance(status, int):
        if status == 429:
            headers = getattr(exc, "headers", None) or {}
            retry_after = parse_retry_after(headers.get("Retry-After"))
            return EngineRateLimited("edge: Microsoft rate-limits us (429 Too Many Requests)", retry_after)
        if status >= 500:
            return TransientEngineError(f"edge: server error {status}")
        return PermanentEngineError(f"edge: the service refused the connection ({status}): {exc}")
    if name == "NoAudioReceived":
        return PermanentEngineError(
            f"edge: no audio for voice {voice!r}: the voice probably does not exist "
            "(`obs-tts voices --engine edge` lists them)"
        )
    if name in ("UnexpectedResponse", "UnknownResponse", "WebSocketError"):
        return TransientEngineError(f"edge: unexpected answer from the service: {exc}")
    return TransientEngineError(f"edge: cannot reach the service: {name}: {exc}")
