"""The journal piece: every accepted message is in the SQLite journal until it ends.

A message is written before it joins the queue (so a crash cannot lose it), marked
when a moderator approves it and when it starts playing, and deleted when it ends or
is dropped. ``prepare_config`` opens the journal a new config asks for; its commit
moves the pending messages there.

A journal that refuses writes (disk full, read-only) never stops the queue: new
messages are refused (StorageError), ends are kept by the store and written later, and
a thread retries every RETRY_SECONDS until the journal takes writes again. Opened on
such a journal, ``open`` starts degraded: nothing is replayed from it (what ended there
cannot be recorded) until it takes writes; then its messages are handed to ``recover``.
``health()`` says which state it is in and why.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from tts_core.config import TTSConfig, default_data_dir
from tts_core.domain.message import TTSMessage
from tts_core.runtime.lifecycle import LifecyclePiece, Outcome
from tts_core.storage.journal_store import (
    JOURNAL_FILE,
    JournalFolderError,
    MessageStore,
    StorageError,
    Unwritten,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_SECONDS = 1.0
Live = Callable[[], tuple[list[TTSMessage], TTSMessage | None]]
Recover = Callable[[list[TTSMessage], int], None]


def journal_path(config: TTSConfig) -> Path:
    """Where ``config`` keeps its journal (``data_dir`` or the default data folder)."""
    return (Path(config.data_dir) if config.data_dir else default_data_dir()) / JOURNAL_FILE


def journal_problem(path: Path) -> str | None:
    """Why the journal at ``path`` cannot be written (disk full, read-only, damaged
    beyond a fresh start), or None. Opens it as a start would (ends kept in its side
    record are written; a damaged file is moved aside) and closes it again."""
    try:
        MessageStore(path).close()
    except StorageError as exc:
        return f"the journal refuses writes: {exc}"
    return None


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
        self._path: Path | None = None  # the journal in use, also while it cannot be opened
        self._problem: StorageError | None = None  # why it could not be opened
        self._lock = threading.RLock()
        self._live: Live = lambda: ([], None)
        self._recover: Recover = lambda messages, seq: None
        self._retrying: threading.Thread | None = None
        self._closed = threading.Event()

    def connect(self, live: Live, recover: Recover) -> None:
        """Where a journal that opens late finds the messages it must hold (``live``: the
        pending ones and the one playing) and hands what it recovered (``recover``:
        messages and the ``seq`` the next accepted message takes at least)."""
        self._live, self._recover = live, recover

    @property
    def path(self) -> Path | None:
        return self._path

    def open(self, path: Path, queued: list[TTSMessage]) -> tuple[list[TTSMessage], int | None]:
        """Open the journal at ``path``. Returns what an earlier run left in it, in
        arrival order, except messages already ``queued``, and the ``seq`` the next
        accepted message takes.

        ``queued`` messages that are not in it were accepted before the start: they
        arrived after everything in the journal, so they are renumbered after it and
        journaled too (the caller holds off new messages meanwhile).

        Raises JournalFolderError if its folder cannot be created. A journal that
        refuses writes opens degraded: returns ``([], None)``, ``health()`` says why, and
        its messages go to ``recover`` once it takes writes.
        """
        self._closed.clear()
        with self._lock:
            self._path = path
            try:
                store = MessageStore(path)
            except JournalFolderError:
                self._path = None
                raise
            except StorageError as exc:
                self._degraded(exc)
                return [], None
            recovered = store.recover()
            journaled = {m.id for m in recovered}
            seq = store.max_seq() + 1
            try:
                for msg in queued:
                    if msg.id not in journaled:
                        msg.seq, seq = seq, seq + 1
                        store.add(msg)
            except StorageError as exc:
                store.close()
                self._degraded(exc)
                return [], None
            except BaseException:
                store.close()
                raise
            self._store, self._problem = store, None
        waiting = {m.id for m in queued}
        return [m for m in recovered if m.id not in waiting], seq

    def _degraded(self, exc: StorageError) -> None:
        self._problem = exc
        log.error("journal %s refuses writes (%s): new messages are refused and nothing is replayed from "
                  "it until it takes writes again (checked every %g s)", self._path, exc, RETRY_SECONDS)
        self._keep_retrying()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            store, self._store = self._store, None
            self._path, self._problem = None, None
            retrying, self._retrying = self._retrying, None
        if store is not None:
            store.close()
        if retrying is not None and retrying is not threading.current_thread():
            retrying.join(RETRY_SECONDS * 2)

    def health(self) -> dict[str, Any]:
        """``journal_state``: "off" (no persist), "ok", or "refusing_writes";
        ``journal_error``: why (naming the journal), else None; ``journal_unwritten_ends``:
        ended messages whose end is kept to write later."""
        with self._lock:
            store, path, problem = self._store, self._path, self._problem
        if path is None:
            return {"journal_state": "off", "journal_error": None, "journal_unwritten_ends": 0}
        if store is not None:
            problem = store.problem
        return {"journal_state": "ok" if problem is None else "refusing_writes",
                "journal_error": None if problem is None else str(problem),
                "journal_unwritten_ends": store.unwritten_ends if store is not None else 0}

    def admit(self, msg: TTSMessage, put: Callable[[TTSMessage], T]) -> T:
        """Journal ``msg`` (may raise StorageError), then queue it with ``put``; if ``put``
        raises, ``msg`` leaves the journal again. A config change waits meanwhile."""
        with self._lock:
            store = self._store
            if store is None and self._problem is not None:
                raise self._problem
            if store is not None:
                try:
                    store.add(msg)
                except StorageError:
                    self._keep_retrying()
                    raise
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
            if unwritten.error is not None:
                self._keep_retrying()

    # -- retrying a journal that refuses writes ---------------------------------------------

    def _keep_retrying(self) -> None:
        """Start the retry thread unless it runs (the caller holds the lock)."""
        if self._retrying is None or not self._retrying.is_alive():
            self._retrying = threading.Thread(target=self._retry_loop, name="tts-journal-retry", daemon=True)
            self._retrying.start()

    def _retry_loop(self) -> None:
        while not self._closed.wait(RETRY_SECONDS):
            try:
                if self._retry_once():
                    return
            except Exception:
                log.exception("journal: retrying failed")

    def _retry_once(self) -> bool:
        """One attempt; True once the journal takes writes (the thread ends)."""
        with self._lock:
            if self._closed.is_set():
                return True
            store = self._store
            if store is not None:
                return store.retry()
            if self._path is None:
                return True
            try:
                store = MessageStore(self._path)
            except StorageError as exc:
                self._problem = exc
                return False
            recovered = store.recover()
            journaled = {m.id for m in recovered}
            pending, playing = self._live()
            live = [*pending, *([playing] if playing is not None else [])]
            seq = store.max_seq() + 1
            try:
                # Accepted while the journal could not be opened, so after everything in
                # it: renumbered after it (as ``open`` does), then journaled.
                for msg in sorted(live, key=lambda m: m.seq):
                    if msg.id not in journaled:
                        if msg is not playing:
                            msg.seq, seq = seq, seq + 1
                        store.add(msg)
                if playing is not None:
                    store.mark_playing(playing.id)
            except StorageError as exc:
                store.close()
                self._problem = exc
                return False
            seq = max(seq, store.max_seq() + 1)
            self._store, self._problem = store, None
            log.info("journal %s takes writes again: %d message(s) recovered from it", self._path,
                     len(recovered))
        known = {m.id for m in live}
        self._recover([m for m in recovered if m.id not in known], seq)
        return True

    # -- hooks (the store logs a failed write; these never raise) ----------------------

    def approved(self, msg: TTSMessage) -> None:
        with self._lock:
            if self._store is not None:
                self._store.mark_approved(msg.id)
                self._after_write(self._store)

    def started(self, msg: TTSMessage, latency_ms: float) -> None:
        with self._lock:
            if self._store is not None:
                self._store.mark_playing(msg.id)
                self._after_write(self._store)

    def ended(self, msg: TTSMessage, outcome: Outcome, **details: Any) -> None:
        self._remove(msg)

    def dropped(self, msg: TTSMessage, reason: str, **details: Any) -> None:
        self._remove(msg)

    def _remove(self, msg: TTSMessage) -> None:
        with self._lock:
            if self._store is not None:
                self._store.remove(msg.id)
                self._after_write(self._store)

    def _after_write(self, store: MessageStore) -> None:
        if store.problem is not None:
            self._keep_retrying()

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
        self._path, self._problem = (store.path if store is not None else None), None
        pending, playing = live()
        moved = [*pending, *([playing] if playing is not None else [])]
        recovered = store.recover() if store is not None else []
        if old is not None:
            for msg in moved:
                old.remove(msg.id)
            old.close()
        known = {m.id for m in moved}
        return [m for m in recovered if m.id not in known]
