"""Synthesis workers: look-ahead, rate limit, time-outs, restarts (retries: tts_core.domain.retries).

``max_concurrent_workers`` threads synthesize the next messages in playback order
while one clip plays. A supervisor thread times out hung engine calls (the message is
retried by another worker; the hung thread is abandoned) and restarts workers that
died, so nothing stalls the queue.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tts_core.audio.leveller import Leveller
from tts_core.config import EngineConfig, LoudnessConfig, TTSConfig
from tts_core.domain.audio import Clip, silent_wav
from tts_core.domain.message import TTSMessage
from tts_core.domain.retries import RetryPolicy
from tts_core.domain.token_bucket import TokenBucket
from tts_core.engines.base import Engine, EngineError, TransientEngineError
from tts_core.runtime.message_queue import MessageQueue
from tts_core.storage.clip_files import ClipFiles

log = logging.getLogger(__name__)

SUPERVISOR_TICK_SECONDS = 0.05
CLAIM_WAIT_SECONDS = 0.25
MAX_STUCK_THREADS = 8  # abandoned engine threads at most; then workers wait for them

FailureHandler = Callable[[TTSMessage, str], None]


@dataclass
class _Slot:
    index: int
    thread: threading.Thread | None = None
    current: TTSMessage | None = None
    call_started: float | None = None
    abandoned: bool = False
    retired: bool = False  # fewer workers configured: ends after its current message


class WorkerPool:
    """Parameters: ``queue``, ``count`` (threads, also the look-ahead window),
    ``engine_settings`` (default voice/rate/volume), ``bucket`` (rate limit),
    ``clips`` (where clips are written), ``max_retries``, ``backoff`` (first retry
    delay in seconds), ``timeout`` (seconds per engine call), ``on_failed`` (called
    with a message that failed for good and the reason), ``loudness`` (every clip brought to
    one loudness, tts_core.audio.leveller)."""

    def __init__(
        self,
        queue: MessageQueue,
        count: int,
        engine_settings: EngineConfig,
        bucket: TokenBucket,
        clips: ClipFiles,
        max_retries: int,
        backoff: float,
        timeout: float,
        on_failed: FailureHandler,
        abandoned: list[threading.Thread] | None = None,
        loudness: LoudnessConfig | None = None,
    ) -> None:
        self.queue = queue
        self.count = count
        self.engine: Engine | None = None
        self.settings = engine_settings
        self.bucket = bucket
        self.clips = clips
        self.retries = RetryPolicy(max_retries, backoff)
        self.timeout = timeout
        self.on_failed = on_failed
        self.leveller = Leveller(loudness)
        self._counters = queue.counters
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._slots: list[_Slot] = []
        self._supervisor: threading.Thread | None = None
        # Threads left stuck in an engine call (time-out or stop); shared across restarts.
        self.abandoned: list[threading.Thread] = [] if abandoned is None else abandoned
        self._short_warned = False
        self._retired: list[_Slot] = []

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self._slots = [self._spawn(_Slot(i)) for i in range(self.count)]
        self._supervisor = threading.Thread(target=self._supervise, name="tts-supervisor", daemon=True)
        self._supervisor.start()

    def stop(self, timeout: float) -> None:
        """Stop all threads; a thread stuck in an engine call is abandoned after ``timeout``.

        Engine calls in flight are cancelled where the engine can (``Engine.cancel_all``,
        e.g. async functions); whatever a call returns after this point is thrown away.
        """
        self._stopping.set()
        with self._lock:
            for slot in [*self._slots, *self._retired]:
                slot.abandoned = True  # a call that returns now writes nothing
        cancelled = self.engine.cancel_all() if self.engine is not None else 0
        if cancelled:
            log.info("cancelled %d engine call(s) in flight", cancelled)
        deadline = time.monotonic() + timeout
        threads = [s.thread for s in [*self._slots, *self._retired] if s.thread]
        for thread in [*threads, self._supervisor]:
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [t for t in threads if t.is_alive()]
        if stuck:
            self.abandoned.extend(stuck)
            log.warning("abandoned %d worker thread(s) stuck in the engine: %s (%d abandoned in all)",
                        len(stuck), ", ".join(t.name for t in stuck), self.stuck_threads())
        self._slots, self._retired = [], []

    def use_engine(self, engine: Engine) -> None:
        """Synthesize with ``engine`` from the next engine call on."""
        self.engine = engine

    def apply_settings(self, config: TTSConfig) -> None:
        """Take ``config`` live: the supervisor adds workers or retires the extra ones
        (each ends after its current message); voice, rate, retries and time-out apply
        to the next engine call."""
        self.settings = config.engine
        self.bucket.configure(config.rate_limit_per_minute, config.rate_limit_burst)
        self.retries = RetryPolicy(config.max_retries, config.retry_backoff_seconds)
        self.timeout = config.engine_timeout_seconds
        self.count = config.max_concurrent_workers
        self.leveller.apply_settings(config.loudness)

    def _resize(self) -> None:
        """On the supervisor thread: as many worker slots as ``count`` says."""
        while len(self._slots) < self.count and not self._stopping.is_set():
            self._slots.append(self._replacement(len(self._slots)))
        while len(self._slots) > self.count:
            slot = self._slots.pop()
            slot.retired = True
            self._retired.append(slot)
        self._retired = [s for s in self._retired if s.thread is not None and s.thread.is_alive()]

    def stuck_threads(self) -> int:
        """Abandoned threads still inside an engine call."""
        self.abandoned[:] = [t for t in self.abandoned if t.is_alive()]
        return len(self.abandoned)

    def active_workers(self) -> int:
        return sum(1 for s in self._slots if s.thread is not None and s.thread.is_alive() and not s.abandoned)

    def busy_workers(self) -> int:
        return sum(1 for s in self._slots if s.current is not None and not s.abandoned)

    def _spawn(self, slot: _Slot) -> _Slot:
        slot.thread = threading.Thread(
            target=self._run, args=(slot,), name=f"tts-worker-{slot.index}", daemon=True
        )
        slot.thread.start()
        return slot

    # -- worker -----------------------------------------------------------------

    def _run(self, slot: _Slot) -> None:
        try:
            while not self._stopping.is_set() and not slot.abandoned and not slot.retired:
                msg = self._next_message()
                if msg is None:
                    continue
                slot.current = msg
                self._synthesize(slot, msg)
                slot.current = None
        except BaseException:
            log.exception("worker %d died; the supervisor restarts it", slot.index)
            with self._lock:
                slot.call_started = None
            msg = slot.current
            if msg is not None and not slot.abandoned:
                self.queue.release_claim(msg)

    def _next_message(self) -> TTSMessage | None:
        """The next message to synthesize, with its rate-limit token already taken.

        The token comes first and the claim second, so the token always goes to the
        highest-priority, earliest eligible message at the moment it is available.
        """
        if not self.queue.wait_until_claimable(self.count, CLAIM_WAIT_SECONDS):
            return None
        if not self.bucket.acquire(cancel=self._stopping):
            return None
        msg = self.queue.claim(self.count)
        if msg is None:
            self.bucket.refund()  # another worker took it meanwhile
        return msg

    def _synthesize(self, slot: _Slot, msg: TTSMessage) -> None:
        if not msg.text:  # an alert-only message (tts_core.runtime.alerts): nothing to say
            self.bucket.refund()
            self._ready(msg, Clip.from_bytes(silent_wav(0)))
            return
        engine = self.engine
        if engine is None:
            self.queue.release_claim(msg, time.monotonic() + 0.5)
            return
        msg.attempts += 1
        self._counters.add("engine_calls")
        with self._lock:
            slot.call_started = time.monotonic()
        clip: Clip | None = None
        failure: BaseException | None = None
        try:
            clip = self.render(engine, msg)
        except Exception as exc:  # noqa: BLE001 - the retry policy decides what it means
            failure = exc
        with self._lock:
            slot.call_started = None
            if slot.abandoned:
                return  # the supervisor timed this call out and already handled the message
        if clip is not None:
            self._ready(msg, clip)
            return
        self._retry_or_fail(msg, failure or EngineError("the engine returned nothing"))

    def _ready(self, msg: TTSMessage, clip: Clip) -> None:
        written = self.clips.write(msg.id, clip)
        if written is None:
            return  # the queue stopped: the clip folder is gone
        if not self.queue.mark_ready(msg, written):
            self.clips.discard(written)  # skipped, cleared or evicted meanwhile

    def render(self, engine: Engine, msg: TTSMessage) -> Clip:
        """Synthesize one message with one engine: the only place an engine is called
        (the chain adds fallback engines and the clip cache), then the clip brought to the
        loudness target. Raises what the engine raises."""
        data = engine.synthesize_message(
            msg,
            voice=msg.voice or self.settings.voice,
            rate=self.settings.rate,
            volume=self.settings.volume,
            counters=self._counters,
        )
        return self.leveller.level(Clip.from_bytes(data), self.settings.volume, msg.id)

    def _retry_or_fail(self, msg: TTSMessage, error: BaseException) -> None:
        verdict = self.retries.after_failure(error, msg.attempts)
        msg.error = verdict.error
        if not verdict.retry:
            log.warning("message %s failed after %d attempt(s): %s", msg.id, msg.attempts, verdict.error)
            self.on_failed(msg, verdict.error)
            return
        log.info("message %s attempt %d failed (%s); retry in %.2f s",
                 msg.id, msg.attempts, verdict.error, verdict.delay)
        if self.queue.release_claim(msg, time.monotonic() + verdict.delay):
            self._counters.add("retried")

    # -- supervisor ---------------------------------------------------------------

    def _supervise(self) -> None:
        while not self._stopping.wait(SUPERVISOR_TICK_SECONDS):
            if len(self._slots) != self.count or self._retired:
                self._resize()
            now = time.monotonic()
            for i, slot in enumerate(self._slots):
                timed_out = None
                with self._lock:
                    started = slot.call_started
                    if started is not None and now - started > self.timeout and not slot.abandoned:
                        slot.abandoned = True
                        timed_out = slot.current
                if timed_out is not None:
                    self._counters.add("engine_timeouts")
                    log.warning(
                        "worker %d: engine call for %s timed out after %g s", i, timed_out.id, self.timeout
                    )
                    if slot.thread is not None:
                        self.abandoned.append(slot.thread)
                    self._slots[i] = self._replacement(i)
                    self._retry_or_fail(
                        timed_out, TransientEngineError(f"engine timed out after {self.timeout:g} s")
                    )
                elif slot.thread is None and not self._stopping.is_set():
                    self._slots[i] = self._replacement(i)  # waiting for a stuck thread to end
                elif slot.thread is not None and not slot.thread.is_alive() and not self._stopping.is_set():
                    self._counters.add("worker_restarts")
                    self._slots[i] = self._spawn(_Slot(i))

    def _replacement(self, index: int) -> _Slot:
        """A new worker for a slot, unless MAX_STUCK_THREADS threads hang in the engine
        already: then the slot stays empty until one of them returns (threads are bounded)."""
        if self.stuck_threads() < MAX_STUCK_THREADS:
            self._short_warned = False
            return self._spawn(_Slot(index))
        if not self._short_warned:
            self._short_warned = True
            log.warning("%d engine calls are stuck; worker %d waits until one of them returns",
                        len(self.abandoned), index)
        return _Slot(index)
