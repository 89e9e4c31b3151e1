"""TTSQueueManager: the public API. Owns the queue, workers, player, journal and events."""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import dataclasses
import itertools
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Generator
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from tts_core.async_engine import as_engine
from tts_core.clips import ClipFiles
from tts_core.config import EngineConfig, TTSConfig, default_data_dir
from tts_core.domain.token_bucket import TokenBucket
from tts_core.engines.base import Engine
from tts_core.events import Event, EventBus, make_event
from tts_core.fallback import engine_from_config
from tts_core.message import MessagePriority, MessageState, TTSMessage
from tts_core.player import Player
from tts_core.queue import MessageQueue, QueueFull
from tts_core.settings import Prepared, Settings
from tts_core.sinks.base import Sink
from tts_core.sinks.realtime import RealtimeSink
from tts_core.stats import Counters
from tts_core.store import JOURNAL_FILE, MessageStore
from tts_core.text import TextPipeline, TextRejected, default_pipeline
from tts_core.voice_check import check_configured_voice
from tts_core.workers import WorkerPool

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 2.0


class _Done:
    """Returned by start()/stop(): they finish synchronously, and ``await`` works too."""

    def __await__(self) -> Generator[None, None, None]:
        return
        yield  # pragma: no cover - makes this a generator


class TTSQueueManager:
    """A priority queue of texts to speak, synthesized ahead and played one at a time.

    Parameters: ``config`` (TTSConfig), ``engine`` (callable ``fn(text, **kw) -> bytes``,
    sync or async, or an Engine; default: ``config.engine``), ``sink`` (default: the
    real-time null sink), ``text_pipeline`` (clean-up and moderation; default: control
    characters, whitespace, ``max_text_length``).
    """

    def __init__(
        self,
        config: TTSConfig | None = None,
        engine: object | None = None,
        sink: Sink | None = None,
        text_pipeline: TextPipeline | None = None,
    ) -> None:
        self.config = config or TTSConfig()
        cfg = self.config
        self.counters = Counters()
        self.queue = MessageQueue(
            cfg.max_queue_size, cfg.enable_priority_queue, self.counters, cfg.max_concurrent_workers
        )
        self.events = EventBus()
        self.text_pipeline = text_pipeline or default_pipeline(cfg.max_text_length)
        self._engine_source = engine
        self._sink: Sink | None = sink
        self._own_sink = False
        self._seq = itertools.count(1)
        self._seq_lock = threading.Lock()
        self._store: MessageStore | None = None
        self._clips: ClipFiles | None = None
        self._workers: WorkerPool | None = None
        self._player: Player | None = None
        self._lifecycle = threading.Lock()
        self._abandoned_threads: list[threading.Thread] = []
        self._journal_lock = threading.RLock()  # the journal is swapped by reconfigure()
        self._lifecycle_executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._running = False
        self._started_at = 0.0
        self.enabled = True
        # Every part holding settings (this queue, event translators, listeners) takes a
        # new config through ``settings.apply``; see tts_core.settings.
        self.settings = Settings()
        self.settings.add(self)
        if engine is not None:
            self.set_tts_engine(engine)

    # -- wiring ----------------------------------------------------------------------

    def set_tts_engine(self, engine: object) -> None:
        """Use ``engine``: ``fn(text, **kwargs) -> bytes`` (sync or async) or an Engine.

        Raises TypeError if it is neither. Takes effect from the next synthesis.
        """
        self._bind_engine(engine, _running_loop())

    def _bind_engine(self, engine: object, loop: asyncio.AbstractEventLoop | None) -> None:
        resolved = as_engine(engine, loop)
        self._engine_source = engine
        self._engine: Engine | None = resolved
        if self._workers is not None:
            self._workers.engine = resolved

    @property
    def engine(self) -> Engine | None:
        """The engine in use (an EngineChain when built from the config), or None."""
        return getattr(self, "_engine", None)

    def set_audio_sink(self, sink: Sink) -> None:
        """Play clips through ``sink`` from the next clip on."""
        if not isinstance(sink, Sink):
            raise TypeError(f"audio sink must subclass tts_core.sinks.Sink (play(clip, message, stop)); "
                            f"got {type(sink).__name__}")
        self._sink = sink
        self._own_sink = False
        if self._player is not None:
            self._player.sink = sink

    def set_text_pipeline(self, pipeline: TextPipeline) -> None:
        self.text_pipeline = pipeline

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback(event_dict)`` for every event; returns an unsubscribe function."""
        return self.events.subscribe(callback)

    # -- lifecycle -------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self._running

    def start(self) -> Awaitable[None]:
        """Start workers and the player; works called plainly or awaited.

        Called in a thread without a running event loop, it starts before it returns.
        Called on a running loop, the blocking part runs in a thread at once and the
        returned future says when it is done (``await manager.start()`` never blocks
        the loop). All or nothing: if any part cannot start (unknown ``engine.voice``,
        an unusable journal folder, ...), everything opened so far is closed again and
        the error is raised.
        """
        loop = _running_loop()
        if loop is not None:
            return loop.run_in_executor(self._lifecycle_thread(), self._start, loop)
        self._start(None)
        return _Done()

    def _lifecycle_thread(self) -> concurrent.futures.ThreadPoolExecutor:
        """One thread for awaited start()/stop() calls, so they run in the order made."""
        if self._lifecycle_executor is None:
            self._lifecycle_executor = concurrent.futures.ThreadPoolExecutor(1, "tts-lifecycle")
        return self._lifecycle_executor

    def _end_lifecycle_thread(self, executor: concurrent.futures.ThreadPoolExecutor) -> None:
        """After an awaited stop() no thread of ours outlives the queue (queued calls still run)."""
        if self._lifecycle_executor is executor:
            self._lifecycle_executor = None
        executor.shutdown(wait=False)

    def _start(self, loop: asyncio.AbstractEventLoop | None) -> None:
        with self._lifecycle:
            if self._running:
                return
            created_engine = getattr(self, "_engine", None) is None
            try:
                self._start_parts(loop)
            except BaseException:
                self._close_parts()
                if created_engine:
                    self._engine = None
                raise

    def _start_parts(self, loop: asyncio.AbstractEventLoop | None) -> None:
        cfg = self.config
        if getattr(self, "_engine", None) is None:
            self._bind_engine(engine_from_config(cfg), loop)  # engine.name, its fallbacks, the cache
        elif self._engine_source is not None and loop is not None:
            self._bind_engine(self._engine_source, loop)  # async engines run on this loop
        assert self._engine is not None
        check_configured_voice(self._engine, cfg.engine.voice)
        if self._sink is None:
            self._sink, self._own_sink = RealtimeSink(), True
        self._clips = ClipFiles(cfg.replay_keep)
        if cfg.persist:
            self._open_store()
        self.queue.reopen()
        self.events.start()
        self._workers = WorkerPool(
            self.queue,
            cfg.max_concurrent_workers,
            cfg.engine,
            TokenBucket(cfg.rate_limit_per_minute, cfg.rate_limit_burst),
            self._clips,
            cfg.max_retries,
            cfg.retry_backoff_seconds,
            cfg.engine_timeout_seconds,
            self._on_synthesis_failed,
            self._abandoned_threads,
        )
        self._workers.engine = self._engine
        self._workers.start()
        self._player = Player(
            self.queue,
            self._sink,
            self._on_playback_started,
            self._on_playback_ended,
            cfg.pause_between_clips_ms,
        )
        self._player.start()
        self._running = True
        self._started_at = time.monotonic()
        log.info(
            "TTS queue started: engine %s, sink %s, %d worker(s)",
            self._engine.name if self._engine else "?",
            self._sink.name,
            cfg.max_concurrent_workers,
        )

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> Awaitable[None]:
        """Stop every thread within ``timeout`` seconds. Pending messages stay pending
        (and journaled with ``persist``); a clip cut by the stop plays again next start.

        Like ``start()``: plain in a thread, a future on a running loop (the loop keeps
        running meanwhile; async engine calls in flight are cancelled)."""
        loop = _running_loop()
        if loop is not None:
            executor = self._lifecycle_thread()
            future = loop.run_in_executor(executor, self._stop, timeout)
            future.add_done_callback(lambda _: self._end_lifecycle_thread(executor))
            return future
        self._stop(timeout)
        return _Done()

    def _stop(self, timeout: float) -> None:
        with self._lifecycle:
            if not self._running:
                return
            self._close_parts(timeout)
            log.info("TTS queue stopped; %d message(s) pending", len(self.queue))

    def _close_parts(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Stop and close whatever is started or open (also after a failed start)."""
        deadline = time.monotonic() + timeout
        self.queue.close()
        if self._player is not None:
            self._player.stop(max(0.1, deadline - time.monotonic()))
        if self._workers is not None:
            self._workers.stop(max(0.1, deadline - time.monotonic()))
        for msg in self.queue.reset_synthesis():
            msg.clip = None
        if self._own_sink and self._sink is not None:
            self._sink.close()
            self._sink = None
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._clips is not None:
            self._clips.cleanup()
            self._clips = None
        self.events.stop(max(0.1, deadline - time.monotonic()))
        self._player = None
        self._workers = None
        self._running = False

    def _open_store(self) -> None:
        folder = Path(self.config.data_dir) if self.config.data_dir else default_data_dir()
        self._store = store = MessageStore(folder / JOURNAL_FILE)
        recovered = store.recover()
        journaled = {m.id for m in recovered}
        # Messages queued before start() arrived after everything in the journal: number
        # them after it and journal them too, so a crash cannot lose them.
        with self._seq_lock:  # workers are not running yet; this only holds off add_message
            next_seq = store.max_seq() + 1
            for msg in self.queue.snapshot():
                if msg.id not in journaled:
                    msg.seq, next_seq = next_seq, next_seq + 1
                    store.add(msg)
            self._seq = itertools.count(next_seq)
        pending = {m.id for m in self.queue.snapshot()}
        for msg in recovered:
            if msg.id not in pending:
                self._recover(msg)

    def _recover(self, msg: TTSMessage) -> None:
        """Queue a message from the journal under the normal capacity rules."""
        try:
            evicted = self.queue.put(msg)
        except QueueFull:
            # The queue is smaller than the journal (max_queue_size was lowered): the
            # newest of what cannot fit is dropped, said so, and leaves the journal.
            self.queue.record_dropped_on_arrival(msg)
            self._forget(msg)
            log.warning("journal: message %s dropped on recovery: the queue is full (%d)", msg.id,
                        self.queue.max_size)
            self.events.publish(make_event("dropped", msg, reason="queue_full", recovered=True))
            return
        for victim in evicted:
            self._forget(victim)
            self.events.publish(make_event("dropped", victim, reason="queue_full", recovered=True))
        self.events.publish(make_event("queued", msg, recovered=True))

    def reconfigure(self, config: TTSConfig) -> None:
        """Apply ``config`` everywhere as the queue runs: no restart, the clip that plays is not cut.

        Every part registered in ``settings`` takes it at once: the queue (rate limit,
        workers, retries, time-out, queue size, priority order, engine and voice, pause
        between clips, replay_keep, the journal), the event translator (moderation,
        ignored users, minimum amounts, templates, voices, priorities) and the
        listener (all but its address). Pending messages stay queued; lowering
        ``max_queue_size`` drops nothing already queued. If anything cannot apply
        (unknown voice, an engine that cannot start, an unusable data folder, a bad
        template), nothing changes anywhere and the error is raised (ConfigError/
        ValueError, EngineUnavailable, StorageError).
        """
        if not isinstance(config, TTSConfig):
            raise TypeError(f"reconfigure() takes a TTSConfig, got {type(config).__name__}")
        with self._lifecycle:
            self.settings.apply(config)
        log.info("settings applied: %d worker(s), %s engine calls/min, queue size %d, engine %s%s",
                 config.max_concurrent_workers, config.rate_limit_per_minute or "unlimited",
                 config.max_queue_size, config.engine.name,
                 f", voice {config.engine.voice}" if config.engine.voice else "")

    def prepare_config(self, config: TTSConfig) -> Prepared:
        """The queue's part of ``reconfigure``: build the engine and journal ``config``
        needs (may raise); the commit swaps them in. Called by ``settings.apply``."""
        engine = None
        current = getattr(self, "_engine", None)
        if _engine_build(config.engine) != _engine_build(self.config.engine) and current is not None:
            engine = current = engine_from_config(config)  # name, fallbacks, sections, cache
        try:
            if self._running and current is not None:
                check_configured_voice(current, config.engine.voice)
            self._journal_lock.acquire()  # holds off add_message while the journal may move
            try:
                store, store_changes = self._prepare_journal(config)
            except BaseException:
                self._journal_lock.release()
                raise
        except BaseException:
            if engine is not None:
                engine.close()
            raise

        def commit() -> None:
            try:
                self._commit(config, engine, store, store_changes)
            finally:
                self._journal_lock.release()

        def discard() -> None:
            try:
                if store is not None:
                    store.close()
                if engine is not None:
                    engine.close()
            finally:
                self._journal_lock.release()

        return Prepared(commit, discard)

    def _commit(self, config: TTSConfig, engine: Engine | None, store: MessageStore | None,
                store_changes: bool) -> None:
        _copy_into(self.config, config)
        if engine is not None:
            previous = getattr(self, "_engine", None)
            self._bind_engine(engine, None)
            if previous is not None and self._engine_source is None:
                previous.close()  # it was built from the config, like this one
            self._engine_source = None
        if self._running:
            self._apply_running(store, store_changes)

    def _prepare_journal(self, config: TTSConfig) -> tuple[MessageStore | None, bool]:
        """Open the journal ``config`` asks for, if it differs (may raise StorageError)."""
        if not self._running:
            return None, False
        wanted = (Path(config.data_dir) if config.data_dir else default_data_dir()) / JOURNAL_FILE
        current = self._store.path if self._store is not None else None
        if not config.persist:
            return None, current is not None
        if current is not None and current.resolve() == wanted.resolve():
            return None, False
        store = MessageStore(wanted)
        try:  # everything pending moves into the new journal first; a full disk stops it here
            playing = self.queue.playing
            for msg in [*self.queue.snapshot(), *([playing] if playing is not None else [])]:
                store.add(msg)
            if playing is not None:
                store.mark_playing(playing.id)
        except BaseException:
            store.close()
            raise
        return store, True

    def _apply_running(self, store: MessageStore | None, store_changes: bool) -> None:
        cfg = self.config
        self.queue.max_size = cfg.max_queue_size
        self.queue.set_by_priority(cfg.enable_priority_queue)
        assert self._workers is not None and self._player is not None and self._clips is not None
        self._workers.engine = self._engine
        self._workers.settings = cfg.engine
        self._workers.reconfigure(cfg.max_concurrent_workers, cfg.rate_limit_per_minute, cfg.rate_limit_burst,
                                  cfg.max_retries, cfg.retry_backoff_seconds, cfg.engine_timeout_seconds)
        self._player.pause_between_ms = cfg.pause_between_clips_ms
        self._clips.keep = cfg.replay_keep
        if store_changes:
            self._swap_journal(store)

    def _swap_journal(self, store: MessageStore | None) -> None:
        """Move the pending messages from the old journal to ``store`` (None: no journal)."""
        with self._journal_lock:
            old, self._store = self._store, store
            playing = self.queue.playing
            live = [*self.queue.snapshot(), *([playing] if playing is not None else [])]
            recovered = store.recover() if store is not None else []
            if old is not None:
                for msg in live:
                    old.remove(msg.id)
                old.close()
        known = {m.id for m in live}
        for msg in recovered:
            if msg.id not in known:
                self._recover(msg)
        log.info("journal now %s", store.path if store is not None else "off")

    def wait_until_idle(self, timeout: float = 60.0) -> bool:
        """Block until nothing is pending or playing; False if ``timeout`` ran out."""
        return self.queue.wait_idle(timeout)

    # -- adding ----------------------------------------------------------------------

    def add_message(
        self,
        text: str,
        priority: MessagePriority | str | int = MessagePriority.NORMAL,
        *,
        voice: str | None = None,
        event_type: str = "tts",
        username: str | None = None,
        metadata: dict[str, Any] | None = None,
        hold_seconds: float | None = None,
        needs_approval: bool = False,
    ) -> str:
        """Queue ``text`` and return its message id.

        Raises ValueError for an empty text or an invalid priority, RuntimeError when
        the queue is full and nothing of lower priority can be evicted, StorageError
        (a RuntimeError with ``code`` ``storage_full`` or ``storage_error``, naming the
        journal) when ``persist`` is on and the journal cannot be written; a message
        refused so was not accepted. A text that
        the moderation pipeline refuses, or any text while TTS is disabled, is
        accepted and immediately rejected (a ``rejected`` event says why).
        """
        prio = MessagePriority.parse(priority)
        if not isinstance(text, str):
            raise TypeError(f"text must be a string, got {type(text).__name__}")
        if not text.strip():
            raise ValueError("text is empty")
        hold = self.config.hold_seconds if hold_seconds is None else hold_seconds
        if not isinstance(hold, (int, float)) or not math.isfinite(hold) or hold < 0:
            raise ValueError(f"hold_seconds must be a finite number >= 0, got {hold!r}")
        with self._seq_lock:
            seq = next(self._seq)
        msg = TTSMessage(
            text=text,
            priority=prio,
            seq=seq,
            voice=voice,
            event_type=event_type,
            username=username,
            metadata=metadata,
            eligible_at=time.monotonic() + hold if hold else 0.0,
            needs_approval=needs_approval,
        )
        reason = None
        try:
            msg.text = self.text_pipeline.clean(text)
        except TextRejected as exc:
            if exc.code == "empty":
                raise ValueError(f"text is empty after clean-up ({exc})") from None
            reason = exc.code
            msg.error = str(exc)
        if reason is None and not self.enabled:
            reason, msg.error = "disabled", "TTS is disabled"
        if reason is not None:
            msg.state = MessageState.REJECTED
            self.queue.record_rejected_on_arrival()
            self.events.publish(make_event("rejected", msg, reason=reason, error=msg.error))
            return msg.id
        return self._enqueue(msg)

    def _enqueue(self, msg: TTSMessage) -> str:
        with self._journal_lock:
            store = self._store
            if store is not None:
                store.add(msg)
            try:
                evicted = self.queue.put(msg)
            except RuntimeError:
                if store is not None:
                    store.remove(msg.id)
                raise
        for victim in evicted:
            self._forget(victim)
            self.events.publish(make_event("dropped", victim, reason="queue_full"))
        self.events.publish(make_event("queued", msg, held=msg.state is MessageState.HELD))
        return msg.id

    # -- control ---------------------------------------------------------------------

    def skip(self) -> str | None:
        """Cut the clip that is playing (only that one); returns its id, or None."""
        msg = self._player.skip() if self._player else None
        return msg.id if msg else None

    def pause(self) -> None:
        """Start nothing new; the current clip finishes. Messages are still accepted."""
        self.queue.set_paused(True)

    def resume(self) -> None:
        self.queue.set_paused(False)

    @property
    def paused(self) -> bool:
        return self.queue.paused

    def enable(self) -> None:
        self.enabled = True

    def disable(self) -> None:
        """Refuse new messages (they are rejected with reason ``disabled``)."""
        self.enabled = False

    def clear(self) -> int:
        """Drop every pending message (not the one playing); returns how many."""
        removed = self.queue.remove_all()
        for msg in removed:
            self._forget(msg)
            self.events.publish(make_event("dropped", msg, reason="cleared"))
        return len(removed)

    def remove(self, message_id: str) -> bool:
        """Drop one pending message; False if it is not pending."""
        return self._end_pending(message_id, MessageState.DROPPED, "dropped", "removed")

    def remove_where(self, predicate: Callable[[TTSMessage], bool], reason: str,
                     skip_playing: bool = False) -> tuple[list[str], str | None]:
        """Drop every pending or held message ``predicate`` accepts (``dropped`` events
        with ``reason``); with ``skip_playing``, also cut the clip playing now if it
        matches. Returns (dropped ids, skipped id or None)."""
        removed = self.queue.remove_where(predicate)
        for msg in removed:
            self._forget(msg)
            self.events.publish(make_event("dropped", msg, reason=reason))
        skipped = None
        playing = self._player.current if self._player else None
        if skip_playing and playing is not None and predicate(playing) and self._player is not None \
                and self._player.current is playing:
            skipped = self.skip()
        return [m.id for m in removed], skipped

    def record_rejected(self, text: str, priority: MessagePriority | str | int, *, event_type: str = "tts",
                        username: str | None = None, metadata: dict[str, Any] | None = None,
                        reason: str = "rejected", **extra: Any) -> str:
        """Count a message refused on arrival by its source's moderation; returns its id.
        The ``rejected`` event carries ``reason`` and ``extra`` (e.g. ``stage``)."""
        with self._seq_lock:
            seq = next(self._seq)
        msg = TTSMessage(text=text, priority=MessagePriority.parse(priority), seq=seq, event_type=event_type,
                         username=username, metadata=metadata, state=MessageState.REJECTED,
                         error=extra.get("error"))
        self.queue.record_rejected_on_arrival()
        self.events.publish(make_event("rejected", msg, reason=reason, **extra))
        return msg.id

    def reject(self, message_id: str) -> bool:
        """A moderator refuses a pending (typically held) message."""
        return self._end_pending(message_id, MessageState.REJECTED, "rejected", "moderator")

    def approve(self, message_id: str) -> bool:
        """A moderator lets a message that needs approval play; False if not held."""
        msg = self.queue.approve(message_id)
        if msg is None:
            return False
        self._journal("mark_approved", message_id)
        return True

    def replay(self, message_id: str | None = None) -> str:
        """Play a recently played clip again, next (URGENT). Returns the new message id.

        Raises LookupError if that clip is no longer kept (see ``replay_keep``).
        """
        original = self._clips.for_replay(message_id) if self._clips else None
        if original is None:
            which = f"message {message_id}" if message_id else "any message"
            raise LookupError(f"nothing to replay: no kept clip for {which}")
        with self._seq_lock:
            seq = next(self._seq)
        msg = TTSMessage(
            text=original.text,
            priority=MessagePriority.URGENT,
            seq=seq,
            voice=original.voice,
            event_type=original.event_type,
            username=original.username,
            metadata={**(original.metadata or {}), "replay_of": original.id},
            state=MessageState.READY,
            clip=original.clip,
        )
        return self._enqueue(msg)

    def _end_pending(self, message_id: str, state: MessageState, event: str, reason: str) -> bool:
        msg = self.queue.get(message_id)
        if msg is None or not self.queue.finish(msg, state):
            return False
        self._forget(msg)
        self.events.publish(make_event(event, msg, reason=reason))
        return True

    def _journal(self, action: str, msg_id: str) -> None:
        """``remove`` / ``mark_playing`` / ``mark_approved`` in the journal, if any (these
        never raise: the store logs a failed write)."""
        with self._journal_lock:
            if self._store is not None:
                getattr(self._store, action)(msg_id)

    def _forget(self, msg: TTSMessage) -> None:
        self._journal("remove", msg.id)
        if self._clips is not None:
            self._clips.discard(msg.clip)

    # -- worker / player callbacks -----------------------------------------------------

    def _on_synthesis_failed(self, msg: TTSMessage, error: str) -> None:
        if self.queue.finish(msg, MessageState.FAILED):
            self._forget(msg)
            self.events.publish(make_event("failed", msg, error=error, attempts=msg.attempts))

    def _on_playback_started(self, msg: TTSMessage) -> None:
        latency_ms = (time.monotonic() - msg.enqueued_mono) * 1000
        self.counters.record_latency(latency_ms)
        self._journal("mark_playing", msg.id)
        self.events.publish(
            make_event(
                "playback_started", msg, duration_ms=msg.clip.duration_ms, latency_ms=round(latency_ms, 1)
            )
        )

    def _on_playback_ended(self, msg: TTSMessage, skipped: bool, error: str | None, played_ms: int) -> None:
        if error is not None:
            self._forget(msg)
            self.queue.end_playback_failed(msg)
            self.events.publish(make_event("failed", msg, error=error, attempts=msg.attempts))
            return
        # Bookkeeping first: once end_playback is counted, wait_until_idle may return.
        self._journal("remove", msg.id)
        if self._clips is not None:
            self._clips.played(msg)
        self.queue.end_playback(msg, skipped)
        name = "skipped" if skipped else "playback_finished"
        self.events.publish(make_event(name, msg, duration_ms=played_ms))

    # -- looking -----------------------------------------------------------------------

    @property
    def now_playing(self) -> dict[str, Any] | None:
        msg = self._player.current if self._player else None
        return msg.as_dict() if msg else None

    def get_message(self, message_id: str) -> dict[str, Any] | None:
        msg = self.queue.get(message_id)
        return msg.as_dict() if msg else None

    def get_queue(self, limit: int = 100) -> list[dict[str, Any]]:
        """Pending messages in playback order (held ones last); held ones say why."""
        return [_with_hold(m) for m in self.queue.snapshot(limit)]

    def get_stats(self) -> dict[str, Any]:
        """Counts and state. accepted == played + failed + dropped + rejected + pending + in_flight."""
        stats: dict[str, Any] = self.queue.stats()
        stats["queue_size"] = stats["pending"]
        stats["total_processed"] = stats["played"]
        stats["total_failed"] = stats["failed"]
        stats["active_workers"] = self._workers.active_workers() if self._workers else 0
        stats["busy_workers"] = self._workers.busy_workers() if self._workers else 0
        self._abandoned_threads[:] = [t for t in self._abandoned_threads if t.is_alive()]
        stats["abandoned_threads"] = len(self._abandoned_threads)
        stats["latency_ms"] = self.counters.latency_percentiles()
        stats["paused"] = self.paused
        stats["enabled"] = self.enabled
        stats["running"] = self._running
        stats["now_playing"] = self._player.current.id if self._player and self._player.current else None
        stats["player_state"] = self._player.state if self._player else "stopped"
        stats["waiting_for_sink"] = self._player.waiting_for_sink if self._player else None
        stats["uptime_s"] = round(time.monotonic() - self._started_at, 1) if self._running else 0.0
        return stats


def _with_hold(msg: TTSMessage) -> dict[str, Any]:
    shown = msg.as_dict()
    if msg.state is MessageState.HELD:
        left = max(0.0, msg.eligible_at - time.monotonic())
        reason = (msg.metadata or {}).get("hold_reason")
        if reason is None:
            reason = "needs approval" if msg.needs_approval else "hold window"
        shown.update(needs_approval=msg.needs_approval, hold_reason=reason, held_for_s=round(left, 1))
    return shown


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _engine_build(engine: EngineConfig) -> EngineConfig:
    """What building the engine depends on: voice, rate and volume apply per call."""
    return dataclasses.replace(engine, voice=None, rate=None, volume=None)


def _copy_into(target: Any, source: Any) -> None:
    """Copy every setting of ``source`` into ``target`` in place, section by section, so
    everything holding a section (integration, listener, workers) sees the new values."""
    for f in fields(source):
        value, current = getattr(source, f.name), getattr(target, f.name)
        if is_dataclass(value) and type(current) is type(value):
            _copy_into(current, value)
        else:
            setattr(target, f.name, copy.deepcopy(value))
