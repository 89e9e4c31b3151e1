"""Engines turn text into audio.

Built in: espeak (espeak-ng) and pyttsx3. Optional extras, imported only when used
(the core and the OBS script run without them): gtts (Google), azure (Azure Speech),
piper (offline neural voices), edge (Microsoft Edge voices).
"""

from __future__ import annotations

import importlib
import importlib.util
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


class LazyEngine:
    """An optional engine's class, imported on first use (``module:Class``)."""

    def __init__(self, name: str, target: str, extra: str, library: str) -> None:
        self.name, self.target, self.extra, self.library = name, target, extra, library

    def load(self) -> Any:
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)

    def installed(self) -> bool:
        return bool(importlib.util.find_spec(self.library.split(".")[0]))

    def __call__(self, **options: Any) -> Any:
        return self.load()(**options)

    def check(self) -> str | None:
        result: str | None = self.load().check()
        return result

    def __repr__(self) -> str:
        return f"LazyEngine({self.name!r}, {self.target!r})"


ENGINES: dict[str, Any] = {
    "espeak": EspeakEngine,
    "pyttsx3": Pyttsx3Engine,
    "gtts": LazyEngine("gtts", "tts_core.engines.gtts_engine:GTTSEngine", "gtts", "gtts"),
    "azure": LazyEngine("azure", "tts_core.engines.azure_engine:AzureEngine", "azure",
                        "azure.cognitiveservices.speech"),
    "piper": LazyEngine("piper", "tts_core.engines.piper_engine:PiperEngine", "piper", "piper"),
    "edge": LazyEngine("edge", "tts_core.engines.edge_engine:EdgeEngine", "edge", "edge_tts"),
}
OPTIONAL_ENGINES = tuple(name for name, cls in ENGINES.items() if isinstance(cls, LazyEngine))


def engine_class(name: str) -> Any:
    """The class of engine ``name`` (imports an optional engine's module)."""
    try:
        cls = ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}") from None
    return cls.load() if isinstance(cls, LazyEngine) else cls


def create_engine(name: str, **options: Any) -> Engine:
    """Build an engine by name; options are the engine's (voice, rate, volume, and the
    engine's own section: key/region for azure, lang/tld for gtts, model for piper)."""
    cls = engine_class(name)
    engine: Engine = cls(**{k: v for k, v in options.items() if v is not None})
    return engine


__all__ = [
    "ENGINES",
    "OPTIONAL_ENGINES",
    "CallableEngine",
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
    "as_engine",
    "create_engine",
    "engine_class",
]
