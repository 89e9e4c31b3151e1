"""The journal piece: every accepted message is in the SQLite journal until it ends.

A message is written before it joins the queue (so a crash cannot lose it), marked
when a moderator approves it and when it starts playing, and deleted when it ends or
is dropped. ``prepare_config`` opens the journal a new config asks for; its commit
moves the pending messages there.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from tts_core.config import TTSConfig, default_data_dir
from tts_core.domain.message import TTSMessage
from tts_core.runtime.lifecycle import LifecyclePiece, Outcome
from tts_core.storage.journal_store import JOURNAL_FILE, MessageStore, Unwritten

T = TypeVar("T")


def journal_path(config: TTSConfig) -> Path:
    """Where ``config`` keeps its journal (``data_dir`` or the default data folder)."""
    return (Path(config.data_dir) if config.data_dir else default_data_dir()) / JOURNAL_FILE


class JournalChange:
    """A journal switch that ``Journal.prepare_config`` checked: ``commit`` moves the
    pending messages to the new journal (or stops journaling) and returns the messages
    the new journal held from an earlier run; ``discard`` closes what was opened."""

    def __init__(self, commit: Callable[[], list[TTSMessage]], discard: Callable[[], None]) -> None:
        self.commit = commit
        self.discard = discard


class Journal(LifecyclePiece):
    """The journal of one run, if ``persist`` is on (else every hook does nothing).

    Thread-safe: one lock guards the store, which a config change may swap.
    """

    def __init__(self) -> None:
        self._store: MessageStore | None = None
        self._lock = threading.RLock()

    @property
    def path(self) -> Path | None:
        store = self._store
        return store.path if store is not None else None

    def open(self, path: Path, queued: list[TTSMessage]) -> tuple[list[TTSMessage], int]:
        """Open the journal at ``path`` (may raise StorageError). Returns what an earlier
        run left in it, in arrival order, except messages already ``queued``, and the
        ``seq`` the next accepted message takes.

        ``queued`` messages that are not in it were accepted before the start: they
        arrived after everything in the journal, so they are renumbered after it and
        journaled too (the caller holds off new messages meanwhile).
        """
        store = MessageStore(path)
        recovered = store.recover()
        journaled = {m.id for m in recovered}
        seq = store.max_seq() + 1
        try:
            for msg in queued:
                if msg.id not in journaled:
                    msg.seq, seq = seq, seq + 1
                    store.add(msg)
        except BaseException:
            store.close()
            raise
        with self._lock:
            self._store = store
        waiting = {m.id for m in queued}
        return [m for m in recovered if m.id not in waiting], seq

    def close(self) -> None:
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()

    def admit(self, msg: TTSMessage, put: Callable[[TTSMessage], T]) -> T:
        """Journal ``msg`` (may raise StorageError), then queue it with ``put``; if ``put``
        raises, ``msg`` leaves the journal again. A config change waits meanwhile."""
        with self._lock:
            store = self._store
            if store is not None:
                store.add(msg)
            try:
                return put(msg)
            except BaseException:
                if store is not None:
                    store.remove(msg.id)
                raise

    @contextlib.contextmanager
    def together(self) -> Iterator[Unwritten]:
        """Journal what happens in the block with one write (see ``MessageStore.together``).
        Other threads' journal writes wait until the block ends, so keep it short."""
        with self._lock:
            store = self._store
            if store is None:
                yield Unwritten()
                return
            with store.together() as unwritten:
                yield unwritten

    # -- hooks (the store logs a failed write; these never raise) ----------------------

    def approved(self, msg: TTSMessage) -> None:
        with self._lock:
            if self._store is not None:
                self._store.mark_approved(msg.id)

    def started(self, msg: TTSMessage, latency_ms: float) -> None:
        with self._lock:
            if self._store is not None:
                self._store.mark_playing(msg.id)

    def ended(self, msg: TTSMessage, outcome: Outcome, **details: Any) -> None:
        self._remove(msg)

    def dropped(self, msg: TTSMessage, reason: str, **details: Any) -> None:
        self._remove(msg)

    def _remove(self, msg: TTSMessage) -> None:
        with self._lock:
            if self._store is not None:
                self._store.remove(msg.id)

    # -- a new config ----------------------------------------------------------------------

    def prepare_config(self, config: TTSConfig, live: Callable[[], tuple[list[TTSMessage], TTSMessage | None]]
                       ) -> JournalChange | None:
        """Open the journal ``config`` asks for, if it differs from this one; None if not.

        ``live()`` returns the pending messages and the one playing: they are copied into
        the new journal first, so a full disk refuses the change here (StorageError).
        From here until the commit or discard, no message is admitted (the lock is held).
        """
        self._lock.acquire()
        try:
            change = self._prepare(config, live)
        except BaseException:
            self._lock.release()
            raise
        if change is None:
            self._lock.release()
        return change

    def _prepare(self, config: TTSConfig, live: Callable[[], tuple[list[TTSMessage], TTSMessage | None]]
                 ) -> JournalChange | None:
        current = self.path
        if not config.persist:
            return None if current is None else self._change(None, live)
        wanted = journal_path(config)
        if current is not None and current.resolve() == wanted.resolve():
            return None
        store = MessageStore(wanted)
        try:
            pending, playing = live()
            for msg in [*pending, *([playing] if playing is not None else [])]:
                store.add(msg)
            if playing is not None:
                store.mark_playing(playing.id)
        except BaseException:
            store.close()
            raise
        return self._change(store, live)

    def _change(self, store: MessageStore | None,
                live: Callable[[], tuple[list[TTSMessage], TTSMessage | None]]) -> JournalChange:
        def commit() -> list[TTSMessage]:
            try:
                return self._swap(store, live)
            finally:
                self._lock.release()

        def discard() -> None:
            try:
                if store is not None:
                    store.close()
            finally:
                self._lock.release()

        return JournalChange(commit, discard)

    def _swap(self, store: MessageStore | None,
              live: Callable[[], tuple[list[TTSMessage], TTSMessage | None]]) -> list[TTSMessage]:
        old, self._store = self._store, store
        pending, playing = live()
        moved = [*pending, *([playing] if playing is not None else [])]
        recovered = store.recover() if store is not None else []
        if old is not None:
            for msg in moved:
                old.remove(msg.id)
            old.close()
        known = {m.id for m in moved}
        return [m for m in recovered if m.id not in known]
