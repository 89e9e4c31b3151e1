"""Engines turn text into audio.

Built in: espeak (espeak-ng), pyttsx3, and auto (espeak-ng where installed, else the
system voice through pyttsx3). Optional extras, imported only when used
(the core and the OBS script run without them): gtts (Google), azure (Azure Speech),
piper (offline neural voices), edge (Microsoft Edge voices), openai (OpenAI's voices
and OpenAI-compatible local servers such as Kokoro-FastAPI), elevenlabs (ElevenLabs).
"""

from __future__ import annotations

import importlib
from typing import Any

from tts_core.engines.auto_engine import AutoEngine
from tts_core.engines.base import (
    Engine,
    EngineError,
    EngineRateLimited,
    EngineUnavailable,
    PermanentEngineError,
    TransientEngineError,
    Voice,
)
from tts_core.engines.espeak import EspeakEngine
from tts_core.engines.pyttsx3_engine import Pyttsx3Engine
from tts_core.engines.support import installed


class LazyEngine:
    """An optional engine's class, imported on first use (``module:Class``); ``extra``:
    the pip extra that installs ``library``."""

    def __init__(self, name: str, target: str, extra: str, library: str) -> None:
        self.name, self.target, self.extra, self.library = name, target, extra, library

    def load(self) -> type[Engine]:
        module, _, attr = self.target.partition(":")
        cls: type[Engine] = getattr(importlib.import_module(module), attr)
        return cls

    def installed(self) -> bool:
        return installed(self.library)

    def __repr__(self) -> str:
        return f"LazyEngine({self.name!r}, {self.target!r})"


ENGINES: dict[str, type[Engine] | LazyEngine] = {
    "espeak": EspeakEngine,
    "pyttsx3": Pyttsx3Engine,
    "auto": AutoEngine,
    "gtts": LazyEngine("gtts", "tts_core.engines.gtts_engine:GTTSEngine", "gtts", "gtts"),
    "azure": LazyEngine("azure", "tts_core.engines.azure_engine:AzureEngine", "azure",
                        "azure.cognitiveservices.speech"),
    "piper": LazyEngine("piper", "tts_core.engines.piper_engine:PiperEngine", "piper", "piper"),
    "edge": LazyEngine("edge", "tts_core.engines.edge_engine:EdgeEngine", "edge", "edge_tts"),
    "openai": LazyEngine("openai", "tts_core.engines.openai_engine:OpenAIEngine", "openai", "openai"),
    "elevenlabs": LazyEngine("elevenlabs", "tts_core.engines.elevenlabs_engine:ElevenLabsEngine",
                             "elevenlabs", "elevenlabs"),
}


def engine_class(name: str) -> type[Engine]:
    """The class of engine ``name`` (imports an optional engine's module)."""
    try:
        cls = ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}") from None
    return cls.load() if isinstance(cls, LazyEngine) else cls


def create_engine(name: str, **options: Any) -> Engine:
    """Build an engine by name; options are the engine's (voice, rate, volume, and the
    engine's own section: key/region for azure, lang/tld for gtts, model for piper)."""
    return engine_class(name)(**{k: v for k, v in options.items() if v is not None})


__all__ = [
    "ENGINES",
    "AutoEngine",
    "Engine",
    "EngineError",
    "EngineRateLimited",
    "EngineUnavailable",
    "EspeakEngine",
    "LazyEngine",
    "PermanentEngineError",
    "Pyttsx3Engine",
    "TransientEngineError",
    "Voice",
    "create_engine",
    "engine_class",
]
