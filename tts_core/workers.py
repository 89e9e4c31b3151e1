"""Synthesis workers: look-ahead, rate limit, retries with backoff, time-outs, restarts.

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

from tts_core.audio import AudioFormatError, Clip
from tts_core.clips import ClipFiles
from tts_core.config import EngineConfig
from tts_core.engines.base import Engine
from tts_core.fallback import synthesize_message
from tts_core.message import MessageState, TTSMessage
from tts_core.queue import MessageQueue
from tts_core.ratelimit import TokenBucket

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0
SUPERVISOR_TICK_SECONDS = 0.05
CLAIM_WAIT_SECONDS = 0.25

FailureHandler = Callable[[TTSMessage, str], None]


@dataclass
class _Slot:
    index: int
    thread: threading.Thread | None = None
    current: TTSMessage | None = None
    call_started: float | None = None
    abandoned: bool = False


class WorkerPool:
    """Parameters: ``queue``, ``count`` (threads, also the look-ahead window),
    ``engine_settings`` (default voice/rate/volume), ``bucket`` (rate limit),
    ``clips`` (where clips are written), ``max_retries``, ``backoff`` (first retry
    delay in seconds), ``timeout`` (seconds per engine call), ``on_failed`` (called
    with a message that failed for good and the reason)."""

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
    ) -> None:
        self.queue = queue
        self.count = count
        self.engine: Engine | None = None
        self.settings = engine_settings
        self.bucket = bucket
        self.clips = clips
        self.max_retries = max_retries
        self.backoff = backoff
        self.timeout = timeout
        self.on_failed = on_failed
        self._counters = queue.counters
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._slots: list[_Slot] = []
        self._supervisor: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self._slots = [self._spawn(_Slot(i)) for i in range(self.count)]
        self._supervisor = threading.Thread(target=self._supervise, name="tts-supervisor", daemon=True)
        self._supervisor.start()

    def stop(self, timeout: float) -> None:
        """Stop all threads; a thread stuck in an engine call is abandoned after ``timeout``."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        threads = [s.thread for s in self._slots if s.thread] + [self._supervisor]
        for thread in threads:
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [t.name for t in threads if t is not None and t.is_alive()]
        if stuck:
            log.warning("abandoned worker thread(s) stuck in the engine: %s", ", ".join(stuck))
        self._slots = []

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
            while not self._stopping.is_set() and not slot.abandoned:
                msg = self.queue.wait_for_synthesis_work(self.count, CLAIM_WAIT_SECONDS)
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

    def _synthesize(self, slot: _Slot, msg: TTSMessage) -> None:
        if not self.bucket.acquire(cancel=self._stopping):
            self.queue.release_claim(msg)
            return
        if msg.state is not MessageState.SYNTHESIZING:
            return  # skipped, cleared or evicted while waiting for the rate limit
        engine = self.engine
        if engine is None:
            self.queue.release_claim(msg, time.monotonic() + 0.5)
            return
        msg.attempts += 1
        self._counters.add("engine_calls")
        with self._lock:
            slot.call_started = time.monotonic()
        clip: Clip | None = None
        error: str | None = None
        permanent = False
        try:
            data = synthesize_message(  # through the fallback chain and clip cache, if any
                engine,
                msg,
                voice=msg.voice or self.settings.voice,
                rate=self.settings.rate,
                volume=self.settings.volume,
                counters=self._counters,
            )
            clip = Clip.from_bytes(data)
        except AudioFormatError as exc:
            error, permanent = f"engine returned unplayable audio: {exc}", True
        except Exception as exc:  # noqa: BLE001 - any engine error is retried, then failed
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            slot.call_started = None
            if slot.abandoned:
                return  # the supervisor timed this call out and already handled the message
        if clip is not None:
            clip = self.clips.write(msg.id, clip)
            if not self.queue.mark_ready(msg, clip):
                self.clips.discard(clip)  # skipped, cleared or evicted meanwhile
            return
        self._retry_or_fail(msg, error or "unknown error", permanent)

    def _retry_or_fail(self, msg: TTSMessage, error: str, permanent: bool = False) -> None:
        msg.error = error
        if permanent or msg.attempts > self.max_retries:
            log.warning("message %s failed after %d attempt(s): %s", msg.id, msg.attempts, error)
            self.on_failed(msg, error)
            return
        delay = min(MAX_BACKOFF_SECONDS, self.backoff * 2 ** (msg.attempts - 1))
        log.info("message %s attempt %d failed (%s); retry in %.2f s", msg.id, msg.attempts, error, delay)
        if self.queue.release_claim(msg, time.monotonic() + delay):
            self._counters.add("retried")

    # -- supervisor ---------------------------------------------------------------

    def _supervise(self) -> None:
        while not self._stopping.wait(SUPERVISOR_TICK_SECONDS):
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
                    self._slots[i] = self._spawn(_Slot(i))
                    self._retry_or_fail(timed_out, f"engine timed out after {self.timeout:g} s")
                elif slot.thread is not None and not slot.thread.is_alive() and not self._stopping.is_set():
                    self._counters.add("worker_restarts")
                    self._slots[i] = self._spawn(_Slot(i))
