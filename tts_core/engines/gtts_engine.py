"""Google Translate's voice through gTTS (``pip install 'obs-tts-queue[gtts]'``); MP3 clips.

gTTS sends one HTTP request per <= 100-character piece of text and concatenates the
MP3s; it has no retries of its own and a 200 answer without audio yields 0 bytes, so
this module checks the result and classifies every failure (docs/architecture.md, section 6).
"""

from __future__ import annotations

import io
import logging
from typing import Any

from tts_core.engines.base import (
    Engine,
    EngineError,
    EngineRateLimited,
    PermanentEngineError,
    TransientEngineError,
    Voice,
)
from tts_core.engines.support import parse_retry_after, require

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 15.0
SLOW_BELOW_WPM = 130  # a rate under this asks Google for its slow reading


class GTTSEngine(Engine):
    """Parameters: ``lang`` (a language code, e.g. ``en``, ``de``; ``voice`` overrides it),
    ``tld`` (Google domain that picks the accent: ``com``, ``co.uk``, ``com.au``, ``ca``,
    ``co.in``, ...), ``slow`` (slow reading), ``timeout`` (seconds per HTTP request)."""

    name = "gtts"

    def __init__(
        self,
        lang: str = "en",
        tld: str = "com",
        slow: bool = False,
        voice: str | None = None,
        rate: int | None = None,
        volume: float | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._gtts = require("gtts", "gtts", "gTTS (Google voice)")
        self.lang = voice or lang
        self.tld = tld.lstrip(".")
        self.slow = slow
        self.rate = rate
        self.timeout = timeout
        self._check_lang(self.lang)

    def __repr__(self) -> str:
        return f"GTTSEngine(lang={self.lang!r}, tld={self.tld!r}, slow={self.slow})"

    def cache_identity(self, voice: str | None) -> str:
        default = f"|default_voice={self.lang}" if voice is None else ""
        return f"gtts|tld={self.tld}|slow={self.slow}|rate={self.rate}{default}"

    def _languages(self) -> dict[str, str]:
        langs: dict[str, str] = self._gtts.lang.tts_langs()
        return langs

    def _check_lang(self, lang: str) -> None:
        if lang not in self._languages():
            raise PermanentEngineError(
                f"gtts: unknown language {lang!r}; `obs-tts voices --engine gtts` lists them (e.g. en, de)"
            )

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        lang = voice or self.lang
        if voice:
            self._check_lang(voice)
        rate = rate or self.rate
        slow = self.slow or bool(rate and rate < SLOW_BELOW_WPM)
        gtts_module: Any = self._gtts
        try:
            tts = gtts_module.gTTS(
                text, lang=lang, tld=self.tld, slow=slow, lang_check=False, timeout=self.timeout
            )
            buf = io.BytesIO()
            tts.write_to_fp(buf)
        except gtts_module.gTTSError as exc:
            raise classify(exc) from None
        except AssertionError:
            raise PermanentEngineError("gtts: nothing to speak (the text is empty)") from None
        data = buf.getvalue()
        if not data:
            # A 200 answer without audio: gTTS yields nothing and says nothing.
            raise TransientEngineError("gtts: Google answered without audio (empty response)")
        return data

    def list_voices(self) -> list[Voice]:
        return [Voice(id=code, name=name, language=code) for code, name in sorted(self._languages().items())]


def classify(exc: Any) -> EngineError:
    """A gTTSError as the shared error types: 429 rate-limited, 5xx/network transient,
    other 4xx permanent."""
    response = getattr(exc, "rsp", None)
    detail = str(exc) or type(exc).__name__
    if response is None:
        return TransientEngineError(f"gtts: cannot reach Google: {detail}")
    status = response.status_code
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        wait = f"; retry after {retry_after:g} s" if retry_after is not None else ""
        return EngineRateLimited(f"gtts: Google rate-limits us (429 Too Many Requests){wait}", retry_after)
    if status >= 500 or status == 408:
        return TransientEngineError(f"gtts: Google server error {status}: {detail}")
    if status == 200:
        return TransientEngineError(f"gtts: Google answered without audio: {detail}")
    if status == 404:
        return PermanentEngineError(
            f"gtts: Google does not know this domain (tld) or language (404): {detail}"
        )
    return PermanentEngineError(f"gtts: Google refused the request ({status}): {detail}")
