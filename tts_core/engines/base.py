"""The Engine base class, the Voice record, and the errors engines raise."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tts_core.domain.engine_errors import (
    EngineError,
    EngineRateLimited,
    EngineUnavailable,
    PermanentEngineError,
    TransientEngineError,
)

__all__ = ["Engine", "EngineError", "EngineRateLimited", "EngineUnavailable", "PermanentEngineError",
           "TransientEngineError", "Voice"]

if TYPE_CHECKING:
    from tts_core.domain.counters import Counters
    from tts_core.domain.message import TTSMessage


@dataclass(frozen=True)
class Voice:
    """A voice an engine offers. ``id`` is what ``voice=`` takes."""

    id: str
    name: str
    language: str = ""
    gender: str = ""
    file: str = ""  # the engine's own file or path name for the voice, if any


class Engine(ABC):
    """Turns text into audio bytes (WAV or MP3); every engine subclasses it.

    A subclass sets ``name`` and defines ``synthesize``; every other member has a
    default, so this class is the whole contract. ``synthesize`` may be called from
    several worker threads at once; an engine that cannot do that serializes
    internally. ``voice``/``rate``/``volume`` None means the engine's default (rate in
    words per minute, volume 0.0-1.0).
    """

    name: str = "engine"

    @abstractmethod
    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        """The audio of ``text``; raises EngineError (or a subclass) or EngineUnavailable."""

    def synthesize_message(
        self, msg: TTSMessage, voice: str | None, rate: int | None, volume: float | None,
        counters: Counters | None = None,
    ) -> bytes:
        """The worker's one call for ``msg`` (the engine chain adds fallback and the clip
        cache, and records on ``msg`` which engine spoke it). ``counters``: stats to count in."""
        return self.synthesize(msg.text, voice=voice, rate=rate, volume=volume)

    def list_voices(self) -> list[Voice]:
        """The voices this engine offers ([] when it cannot tell)."""
        return []

    def check_voice(self, voice: str) -> None:
        """Raise PermanentEngineError if this engine has no voice ``voice``.

        By default ``voice`` must be the id or name of a listed voice (any case); an
        engine that lists no voices accepts every name.
        """
        voices = self.list_voices()
        if voices and voice.casefold() not in {n.casefold() for v in voices for n in (v.id, v.name)}:
            raise PermanentEngineError(f"{self.name}: unknown voice {voice!r}")

    def cache_identity(self, voice: str | None) -> str:
        """What besides voice, rate, volume and text makes this engine's audio (its own
        settings, and its default voice when ``voice`` is None): the clip cache's key."""
        return self.name

    def speaker(self) -> str:
        """The engine that really speaks (``auto``: the one it chose); events name it."""
        return self.name

    def voice_for(self, voice: str | None) -> str | None:
        """The voice a call with ``voice`` speaks with (the engine's default voice when
        ``voice`` is None); None when the engine cannot tell."""
        own = getattr(self, "voice", None)
        return voice or (own if isinstance(own, str) else None)

    def status(self) -> str:
        """One line for status displays about trouble ("" when all is well)."""
        return ""

    def health(self) -> str | None:
        """None if the engine speaks a short text, else what went wrong (`obs-tts doctor`)."""
        try:
            self.synthesize("test")
        except (EngineUnavailable, EngineError, TimeoutError) as exc:
            return str(exc)
        return None

    def cancel_all(self) -> int:
        """Cancel every call in flight, where the engine can; returns how many."""
        return 0

    def close(self) -> None:  # noqa: B027 - a default: most engines hold nothing
        """Release what the engine holds; called once, when it is no longer used."""
