"""Azure Speech neural voices through the Speech SDK (``pip install 'obs-tts-queue[azure]'``).

Text is always sent as SSML that we build, with every user text XML-escaped (a chat
message cannot inject tags). PCM WAV clips by default (the SDK's MP3 formats can abort
the interpreter at exit: docs/architecture.md, section 6). The key is never logged or shown: it
is redacted in repr() and in every error message.

Each worker thread gets its own synthesizer (SDK objects are reused across calls, so
the websocket connection is too); a call waits at most ``timeout`` seconds. The clip
carries the service's word boundaries (``TimedAudio``) for the captions.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from tts_core.domain.words import SpokenWord, TimedAudio, from_ticks
from tts_core.engines.base import (
    Engine,
    EngineError,
    EngineRateLimited,
    PermanentEngineError,
    TransientEngineError,
    Voice,
)
from tts_core.engines.support import rate_percent, redact, require

log = logging.getLogger(__name__)

DEFAULT_VOICE = "en-US-AriaNeural"
DEFAULT_TIMEOUT_SECONDS = 20.0
FORMATS = {
    "wav": "Riff24Khz16BitMonoPcm",
    "wav16": "Riff16Khz16BitMonoPcm",
    "wav48": "Riff48Khz16BitMonoPcm",
    "mp3": "Audio24Khz48KBitRateMonoMp3",
}
_PROSODY = re.compile(
    r"^(?:[+-]?\d+(?:\.\d+)?(?:%|Hz|st)?|x-slow|slow|medium|fast|x-fast|x-low|low|high|"
    r"x-high|default|silent|x-soft|soft|loud|x-loud)$"
)
_VOICE = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]+)+$")
_LOCALE = re.compile(r"^([a-z]{2,3}-[A-Z]{2})")


def ssml_for(
    text: str, voice: str, rate: str | None = None, pitch: str | None = None, volume: str | None = None
) -> str:
    """The SSML we send: ``text`` XML-escaped, so it is only ever spoken as plain text."""
    body = escape(text, {'"': "&quot;", "'": "&apos;"})
    prosody = {k: v for k, v in (("rate", rate), ("pitch", pitch), ("volume", volume)) if v and v != "+0%"}
    if prosody:
        attrs = " ".join(f"{k}={quoteattr(v)}" for k, v in prosody.items())
        body = f"<prosody {attrs}>{body}</prosody>"
    match = _LOCALE.match(voice)
    lang = match.group(1) if match else "en-US"
    return (
        f'<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang={quoteattr(lang)}>'
        f"<voice name={quoteattr(voice)}>{body}</voice></speak>"
    )


class AzureEngine(Engine):
    """Parameters: ``key`` (the Speech resource key), ``region`` (e.g. ``westeurope``) or
    ``host`` (``ws://host:port`` of a Speech container) or ``endpoint`` (a full URL),
    ``voice`` (e.g. ``en-US-AriaNeural``), ``rate`` (words/min or SSML like ``"+10%"``),
    ``pitch`` (SSML, e.g. ``"+5%"``, ``"-2st"``), ``volume`` (0.0-1.0), ``format``
    (``wav`` 24 kHz PCM, ``wav16``, ``wav48``, ``mp3``), ``timeout`` (seconds per clip)."""

    name = "azure"

    def __init__(
        self,
        key: str | None = None,
        region: str | None = None,
        host: str | None = None,
        endpoint: str | None = None,
        voice: str | None = None,
        rate: int | str | None = None,
        pitch: str | None = None,
        volume: float | None = None,
        format: str = "wav",
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._sdk = require("azure.cognitiveservices.speech", "azure", "the Azure Speech SDK")
        if not key:
            raise PermanentEngineError("azure: no key: set engine.azure.key to your Speech resource's key")
        if not (region or host or endpoint):
            raise PermanentEngineError(
                "azure: set engine.azure.region (e.g. westeurope), or host/endpoint for a Speech container"
            )
        if format not in FORMATS:
            raise PermanentEngineError(f"azure: format must be one of {', '.join(FORMATS)}, got {format!r}")
        for what, value in (("rate", rate), ("pitch", pitch)):
            if isinstance(value, str) and not _PROSODY.match(value):
                raise PermanentEngineError(f"azure: {what} must be SSML like '+10%' or 'slow', got {value!r}")
        self._key = key
        self.region, self.host, self.endpoint = region, host, endpoint
        self.voice = voice or DEFAULT_VOICE
        self._check_voice(self.voice)
        self.rate, self.pitch, self.volume = rate, pitch, volume
        self.format, self.timeout = format, timeout
        self._local = threading.local()

    def __repr__(self) -> str:
        where = f"region={self.region!r}" if self.region else f"host={self.host or self.endpoint!r}"
        return f"AzureEngine({where}, voice={self.voice!r}, key=***)"

    def cache_identity(self, voice: str | None) -> str:
        default = f"|default_voice={self.voice}" if voice is None else ""
        return f"azure|pitch={self.pitch}|rate={self.rate}|volume={self.volume}|format={self.format}{default}"

    @staticmethod
    def _check_voice(voice: str) -> None:
        if not _VOICE.match(voice):
            raise PermanentEngineError(
                f"azure: invalid voice name {voice!r}; expected like en-US-AriaNeural "
                "(`obs-tts voices --engine azure` lists them)"
            )

    def _speech_config(self) -> Any:
        sdk = self._sdk
        if self.host:
            config = sdk.SpeechConfig(host=self.host, subscription=self._key)
        elif self.endpoint:
            config = sdk.SpeechConfig(endpoint=self.endpoint, subscription=self._key)
        else:
            config = sdk.SpeechConfig(subscription=self._key, region=self.region)
        config.set_speech_synthesis_output_format(
            getattr(sdk.SpeechSynthesisOutputFormat, FORMATS[self.format])
        )
        return config

    def _synthesizer(self) -> Any:
        synth = getattr(self._local, "synth", None)
        if synth is None:
            synth = self._sdk.SpeechSynthesizer(speech_config=self._speech_config(), audio_config=None)
            self._local.synth = synth
        return synth

    def _prosody(self, rate: int | None, volume: float | None) -> tuple[str | None, str | None]:
        if rate:
            rate_s: str | None = rate_percent(rate)
        elif isinstance(self.rate, str):
            rate_s = self.rate
        else:
            rate_s = rate_percent(self.rate) if self.rate else None
        volume = self.volume if volume is None else volume
        volume_s = None if volume is None else str(round(max(0.0, min(volume, 1.0)) * 100))
        return rate_s, volume_s

    def ssml(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> str:
        rate_s, volume_s = self._prosody(rate, volume)
        return ssml_for(text, voice or self.voice, rate_s, self.pitch, volume_s)

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        if voice:
            self._check_voice(voice)
        ssml = self.ssml(text, voice, rate, volume)
        synth = self._synthesizer()
        done = threading.Event()
        results: list[Any] = []
        words: list[SpokenWord] = []
        word_type = self._sdk.SpeechSynthesisBoundaryType.Word

        def finished(evt: Any) -> None:
            results.append(evt.result)
            done.set()

        def word(evt: Any) -> None:  # the SDK's thread, before synthesis_completed
            if evt.boundary_type == word_type:
                ticks = round(evt.duration.total_seconds() * 10_000_000)
                words.append(from_ticks(evt.text, evt.audio_offset, ticks))

        synth.synthesis_completed.connect(finished)
        synth.synthesis_canceled.connect(finished)
        synth.synthesis_word_boundary.connect(word)
        try:
            future = synth.speak_ssml_async(ssml)
            if not done.wait(self.timeout):
                self._local.synth = None  # a fresh connection next time
                try:
                    synth.stop_speaking_async()
                except Exception:
                    log.debug("azure: stop_speaking failed", exc_info=True)
                raise TransientEngineError(f"azure: no answer within {self.timeout:g} s")
            result = future.get()
        finally:
            synth.synthesis_completed.disconnect_all()
            synth.synthesis_canceled.disconnect_all()
            synth.synthesis_word_boundary.disconnect_all()
        if result.reason == self._sdk.ResultReason.SynthesizingAudioCompleted:
            data = bytes(result.audio_data)
            if not data:
                raise TransientEngineError("azure: the service answered without audio")
            return TimedAudio(data, words)
        self._local.synth = None
        raise self._classify(result)

    def _classify(self, result: Any) -> EngineError:
        sdk = self._sdk
        details = getattr(result, "cancellation_details", None)
        code = getattr(details, "error_code", None)
        text = _one_line(redact(str(getattr(details, "error_details", "") or result.reason), self._key))
        codes = sdk.CancellationErrorCode
        if code == codes.AuthenticationFailure:
            return PermanentEngineError(
                f"azure: the key was refused (401): check engine.azure.key and that region/host "
                f"belong to that key ({text})"
            )
        if code == codes.Forbidden:
            return PermanentEngineError(
                f"azure: access denied (403): the key cannot use this resource ({text})"
            )
        if code == codes.BadRequest:
            return PermanentEngineError(
                f"azure: the service refused the request (voice {self.voice!r}?): {text}"
            )
        if code == codes.TooManyRequests:
            return EngineRateLimited(
                f"azure: rate-limited (429 Too Many Requests): {text}", _retry_after(text)
            )
        if code in (
            codes.ConnectionFailure,
            codes.ServiceTimeout,
            codes.ServiceUnavailable,
            codes.ServiceError,
        ):
            return TransientEngineError(f"azure: {str(code).rsplit('.', 1)[-1]}: {text}")
        return TransientEngineError(f"azure: synthesis canceled: {text}")

    def list_voices(self) -> list[Voice]:
        future = self._synthesizer().get_voices_async("")
        results: list[Any] = []
        waiter = threading.Thread(target=lambda: results.append(future.get()), name="tts-azure-voices",
                                  daemon=True)
        waiter.start()
        waiter.join(self.timeout)
        if not results:
            raise TransientEngineError(f"azure: the voice list did not come within {self.timeout:g} s")
        result = results[0]
        if result.reason != self._sdk.ResultReason.VoicesListRetrieved:
            raise TransientEngineError(
                f"azure: cannot list voices: {_one_line(redact(str(result.error_details), self._key))}"
            )
        return [
            Voice(
                id=v.short_name,
                name=v.local_name or v.short_name,
                language=v.locale,
                gender=str(v.gender).rsplit(".", 1)[-1].lower(),
            )
            for v in result.voices
        ]

    def close(self) -> None:
        self._local = threading.local()


def _one_line(text: str) -> str:
    """The SDK's details span several lines; logs and the status line take one."""
    return " ".join(text.split())


def _retry_after(details: str) -> float | None:
    match = re.search(r"retry[- ]after[^0-9]{0,5}(\d+(?:\.\d+)?)", details, re.IGNORECASE)
    return float(match.group(1)) if match else None
