"""SQLite journal (WAL): every accepted message until it ends, so none is lost in a crash.

A message is written when accepted, marked when it starts playing, and deleted when
it ends (played, failed, dropped, rejected). After a crash, ``recover()`` returns
what was pending in arrival order; the one that was playing is spoken again
(at-least-once delivery).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from pathlib import Path

from tts_core.message import MessagePriority, MessageState, TTSMessage

log = logging.getLogger(__name__)

JOURNAL_FILE = "journal.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    text TEXT NOT NULL,
    voice TEXT,
    event_type TEXT NOT NULL,
    username TEXT,
    metadata TEXT,
    created_at REAL NOT NULL,
    eligible_wall REAL NOT NULL,
    needs_approval INTEGER NOT NULL,
    playing INTEGER NOT NULL DEFAULT 0
);
"""


class MessageStore:
    """The journal at ``path``; thread-safe (one connection behind a lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable against a process crash (SIGKILL); only power loss can lose
        # the last commits.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def add(self, msg: TTSMessage) -> None:
        eligible_wall = time.time() + max(0.0, msg.eligible_at - time.monotonic())
        row = (
            msg.id,
            msg.seq,
            int(msg.priority),
            msg.text,
            msg.voice,
            msg.event_type,
            msg.username,
            json.dumps(msg.metadata) if msg.metadata else None,
            msg.created_at,
            eligible_wall,
            int(msg.needs_approval),
        )
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO messages VALUES (?,?,?,?,?,?,?,?,?,?,?,0)", row)

    def mark_playing(self, msg_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE messages SET playing=1 WHERE id=?", (msg_id,))

    def mark_approved(self, msg_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE messages SET needs_approval=0 WHERE id=?", (msg_id,))

    def remove(self, msg_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM messages WHERE id=?", (msg_id,))

    def max_seq(self) -> int:
        with self._lock:
            (value,) = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM messages").fetchone()
        return int(value)

    def recover(self) -> list[TTSMessage]:
        """Messages left by an earlier run, in arrival order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, seq, priority, text, voice, event_type, username, metadata, "
                "created_at, eligible_wall, needs_approval, playing FROM messages "
                "ORDER BY seq"
            ).fetchall()
        now_wall, now_mono = time.time(), time.monotonic()
        out = []
        for (
            msg_id,
            seq,
            priority,
            text,
            voice,
            event_type,
            username,
            metadata,
            created_at,
            eligible_wall,
            needs_approval,
            playing,
        ) in rows:
            msg = TTSMessage(
                text=text,
                priority=MessagePriority(priority),
                seq=seq,
                id=msg_id,
                voice=voice,
                event_type=event_type,
                username=username,
                metadata=json.loads(metadata) if metadata else None,
                created_at=created_at,
                eligible_at=now_mono + max(0.0, eligible_wall - now_wall),
                needs_approval=bool(needs_approval),
                state=MessageState.WAITING,
            )
            if playing:
                # Cut off by the crash: its priority and arrival put it back in front of
                # everything that arrived after it, so it is spoken again first.
                msg.metadata = {**(msg.metadata or {}), "recovered_playing": True}
            out.append(msg)
        if out:
            log.info("journal %s: recovered %d pending message(s)", self.path, len(out))
        return out

    def close(self) -> None:
        with self._lock:
            self._db.close()
