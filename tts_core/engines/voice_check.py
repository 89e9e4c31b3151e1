"""Refuse an unknown configured voice at start, naming the key and listing close matches."""

from __future__ import annotations

import difflib
import logging

from tts_core.config import ConfigError
from tts_core.engines.base import Engine, PermanentEngineError

log = logging.getLogger(__name__)

CLOSE_MATCHES = 5


def check_configured_voice(engine: Engine, voice: str | None, key: str = "engine.voice") -> None:
    """Raise ConfigError (a ValueError) naming ``key`` if ``engine`` has no voice ``voice``.

    The engine decides (``Engine.check_voice``: espeak takes variants like ``en+f3``);
    an engine that lists no voices (plain functions) accepts every name.
    """
    if not voice:
        return
    try:
        engine.check_voice(voice)
        return
    except PermanentEngineError:
        pass
    except Exception as exc:  # noqa: BLE001 - cannot tell; the first synthesis will
        log.warning("cannot list the voices of %s to check %s=%r: %s", engine.name, key, voice, exc)
        return
    try:
        voices = engine.list_voices()
    except Exception as exc:  # noqa: BLE001 - as above
        log.warning("cannot list the voices of %s to check %s=%r: %s", engine.name, key, voice, exc)
        return
    if not voices:
        return
    ids = sorted({v.id for v in voices})
    close = difflib.get_close_matches(voice, ids, n=CLOSE_MATCHES, cutoff=0.5)
    if not close:
        close = difflib.get_close_matches(voice.casefold(), [i.casefold() for i in ids], CLOSE_MATCHES, 0.3)
    hint = f"close matches: {', '.join(close)}" if close else f"for example {', '.join(ids[:CLOSE_MATCHES])}"
    raise ConfigError(
        f"{key}: unknown voice {voice!r} for engine {engine.name}; {hint} "
        f"(`obs-tts voices --engine {engine.name}` lists them all)"
    )
