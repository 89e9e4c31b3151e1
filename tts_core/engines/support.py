"""Helpers the optional engines share: lazy imports, Retry-After, redaction, prosody."""

from __future__ import annotations

import email.utils
import importlib
import importlib.util
import time
from types import ModuleType

from tts_core.engines.base import EngineUnavailable

DEFAULT_RATE_WPM = 175  # what "rate" is relative to for engines that take a percentage


def require(module: str, extra: str, what: str) -> ModuleType:
    """Import an optional engine's library, or raise EngineUnavailable saying how to get it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise EngineUnavailable(
            f"{what} is not installed ({exc}): pip install 'obs-tts-queue[{extra}]'"
        ) from None


def installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (only its parent packages)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # a parent package is missing
        return False


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from an HTTP Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every secret (API keys) replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def rate_percent(rate: int | None) -> str:
    """Words per minute as the "+N%" that SSML prosody and edge-tts take (175 wpm = +0%)."""
    if not rate:
        return "+0%"
    percent = round((rate / DEFAULT_RATE_WPM - 1) * 100)
    return f"{percent:+d}%"


def volume_percent(volume: float | None) -> str:
    """0.0-1.0 as edge-tts' relative volume ("+0%" is the voice's normal level)."""
    if volume is None:
        return "+0%"
    return f"{round((max(0.0, min(volume, 1.0)) - 1) * 100):+d}%"
