"""The engine a queue synthesizes with, and where it came from."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

from tts_core.config import EngineConfig, TTSConfig
from tts_core.engines.base import Engine
from tts_core.engines.callable_engine import as_engine
from tts_core.engines.chain import engine_from_config


def _engine_build(engine: EngineConfig) -> EngineConfig:
    """What building the engine depends on: voice, rate and volume apply per call."""
    return dataclasses.replace(engine, voice=None, rate=None, volume=None)


class EngineBinding:
    """An engine given by the caller (``fn(text, **kw) -> bytes``, sync or async, or an
    Engine) is used as it is, async functions on the loop ``start()`` runs on; without
    one, the engine is built from the config (``engine.name``, its fallbacks, the
    cache), rebuilt when those settings change, and closed when replaced.

    Parameters: ``on_change(engine)``, called whenever the engine in use changes.
    """

    def __init__(self, on_change: Callable[[Engine], None]) -> None:
        self.engine: Engine | None = None
        self._source: object | None = None  # what the caller gave; None: built from the config
        self._on_change = on_change
        self._built_for_start = False

    def use(self, source: object, loop: asyncio.AbstractEventLoop | None) -> None:
        """Use the caller's ``source``; raises TypeError if it is no engine."""
        resolved = as_engine(source, loop)
        self._source = source
        self._set(resolved)

    def for_start(self, config: TTSConfig, loop: asyncio.AbstractEventLoop | None) -> Engine:
        """The engine to start with: the caller's (bound to ``loop``) or built from ``config``."""
        self._built_for_start = self.engine is None
        if self.engine is None:
            self._set(engine_from_config(config))
        elif self._source is not None and loop is not None:
            self.use(self._source, loop)
        assert self.engine is not None
        return self.engine

    def forget_built(self) -> None:
        """After a failed start: the engine built for it is not kept."""
        if self._built_for_start:
            self.engine = None

    def prepare(self, current: TTSConfig, config: TTSConfig) -> Engine | None:
        """A new engine if ``config`` changes how it is built (may raise); None if not."""
        if self.engine is None or _engine_build(config.engine) == _engine_build(current.engine):
            return None
        return engine_from_config(config)

    def replace(self, engine: Engine) -> None:
        """Use ``engine``, built from the config; the previous one is closed if it was too."""
        previous, built = self.engine, self._source is None
        self._source = None
        self._set(engine)
        if previous is not None and built:
            previous.close()

    def _set(self, engine: Engine) -> None:
        self.engine = engine
        self._on_change(engine)
