"""Engines turn text into audio. Offline: espeak (espeak-ng) and pyttsx3."""

from __future__ import annotations

from typing import Any

from tts_core.engines.base import (
    CallableEngine,
    Engine,
    EngineError,
    EngineRateLimited,
    EngineUnavailable,
    PermanentEngineError,
    TransientEngineError,
    Voice,
    as_engine,
)
from tts_core.engines.espeak import EspeakEngine
from tts_core.engines.pyttsx3_engine import Pyttsx3Engine

ENGINES: dict[str, Any] = {"espeak": EspeakEngine, "pyttsx3": Pyttsx3Engine}


def create_engine(name: str, **options: Any) -> Engine:
    """Build an engine by name; options are the engine's (voice, rate, volume, ...)."""
    try:
        cls = ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}") from None
    engine: Engine = cls(**{k: v for k, v in options.items() if v is not None})
    return engine


__all__ = [
    "ENGINES",
    "CallableEngine",
    "Engine",
    "EngineError",
    "EngineRateLimited",
    "EngineUnavailable",
    "EspeakEngine",
    "PermanentEngineError",
    "Pyttsx3Engine",
    "TransientEngineError",
    "Voice",
    "as_engine",
    "create_engine",
]
