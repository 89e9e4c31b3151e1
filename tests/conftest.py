"""Shared fixtures. tests/ is on sys.path (pytest's rootdir conftest), so `doubles` imports."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tts_core import TTSConfig, TTSQueueManager


@pytest.fixture(autouse=True)
def _quiet_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)


@pytest.fixture(autouse=True)
def _fresh_log_limit() -> None:
    """The listener's log-line budget is per process: each test starts with a full one, so
    a test that counts log lines does not depend on which tests ran before it."""
    from tts_core.listener.server import LOG_LIMIT

    LOG_LIMIT.forget()


@pytest.fixture
def make_manager() -> Iterator:
    """Build managers that are always stopped at the end of the test."""
    made: list[TTSQueueManager] = []

    def make(config: TTSConfig | None = None, **kwargs: object) -> TTSQueueManager:
        manager = TTSQueueManager(config or TTSConfig(), **kwargs)  # type: ignore[arg-type]
        made.append(manager)
        return manager

    yield make
    for manager in made:
        manager.stop()
