"""SQLite journal (WAL): every accepted message until it ends, so none is lost in a crash.

A message is written when accepted, marked when it starts playing, and deleted when
it ends (played, failed, dropped, rejected). After a crash, ``recover()`` returns
what was pending in arrival order; the one that was playing is spoken again
(at-least-once delivery).

A damaged journal (not a database, a foreign schema, unreadable rows, a damaged
write-ahead log) never stops the queue: it is moved aside to
``journal.sqlite3.corrupt-<time>``, every row that can still be read is carried over
into a fresh journal, and one log line says how many were recovered, how many were
lost and where the old file is. Storage that refuses writes (disk full, read-only)
raises ``StorageError`` from ``add`` and the constructor; the other writes only log,
so a message that was accepted always reaches its end.

Exactly once for ended messages: an end the journal cannot record (its row cannot be
deleted) is kept in memory and in a side record (``tts_core.storage.ended_record``),
and written before anything else the journal is asked to write; ``retry()`` writes
them as soon as the journal accepts writes again. Opening a journal reads the side
record first, so a message known to have ended is never recovered.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tts_core.domain.message import MessagePriority, MessageState, TTSMessage
from tts_core.storage import wal
from tts_core.storage.ended_record import EndedRecord

log = logging.getLogger(__name__)

JOURNAL_FILE = "journal.sqlite3"
WARN_EVERY_SECONDS = 10.0
COLUMNS = ("id", "seq", "priority", "text", "voice", "event_type", "username", "metadata", "created_at",
           "eligible_wall", "needs_approval", "playing")

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

_FULL = getattr(sqlite3, "SQLITE_FULL", 13)
_SURROGATE = re.compile("[\ud800-\udfff]")
_CORRUPT_CODES = {getattr(sqlite3, "SQLITE_CORRUPT", 11), getattr(sqlite3, "SQLITE_NOTADB", 26)}


class StorageError(RuntimeError):
    """The journal cannot be written. ``code``: ``storage_full`` (no space left) or
    ``storage_error`` (read-only, permissions, I/O); ``path``: the journal."""

    def __init__(self, code: str, message: str, path: Path) -> None:
        super().__init__(message)
        self.code = code
        self.path = path


class JournalFolderError(StorageError):
    """The journal's folder cannot be created (a file in its place, no permission): a
    setting to fix, not a disk that may recover."""


_Change = tuple[str, tuple[Any, ...], str]  # a write other than an insert or an end: SQL, arguments, what


class Unwritten:
    """What a ``together`` block could not journal after all: ``messages`` that ``add``
    took in it whose rows failed at the commit (and again one by one), and the ``error``."""

    def __init__(self) -> None:
        self.messages: list[TTSMessage] = []
        self.error: StorageError | None = None


class _Damaged(Exception):
    """The journal file is unusable as it is; the text says why."""


def _storage_error(exc: BaseException, path: Path, doing: str) -> StorageError:
    if getattr(exc, "sqlite_errorcode", None) == _FULL or "full" in str(exc):
        return StorageError("storage_full", f"cannot {doing}: the disk holding the journal {path} is full",
                            path)
    return StorageError("storage_error", f"cannot {doing} in the journal {path}: {exc}", path)


def _is_corruption(exc: sqlite3.Error) -> bool:
    if getattr(exc, "sqlite_errorcode", None) in _CORRUPT_CODES:
        return True
    text = str(exc)
    return "not a database" in text or "malformed" in text


class MessageStore:
    """The journal at ``path``; thread-safe (one connection behind a lock).

    Raises StorageError when the folder or file cannot be created or written.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._warned_at = 0.0
        self.problem: StorageError | None = None  # the last refused write, until one succeeds
        # While a transaction is open (``together``): what it wrote, to write again one by
        # one if its commit fails. ``_added`` is None outside a transaction.
        self._added: list[TTSMessage] | None = None
        self._changed: list[_Change] = []
        self._ended_in_transaction: list[str] = []
        self._ended_record = EndedRecord(path)
        self._unwritten: dict[str, None] = {}  # ended, row not deleted yet (in arrival order)
        self._unrecorded = 0  # of those, how many the side record could not take either
        self._side_record = False  # the side record may hold ids (remove it once they are written)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalFolderError("storage_error", f"cannot create the journal folder {path.parent}: "
                                     f"{exc}", path) from None
        self._recovered: list[TTSMessage] = []
        reason = wal.damage(Path(f"{path}-wal"))
        if reason is None:
            try:
                self._db = self._connect()
                self._recovered = self._read_all()
                self._settle_ended()
                return
            except _Damaged as exc:
                reason = str(exc)
            except sqlite3.Error as exc:
                if not _is_corruption(exc):
                    self._close_quietly()
                    raise _storage_error(exc, path, "open") from None
                reason = str(exc)
            self._close_quietly()
        self._replace_damaged(reason)

    # -- opening ----------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db = db
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable against a process crash (SIGKILL); only power loss can lose
        # the last commits.
        db.execute("PRAGMA synchronous=NORMAL")
        columns = tuple(row[1] for row in db.execute("PRAGMA table_info(messages)"))
        if columns and columns != COLUMNS:
            raise _Damaged(f"the messages table has the wrong columns ({', '.join(columns)})")
        if not columns:
            other = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            if other:
                raise _Damaged(f"it is not a TTS journal (tables: {', '.join(other)})")
        db.executescript(_SCHEMA)
        return db

    def _read_all(self) -> list[TTSMessage]:
        rows = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM messages ORDER BY seq").fetchall()
        out = []
        for row in rows:
            try:
                out.append(_message(row))
            except (ValueError, TypeError, KeyError) as exc:
                raise _Damaged(f"row {row[0]!r} is unreadable ({exc})") from None
        return out

    def _replace_damaged(self, reason: str) -> None:
        """Move the damaged files aside, start a fresh journal, carry over every readable row."""
        aside = _aside_name(self.path)
        moved: list[Path] = []
        try:
            for suffix in ("", "-wal", "-shm"):
                source = Path(f"{self.path}{suffix}")
                if source.exists():
                    target = Path(f"{aside}{suffix}")
                    source.replace(target)
                    moved.append(target)
        except OSError as exc:
            raise StorageError("storage_error", f"the journal {self.path} is damaged ({reason}) and "
                               f"cannot be moved aside: {exc}", self.path) from None
        rows, lost, unreadable = _salvage(aside)
        try:
            self._connect()
            for msg in rows:
                self._insert(msg, playing=bool((msg.metadata or {}).get("recovered_playing")))
        except sqlite3.Error as exc:
            raise _storage_error(exc, self.path, "create a fresh journal") from None
        self._recovered = rows
        self._settle_ended()
        lost_text = f"{lost}" + (" and an unreadable part of the file" if unreadable else "")
        log.error("journal %s was damaged (%s): recovered %d message(s), lost %s; the old file is %s",
                  self.path, reason, len(rows), lost_text, aside)

    def _settle_ended(self) -> None:
        """Leave out of the recovered messages those the side record says ended, delete
        their rows, and check that the journal takes writes (raises StorageError if not)."""
        ended = self._ended_record.read()
        if ended:
            before = len(self._recovered)
            self._recovered = [m for m in self._recovered if m.id not in ended]
            log.info("journal %s: %d message(s) ended while it could not record it; not replayed",
                     self.path, before - len(self._recovered))
            self._unwritten.update(dict.fromkeys(sorted(ended)))
            self._side_record = True
        try:
            self._flush_ended()
            self._probe()
        except sqlite3.Error as exc:
            self._close_quietly()
            raise _storage_error(exc, self.path, "write") from None

    def _probe(self) -> None:
        """A write that touches the file (the header's user_version), to learn whether
        the journal takes writes at all."""
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        self._db.execute(f"PRAGMA user_version={(int(version) + 1) % 1_000_000}")

    def _close_quietly(self) -> None:
        db = getattr(self, "_db", None)
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.close()

    # -- writing ------------------------------------------------------------------------

    def _insert(self, msg: TTSMessage, playing: bool = False) -> None:
        eligible_wall = time.time() + max(0.0, msg.eligible_at - time.monotonic())
        metadata = {k: v for k, v in (msg.metadata or {}).items() if k != "recovered_playing"}
        row = (
            msg.id,
            msg.seq,
            int(msg.priority),
            _storable(msg.text),
            _storable(msg.voice),
            _storable(msg.event_type),
            _storable(msg.username),
            json.dumps(metadata) if metadata else None,
            msg.created_at,
            eligible_wall,
            int(msg.needs_approval),
            int(playing),
        )
        self._db.execute("INSERT OR REPLACE INTO messages VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", row)

    def add(self, msg: TTSMessage) -> None:
        """Journal an accepted message; raises StorageError if the journal refuses it.
        Ends that could not be written yet are written first."""
        with self._lock:
            try:
                self._flush_ended()
                self._insert(msg)
            except sqlite3.Error as exc:
                self.problem = _storage_error(exc, self.path, f"journal message {msg.id}")
                raise self.problem from None
            if self._added is not None:  # written with the others when the block ends
                self._added.append(msg)
                return
            self.problem = None

    def _flush_ended(self) -> None:
        """Delete the rows of the ended messages kept in ``_unwritten`` (raises sqlite3.Error)."""
        if not self._unwritten:
            return
        ids = list(self._unwritten)
        own = not self._db.in_transaction
        if own and len(ids) > 1:
            self._db.execute("BEGIN IMMEDIATE")
        try:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                self._db.execute(f"DELETE FROM messages WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            if own and len(ids) > 1:
                self._db.execute("COMMIT")
        except sqlite3.Error:
            if own and self._db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
            raise
        self._unwritten.clear()
        if self._added is not None:  # in ``together``: written once its commit is
            self._ended_in_transaction.extend(ids)
            return
        self._ends_written(len(ids))

    def _ends_written(self, written: int) -> None:
        self._unrecorded = 0
        if self._side_record:
            self._ended_record.clear()
            self._side_record = False
        if written > 1 or self.problem is not None:
            log.info("journal %s: recorded %d end(s) it could not write before", self.path, written)

    def _refused(self, exc: sqlite3.Error, what: str) -> None:
        self.problem = _storage_error(exc, self.path, what)
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning("journal %s: cannot %s: %s (the queue goes on; %d end(s) kept to write when it "
                        "takes writes again)", self.path, what, exc, len(self._unwritten))

    def _write(self, sql: str, args: tuple[Any, ...], what: str) -> None:
        """A write that must not stop a message that is already accepted: log, go on."""
        with self._lock:
            try:
                self._flush_ended()
                self._db.execute(sql, args)
            except sqlite3.Error as exc:
                self._refused(exc, what)
                return
            if self._added is not None:
                self._changed.append((sql, args, what))

    @contextlib.contextmanager
    def together(self) -> Iterator[Unwritten]:
        """One transaction for every write in the block: one commit instead of one per
        message. Yields an ``Unwritten`` that is empty unless the commit failed.

        If the commit fails, each write is tried again on its own: the ends go back to
        the kept ends (written before the next write, and to the side record), and the
        messages whose rows still fail are listed, for the caller to take back (they are
        not journaled, so they were not accepted after all). Writers must be serialised
        by the caller (the journal piece's lock) while the block runs.
        """
        unwritten = Unwritten()
        with self._lock:
            if self._added is not None:
                raise RuntimeError("journal transactions do not nest")
            try:
                self._db.execute("BEGIN")
            except sqlite3.Error:  # e.g. an unusable connection: every write on its own
                yield unwritten
                return
            self._added, self._changed, self._ended_in_transaction = [], [], []
        try:
            yield unwritten
        finally:
            with self._lock:
                added, changed, ended = self._added or [], self._changed, self._ended_in_transaction
                self._added, self._changed, self._ended_in_transaction = None, [], []
                error = self._commit()
                if error is None:
                    if ended:
                        self._ends_written(len(ended))
                    if added:
                        self.problem = None
                else:
                    log.warning("journal %s: one write for %d change(s) failed (%s); writing them one by one",
                                self.path, len(added) + len(changed) + len(ended), error)
                    unwritten.messages = self._redo(added, changed, ended)
                    if unwritten.messages:
                        self.problem = unwritten.error = _storage_error(
                            error, self.path, f"journal {len(unwritten.messages)} message(s)")

    def _commit(self) -> sqlite3.Error | None:
        """COMMIT the open transaction; on failure roll it back and return the error."""
        try:
            if not self._db.in_transaction:  # SQLite rolled it back itself (disk full, I/O error)
                raise sqlite3.OperationalError("the transaction was rolled back by SQLite")
            self._db.execute("COMMIT")
            return None
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            return exc

    def _redo(self, added: list[TTSMessage], changed: list[_Change], ended: list[str]) -> list[TTSMessage]:
        """Write a failed transaction's rows one at a time; the messages that still fail."""
        refused = []
        for msg in added:
            try:
                self._insert(msg)
            except sqlite3.Error:
                refused.append(msg)
        for sql, args, what in changed:
            try:
                self._db.execute(sql, args)
            except sqlite3.Error as exc:
                self._refused(exc, what)
        for msg_id in ended:
            self._unwritten[msg_id] = None
        try:
            self._flush_ended()
        except sqlite3.Error as exc:
            if ended and self._ended_record.append(ended) is None:
                self._unrecorded += len(ended)
            elif ended:
                self._side_record = True
            self._refused(exc, f"record {len(self._unwritten)} end(s)")
        return refused

    def mark_playing(self, msg_id: str) -> None:
        self._write("UPDATE messages SET playing=1 WHERE id=?", (msg_id,), f"mark {msg_id} playing")

    def mark_approved(self, msg_id: str) -> None:
        self._write("UPDATE messages SET needs_approval=0 WHERE id=?", (msg_id,), f"mark {msg_id} approved")

    def remove(self, msg_id: str) -> None:
        """Record that ``msg_id`` ended. If the journal refuses, the end is kept (in memory
        and in the side record) and written before the journal's next write."""
        with self._lock:
            self._unwritten[msg_id] = None
            try:
                self._flush_ended()
            except sqlite3.Error as exc:
                if self._ended_record.append([msg_id]) is None:
                    self._unrecorded += 1
                else:
                    self._side_record = True
                self._refused(exc, f"record the end of {msg_id}")

    def retry(self) -> bool:
        """Write the kept ends and check that the journal takes writes, on a new
        connection if the old one still refuses (a remount read-write); True if it does."""
        with self._lock:
            try:
                self._flush_ended()
                self._probe()
            except sqlite3.Error as exc:
                if not self._reconnect():
                    self.problem = _storage_error(exc, self.path, "write")
                    return False
            if self.problem is not None:
                log.info("journal %s takes writes again", self.path)
            self.problem = None
            return True

    def _reconnect(self) -> bool:
        old = self._db
        try:
            self._connect()
            self._flush_ended()
            self._probe()
        except (sqlite3.Error, _Damaged):
            if self._db is not old:
                self._close_quietly()
            self._db = old
            return False
        with contextlib.suppress(sqlite3.Error):
            old.close()
        return True

    @property
    def unwritten_ends(self) -> int:
        """Ended messages whose end the journal has not recorded yet."""
        return len(self._unwritten)

    @property
    def unrecorded_ends(self) -> int:
        """Of those, how many the side record could not take either (lost at a restart)."""
        return self._unrecorded

    def max_seq(self) -> int:
        with self._lock:
            (value,) = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM messages").fetchone()
        return int(value)

    def recover(self) -> list[TTSMessage]:
        """Messages left by an earlier run, in arrival order (read when the journal opened)."""
        out, self._recovered = self._recovered, []
        if out:
            log.info("journal %s: recovered %d pending message(s)", self.path, len(out))
        return out

    def close(self) -> None:
        with self._lock:
            if self._unwritten:
                with contextlib.suppress(sqlite3.Error):
                    self._flush_ended()
            if self._unrecorded:
                log.error("journal %s: %d ended message(s) could not be recorded anywhere (the journal "
                          "and the side record refused writes); they may be spoken again after a restart",
                          self.path, self._unrecorded)
            self._close_quietly()


def _storable(text: str | None) -> str | None:
    """``text`` as SQLite can store it: a lone surrogate (possible from the Python API)
    would make the driver raise, so it is kept as U+FFFD in the journal's copy."""
    if text is None or text.isascii():
        return text
    return _SURROGATE.sub("\ufffd", text)


def _message(row: tuple[Any, ...]) -> TTSMessage:
    (msg_id, seq, priority, text, voice, event_type, username, metadata, created_at, eligible_wall,
     needs_approval, playing) = row
    if not isinstance(msg_id, str) or not isinstance(text, str) or not text.strip():
        raise ValueError("no id or no text")
    if not isinstance(seq, int) or not isinstance(event_type, str):
        raise ValueError("bad seq or event type")
    meta = json.loads(metadata) if metadata else None
    if meta is not None and not isinstance(meta, dict):
        raise ValueError("metadata is not an object")
    now_wall, now_mono = time.time(), time.monotonic()
    msg = TTSMessage(
        text=text,
        priority=MessagePriority(priority),
        seq=seq,
        id=msg_id,
        voice=voice if isinstance(voice, str) else None,
        event_type=event_type,
        username=username if isinstance(username, str) else None,
        metadata=meta,
        created_at=float(created_at),
        # Waits count from the original acceptance, also across a restart.
        enqueued_mono=now_mono - max(0.0, now_wall - float(created_at)),
        eligible_at=now_mono + max(0.0, float(eligible_wall) - now_wall),
        needs_approval=bool(needs_approval),
        state=MessageState.WAITING,
    )
    if playing:
        # Cut off by the crash: its priority and arrival put it back in front of
        # everything that arrived after it, so it is spoken again first.
        msg.metadata = {**(msg.metadata or {}), "recovered_playing": True}
    return msg


def _aside_name(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = Path(f"{path}.corrupt-{stamp}")
    n = 1
    while candidate.exists():
        n += 1
        candidate = Path(f"{path}.corrupt-{stamp}-{n}")
    return candidate


def _salvage(aside: Path) -> tuple[list[TTSMessage], int, bool]:
    """Readable messages of a damaged journal, the count of bad rows, whether part was unreadable."""
    folder = Path(tempfile.mkdtemp(prefix="obs-tts-salvage-"))
    try:
        copy = folder / JOURNAL_FILE
        shutil.copyfile(aside, copy)
        wal_file = Path(f"{aside}-wal")
        if wal_file.exists():
            Path(f"{copy}-wal").write_bytes(wal.repaired(wal_file.read_bytes()))
        return _read_rows(copy)
    except OSError:
        return [], 0, True
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _read_rows(copy: Path) -> tuple[list[TTSMessage], int, bool]:
    messages: list[TTSMessage] = []
    lost, unreadable, last_rowid = 0, False, -1
    try:
        db = sqlite3.connect(str(copy), isolation_level=None)
    except sqlite3.Error:
        return [], 0, True
    try:
        columns = [row[1] for row in db.execute("PRAGMA table_info(messages)")]
        if not columns:
            return [], 0, False
        wanted = ", ".join(c if c in columns else "NULL" for c in COLUMNS)
        for _attempt in range(64):  # continue after each unreadable stretch
            try:
                cursor = db.execute(f"SELECT rowid, {wanted} FROM messages WHERE rowid > ? ORDER BY rowid",
                                    (last_rowid,))
                for rowid, *row in cursor:
                    last_rowid = rowid
                    try:
                        messages.append(_message(tuple(row)))
                    except (ValueError, TypeError, KeyError):
                        lost += 1
                break
            except sqlite3.Error:
                unreadable = True
                last_rowid += 1
    except sqlite3.Error:
        unreadable = True
    finally:
        db.close()
    unique = {m.id: m for m in messages}
    return sorted(unique.values(), key=lambda m: m.seq), lost, unreadable
