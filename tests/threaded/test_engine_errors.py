"""Engine errors are classified (issue 8): permanent fails at once, transient retries,
429 waits at least what the service asked, through the real worker pool."""

from __future__ import annotations

import threading
import time

import pytest
from doubles import EventLog, RecordingSink, ToneEngine, assert_accounting

from tts_core import TTSConfig
from tts_core.config import EngineConfig
from tts_core.engines.base import EngineRateLimited, PermanentEngineError, TransientEngineError, Voice


class ScriptedEngine(ToneEngine):
    """Raises the queued errors in turn, then speaks."""

    def __init__(self, errors: list[Exception]) -> None:
        super().__init__(2)
        self.errors = list(errors)
        self._errors_lock = threading.Lock()

    def synthesize(self, text, voice=None, rate=None, volume=None):
        with self._errors_lock:
            error = self.errors.pop(0) if self.errors else None
        if error is not None:
            with self._lock:
                self.calls.append((text, time.monotonic()))
            raise error
        return super().synthesize(text)


def _manager(make_manager, engine, **config):
    log = EventLog()
    manager = make_manager(
        TTSConfig(rate_limit_per_minute=0, max_retries=3, retry_backoff_seconds=0.01, **config),
        engine=engine, sink=RecordingSink(),
    )
    manager.subscribe(log)
    manager.start()
    return manager, log


def test_permanent_error_fails_at_once_without_retry(make_manager):
    engine = ScriptedEngine([PermanentEngineError("unknown voice 'xx'; use en-us")] * 5)
    manager, log = _manager(make_manager, engine)
    msg = manager.add_message("hello", "NORMAL")
    failed = log.wait_for("failed", msg)
    assert failed["attempts"] == 1 and failed["error"] == "unknown voice 'xx'; use en-us"
    assert manager.wait_until_idle(5)
    assert len(engine.calls) == 1
    stats = assert_accounting(manager)
    assert stats["retried"] == 0 and stats["failed"] == 1


def test_transient_errors_are_retried_then_play(make_manager):
    engine = ScriptedEngine([TransientEngineError("HTTP 503"), ConnectionError("reset")])
    manager, log = _manager(make_manager, engine)
    msg = manager.add_message("hello", "NORMAL")
    log.wait_for("playback_finished", msg)
    stats = assert_accounting(manager)
    assert stats["retried"] == 2 and stats["played"] == 1 and stats["failed"] == 0


def test_rate_limited_waits_at_least_retry_after(make_manager):
    engine = ScriptedEngine([EngineRateLimited("HTTP 429 Too Many Requests", retry_after=1.0)])
    manager, log = _manager(make_manager, engine)
    msg = manager.add_message("hello", "NORMAL")
    log.wait_for("playback_finished", msg)
    (first, t0), (second, t1) = engine.calls[:2]
    assert first == second == "hello"
    assert t1 - t0 >= 1.0, f"retried after {t1 - t0:.3f} s although the service asked for 1 s"


class VoicedEngine(ToneEngine):
    def list_voices(self):
        return [Voice("en-us", "English (America)"), Voice("en-gb", "English"), Voice("de", "German")]


def test_unknown_configured_voice_is_refused_at_start(make_manager):
    manager = make_manager(TTSConfig(engine=EngineConfig(voice="en-uss")), engine=VoicedEngine(),
                           sink=RecordingSink())
    with pytest.raises(ValueError, match=r"engine\.voice.*'en-uss'.*close matches: en-us") as info:
        manager.start()
    assert "en-gb" in str(info.value) and not manager.is_running


def test_known_configured_voice_starts(make_manager):
    manager = make_manager(TTSConfig(engine=EngineConfig(voice="English (America)")), engine=VoicedEngine(),
                           sink=RecordingSink())
    manager.start()
    assert manager.is_running
