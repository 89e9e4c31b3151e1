"""Helpers of the journal tests: a persisting config, the ids in a journal file, a
started queue that is paused (so messages stay pending)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from doubles import EventLog, RecordingSink, ToneEngine

from tts_core import TTSConfig, TTSQueueManager
from tts_core.storage.journal_store import JOURNAL_FILE


def journal_config(data_dir: Path, **kwargs: Any) -> TTSConfig:
    """A config that journals to ``data_dir``, with no rate limit."""
    return TTSConfig(persist=True, data_dir=str(data_dir), rate_limit_per_minute=0, **kwargs)


def journal_ids(data_dir: Path) -> set[str]:
    """The message ids in the journal file of ``data_dir``."""
    db = sqlite3.connect(str(data_dir / JOURNAL_FILE))
    try:
        return {row[0] for row in db.execute("SELECT id FROM messages")}
    finally:
        db.close()


def paused_manager(make_manager: Any, config: TTSConfig, log: EventLog | None = None) -> TTSQueueManager:
    """A started queue that plays nothing until resumed (tones, recorded at once)."""
    manager = make_manager(config, engine=ToneEngine(2), sink=RecordingSink(speed=0))
    if log is not None:
        manager.subscribe(log)
    manager.pause()
    manager.start()
    return manager
