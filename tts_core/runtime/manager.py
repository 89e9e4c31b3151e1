"""TTSQueueManager: the public API and the lifecycle of the queue.

It owns the queue, the workers and the player, and hands every step of a message's
life to the lifecycle pieces (tts_core.runtime: journal, clip retention, statistics,
event publishing).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from tts_core.config import TTSConfig
from tts_core.domain.counters import Counters
from tts_core.domain.events import Event
from tts_core.domain.message import MessagePriority, MessageState, TTSMessage
from tts_core.domain.token_bucket import TokenBucket
from tts_core.engines.base import Engine
from tts_core.engines.voice_check import check_configured_voice
from tts_core.ingest.cleanup import TextPipeline, TextRejected, default_pipeline
from tts_core.runtime.alerts import AlertSounds, has_alert
from tts_core.runtime.bus import EventBus
from tts_core.runtime.engine_binding import EngineBinding
from tts_core.runtime.journal import Journal, JournalChange, journal_path
from tts_core.runtime.lifecycle import Lifecycle, Outcome
from tts_core.runtime.loop_bridge import LoopBridge, running_loop
from tts_core.runtime.message_queue import MessageQueue, QueueFull
from tts_core.runtime.player import Player
from tts_core.runtime.publishing import EventPublishing
from tts_core.runtime.retention import ClipRetention
from tts_core.runtime.settings import Prepared, Settings
from tts_core.runtime.statistics import Statistics
from tts_core.runtime.workers import WorkerPool
from tts_core.sinks.base import Sink
from tts_core.sinks.realtime import RealtimeSink
from tts_core.storage.clip_files import ClipFiles
from tts_core.storage.journal_store import StorageError

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 2.0


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
        self.queue = MessageQueue(
            cfg.max_queue_size, cfg.enable_priority_queue, Counters(), cfg.max_concurrent_workers
        )
        self.events = EventBus()
        self._own_pipeline = text_pipeline is None  # rebuilt when max_text_length changes
        self.text_pipeline = text_pipeline or default_pipeline(cfg.max_text_length)
        self.journal = Journal()
        self.journal.connect(self._live, self._journal_reopened)
        self.retention = ClipRetention(cfg.replay_keep)
        self.statistics = Statistics()
        # Record first (journal, clip files, latency), announce last.
        self.lifecycle = Lifecycle(
            [self.journal, self.retention, self.statistics, EventPublishing(self.events)]
        )
        self.engine_binding = EngineBinding(self._use_engine)
        self._sink: Sink | None = sink
        self._own_sink = False
        self._seq = itertools.count(1)
        self._seq_lock = threading.Lock()
        self._clips: ClipFiles | None = None
        self._workers: WorkerPool | None = None
        self._player: Player | None = None
        self._run_lock = threading.Lock()  # start, stop and reconfigure, one at a time
        self._abandoned_threads: list[threading.Thread] = []
        self._bridge = LoopBridge()
        self._running = False
        self._started_at = 0.0
        self.enabled = True
        # Every part holding settings (this queue, event translators, listeners) takes a
        # new config through ``settings.apply``; see tts_core.runtime.settings.
        self.settings = Settings()
        self.settings.add(self)
        # The alert sounds in force (tts_core.runtime.alerts): files checked as settings apply.
        self.alerts = AlertSounds(cfg)
        self.settings.add(self.alerts)
        # Connectors (tts_core.connectors) report their state here, shown in get_stats().
        self.connector_reports: dict[str, Callable[[], dict[str, Any]]] = {}
        if engine is not None:
            self.set_tts_engine(engine)

    # -- wiring ----------------------------------------------------------------------

    def set_tts_engine(self, engine: object) -> None:
        """Use ``engine``: ``fn(text, **kwargs) -> bytes`` (sync or async) or an Engine.

        Raises TypeError if it is neither. Takes effect from the next synthesis.
        """
        self.engine_binding.use(engine, running_loop())

    def _use_engine(self, engine: Engine) -> None:
        if self._workers is not None:
            self._workers.use_engine(engine)

    @property
    def engine(self) -> Engine | None:
        """The engine in use (an EngineChain when built from the config), or None."""
        return self.engine_binding.engine

    def set_audio_sink(self, sink: Sink) -> None:
        """Play clips through ``sink`` from the next clip on."""
        if not isinstance(sink, Sink):
            raise TypeError(f"audio sink must subclass tts_core.sinks.Sink (play(clip, message, stop)); "
                            f"got {type(sink).__name__}")
        self._sink = sink
        self._own_sink = False
        if self._player is not None:
            self._player.use_sink(sink)

    def set_text_pipeline(self, pipeline: TextPipeline) -> None:
        self.text_pipeline = pipeline
        self._own_pipeline = False

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
        return self._bridge.run(self._start)

    def _start(self, loop: asyncio.AbstractEventLoop | None) -> None:
        with self._run_lock:
            if self._running:
                return
            try:
                self._start_parts(loop)
            except BaseException:
                self._close_parts()
                self.engine_binding.forget_built()
                raise

    def _start_parts(self, loop: asyncio.AbstractEventLoop | None) -> None:
        cfg = self.config
        engine = self.engine_binding.for_start(cfg, loop)
        check_configured_voice(engine, cfg.engine.voice)
        if self._sink is None:
            self._sink, self._own_sink = RealtimeSink(), True
        self._clips = ClipFiles()
        self.retention.attach(self._clips)
        if cfg.persist:
            self._open_journal()
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
            loudness=cfg.loudness,
        )
        self._workers.use_engine(engine)
        self._workers.start()
        self._player = Player(
            self.queue,
            self._sink,
            self._on_playback_started,
            self._on_playback_ended,
            cfg.pause_between_clips_ms,
            lambda msg: self.alerts.clip_for(msg, self._clips),
        )
        self._player.start()
        self._running = True
        self._started_at = time.monotonic()
        log.info(
            "TTS queue started: engine %s, sink %s, %d worker(s)",
            engine.name,
            self._sink.name,
            cfg.max_concurrent_workers,
        )

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> Awaitable[None]:
        """Stop every thread within ``timeout`` seconds. Pending messages stay pending
        (and journaled with ``persist``); a clip cut by the stop plays again next start.
        Every event published before it ends has been delivered to the subscribers.

        Like ``start()``: plain in a thread, a future on a running loop (the loop keeps
        running meanwhile; async engine calls in flight are cancelled)."""
        return self._bridge.run(lambda _loop: self._stop(timeout), last=True)

    def _stop(self, timeout: float) -> None:
        with self._run_lock:
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
        self.journal.close()
        self.retention.detach()
        if self._clips is not None:
            self._clips.cleanup()
            self._clips = None
        self.events.stop(max(0.1, deadline - time.monotonic()))
        self._player = None
        self._workers = None
        self._running = False

    def _open_journal(self) -> None:
        # Workers are not running yet; the sequence lock only holds off add_message.
        with self._seq_lock:
            recovered, next_seq = self.journal.open(journal_path(self.config), self.queue.snapshot())
            if next_seq is not None:
                self._seq = itertools.count(next_seq)
        self._recover_all(recovered)

    def _journal_reopened(self, recovered: list[TTSMessage], next_seq: int) -> None:
        """A journal that refused writes at the start takes them now: queue what it held."""
        with self._seq_lock:
            self._seq = itertools.count(max(next(self._seq), next_seq))
        self._recover_all(recovered)

    def _recover_all(self, recovered: list[TTSMessage]) -> None:
        """Queue the journal's messages. The one that was playing at a crash was not
        pending then, so it takes no place another accepted message needs: the queue
        holds one more while it waits to play again."""
        playing = sum(1 for m in recovered if (m.metadata or {}).get("recovered_playing"))
        with self.queue.cond:
            self.queue.max_size += playing
        try:
            for msg in recovered:
                self._recover(msg)
        finally:
            with self.queue.cond:
                self.queue.max_size -= playing

    def _recover(self, msg: TTSMessage) -> None:
        """Queue a message from the journal under the normal capacity rules."""
        try:
            evicted = self.queue.put(msg)
        except QueueFull:
            # The queue is smaller than the journal (max_queue_size was lowered): the
            # newest of what cannot fit is dropped, said so, and leaves the journal.
            log.warning("journal: message %s dropped on recovery: the queue is full (%d)", msg.id,
                        self.queue.max_size)
            with self.queue.ending():
                self.queue.record_dropped_on_arrival(msg)
                self.lifecycle.dropped(msg, "queue_full", recovered=True)
            return
        for victim in evicted:
            self.lifecycle.dropped(victim, "queue_full", recovered=True)
        self.lifecycle.accepted(msg, recovered=True)

    def reconfigure(self, config: TTSConfig) -> None:
        """Apply ``config`` everywhere as the queue runs: no restart, the clip that plays is not cut.

        Every part registered in ``settings`` takes it at once: the queue (rate limit,
        workers, retries, time-out, queue size, priority order, engine and voice, pause
        between clips, replay_keep, max_text_length, the journal), the event translator
        (moderation, ignored users, minimum amounts, templates, voices, priorities) and
        the listener (all but its address). Pending messages stay queued; lowering
        ``max_queue_size`` drops nothing already queued. If anything cannot apply
        (unknown voice, an engine that cannot start, an unusable data folder, a bad
        template), nothing changes anywhere and the error is raised (ConfigError/
        ValueError, EngineUnavailable, StorageError). Afterwards ``config`` is
        ``self.config``; it is not copied, so it must not be changed in place.
        """
        if not isinstance(config, TTSConfig):
            raise TypeError(f"reconfigure() takes a TTSConfig, got {type(config).__name__}")
        with self._run_lock:
            self.settings.apply(config)
        log.info("settings applied: %d worker(s), %s engine calls/min, queue size %d, engine %s%s",
                 config.max_concurrent_workers, config.rate_limit_per_minute or "unlimited",
                 config.max_queue_size, config.engine.name,
                 f", voice {config.engine.voice}" if config.engine.voice else "")

    def prepare_config(self, config: TTSConfig) -> Prepared:
        """The queue's part of ``reconfigure``: build the engine and journal ``config``
        needs (may raise); the commit swaps them in. Called by ``settings.apply``."""
        engine = self.engine_binding.prepare(self.config, config)
        try:
            current = engine or self.engine
            if self._running and current is not None:
                check_configured_voice(current, config.engine.voice)
            # From here to the commit, add_message waits: the journal may move.
            journal = self.journal.prepare_config(config, self._live) if self._running else None
        except BaseException:
            if engine is not None:
                engine.close()
            raise

        def discard() -> None:
            try:
                if journal is not None:
                    journal.discard()
            finally:
                if engine is not None:
                    engine.close()

        return Prepared(lambda: self._commit(config, engine, journal), discard)

    def _live(self) -> tuple[list[TTSMessage], TTSMessage | None]:
        """The pending messages and the one playing (what a journal must hold)."""
        return self.queue.snapshot(), self.queue.playing

    def _commit(self, config: TTSConfig, engine: Engine | None, journal: JournalChange | None) -> None:
        self.config = config
        if self._own_pipeline:
            self.text_pipeline = default_pipeline(config.max_text_length)
        if engine is not None:
            self.engine_binding.replace(engine)
        self.retention.apply_settings(config.replay_keep)
        if self._workers is not None:
            self._workers.apply_settings(config)
        self.queue.apply_settings(config.max_queue_size, config.enable_priority_queue,
                                  config.max_concurrent_workers)
        if self._player is not None:
            self._player.apply_settings(config.pause_between_clips_ms)
        if journal is not None:
            for msg in journal.commit():
                self._recover(msg)
            log.info("journal now %s", self.journal.path or "off")

    @property
    def alert_playing(self) -> bool:
        """An alert sound plays now and its message's speech comes right after it (a sink
        asking whether the next clip is ready at the alert's end)."""
        player = self._player
        return player is not None and player.speech_follows

    def wait_until_idle(self, timeout: float = 60.0) -> bool:
        """Block until nothing is pending or playing; False if ``timeout`` ran out.

        By then every message's end is journaled and its event published, so
        ``events.flush()`` afterwards delivers all of them."""
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

        An empty ``text`` is allowed only with an alert sound in ``metadata`` (``{"alert":
        {"file": ..., "volume": ...}}``, what the event translator puts there): the message
        plays its alert and says nothing.

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
        alert_only = not text.strip() and has_alert(metadata)
        if not text.strip() and not alert_only:
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
            msg.text = "" if alert_only else self.text_pipeline.clean(text)
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
            self.lifecycle.rejected_on_arrival(msg, reason=reason, error=msg.error)
            return msg.id
        return self._enqueue(msg)

    @contextlib.contextmanager
    def adding_together(self) -> Iterator[dict[str, StorageError]]:
        """Journal the messages added in the block with one write instead of one each
        (the listener's command thread uses it for the frames that arrive together).

        Yields a dict that, after the block, maps the id of every message the journal
        could not write after all to the StorageError: those messages are taken back
        out of the queue (a ``dropped`` event with the error's code as ``reason``), so
        the caller answers them as refused. One thread per block; other threads'
        journal writes wait until it ends.
        """
        refused: dict[str, StorageError] = {}
        with self.journal.together() as unwritten:
            yield refused
        if unwritten.error is None:
            return
        ids = {m.id for m in unwritten.messages}
        dropped, _ = self.remove_where(lambda m: m.id in ids, unwritten.error.code)
        for msg_id in dropped:
            refused[msg_id] = unwritten.error
        gone = ids - set(dropped)  # already playing or ended: they were accepted after all
        if gone:
            log.warning("journal: %d message(s) play or ended although their rows could not be written: %s",
                        len(gone), unwritten.error)

    def _enqueue(self, msg: TTSMessage) -> str:
        evicted = self.journal.admit(msg, self.queue.put)
        for victim in evicted:
            self.lifecycle.dropped(victim, "queue_full")
        self.lifecycle.accepted(msg, held=msg.state is MessageState.HELD)
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
        with self.queue.ending():
            removed = self.queue.remove_all()
            for msg in removed:
                self.lifecycle.dropped(msg, "cleared")
        return len(removed)

    def remove(self, message_id: str) -> bool:
        """Drop one pending message; False if it is not pending."""
        msg = self.queue.get(message_id)
        with self.queue.ending():
            if msg is None or not self.queue.finish(msg, MessageState.DROPPED):
                return False
            self.lifecycle.dropped(msg, "removed")
        return True

    def remove_where(self, predicate: Callable[[TTSMessage], bool], reason: str,
                     skip_playing: bool = False) -> tuple[list[str], str | None]:
        """Drop every pending or held message ``predicate`` accepts (``dropped`` events
        with ``reason``); with ``skip_playing``, also cut the clip playing now if it
        matches. Returns (dropped ids, skipped id or None)."""
        with self.queue.ending():
            removed = self.queue.remove_where(predicate)
            for msg in removed:
                self.lifecycle.dropped(msg, reason)
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
        self.lifecycle.rejected_on_arrival(msg, reason=reason, **extra)
        return msg.id

    def reject(self, message_id: str) -> bool:
        """A moderator refuses a pending (typically held) message."""
        msg = self.queue.get(message_id)
        with self.queue.ending():
            if msg is None or not self.queue.finish(msg, MessageState.REJECTED):
                return False
            self.lifecycle.ended(msg, Outcome.REJECTED, reason="moderator")
        return True

    def approve(self, message_id: str) -> bool:
        """A moderator lets a message that needs approval play; False if not held."""
        msg = self.queue.approve(message_id)
        if msg is None:
            return False
        self.lifecycle.approved(msg)
        return True

    def replay(self, message_id: str | None = None) -> str:
        """Play a recently played clip again, next (URGENT). Returns the new message id.

        Raises LookupError if that clip is no longer kept (see ``replay_keep``).
        """
        original = self.retention.for_replay(message_id)
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

    # -- worker / player callbacks -----------------------------------------------------

    def _on_synthesis_failed(self, msg: TTSMessage, error: str) -> None:
        with self.queue.ending():
            if self.queue.finish(msg, MessageState.FAILED):
                self.lifecycle.ended(msg, Outcome.FAILED, error=error, attempts=msg.attempts)

    def _on_playback_started(self, msg: TTSMessage) -> None:
        self.lifecycle.started(msg, (time.monotonic() - msg.enqueued_mono) * 1000)

    def _on_playback_ended(self, msg: TTSMessage, skipped: bool, error: str | None, played_ms: int) -> None:
        with self.queue.ending():
            if error is not None:
                self.queue.end_playback_failed(msg)
                self.lifecycle.ended(msg, Outcome.FAILED, error=error, attempts=msg.attempts)
                return
            self.queue.end_playback(msg, skipped)
            self.lifecycle.ended(msg, Outcome.SKIPPED if skipped else Outcome.PLAYED, duration_ms=played_ms)

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
        stats["latency_ms"] = self.statistics.latency_ms()
        stats["paused"] = self.paused
        stats["enabled"] = self.enabled
        stats["running"] = self._running
        stats["now_playing"] = self._player.current.id if self._player and self._player.current else None
        stats["player_state"] = self._player.state if self._player else "stopped"
        stats["waiting_for_sink"] = self._player.waiting_for_sink if self._player else None
        stats["uptime_s"] = round(time.monotonic() - self._started_at, 1) if self._running else 0.0
        engine = self.engine
        # "" when all is well; else which engine is down, why, and who speaks instead
        stats["engine"] = {"name": engine.name, "status": engine.status()} if engine is not None else None
        stats["connectors"] = {name: report() for name, report in list(self.connector_reports.items())}
        stats["alert_sounds_refused"] = list(self.alerts.refused)
        stats.update(self.journal.health())  # journal_state, journal_error, journal_unwritten_ends
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
