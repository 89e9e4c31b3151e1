"""Hand work to OBS's graphics thread: a queue drained by an ``obs.timer_add`` callback.

obspython may only be called from OBS's own threads (docs/architecture.md, section 4), so the
player, workers and listener never call it: they ``post`` a function here, and the
script's timer callback calls ``run`` once per video frame, which runs the queued
functions for at most ``budget_ms`` and returns.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from tts_core.runtime.statistics import percentile

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BUDGET_MS = 0.5
TIMINGS_KEPT = 10_000
Job = Callable[[], object]


class Pump:
    """Parameters: ``budget_ms`` (time one ``run`` may spend before it leaves the rest
    for the next frame; the first job always runs)."""

    def __init__(self, budget_ms: float = DEFAULT_BUDGET_MS) -> None:
        self.budget_s = budget_ms / 1000.0
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._tick_hooks: list[Job] = []
        self.runs = 0
        self.durations: list[float] = []  # seconds per run, the last TIMINGS_KEPT

    def post(self, job: Job) -> None:
        """Run ``job()`` on the next frame (safe from any thread)."""
        self._jobs.put(job)

    def call(self, job: Callable[[], T], timeout: float = 2.0) -> T:
        """Run ``job()`` on OBS's thread and return its result; never call from an OBS thread.

        Raises TimeoutError when no frame ran it within ``timeout`` seconds.
        """
        future: Future[T] = Future()

        def run() -> None:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(job())
                except BaseException as exc:  # noqa: BLE001 - handed to the caller
                    future.set_exception(exc)

        self.post(run)
        try:
            return future.result(timeout)
        except (TimeoutError, FutureTimeout):  # one class from Python 3.11
            future.cancel()
            raise TimeoutError(f"OBS did not run the request within {timeout:g} s") from None

    def on_tick(self, hook: Job) -> None:
        """Call ``hook()`` at the start of every ``run`` (keep it to microseconds)."""
        self._tick_hooks.append(hook)

    @property
    def pending(self) -> int:
        return self._jobs.qsize()

    def run(self) -> int:
        """Run tick hooks, then queued jobs until the queue is empty or the budget is spent."""
        self.runs += 1
        started = time.perf_counter()
        for hook in self._tick_hooks:
            _guarded(hook)
        done = self._drain(started + self.budget_s)
        if len(self.durations) >= TIMINGS_KEPT:
            del self.durations[: TIMINGS_KEPT // 2]
        self.durations.append(time.perf_counter() - started)
        return done

    def timing_summary(self) -> str:
        """"N frames: median, p99 and max time per run" for the log."""
        runs = sorted(self.durations)
        if not runs:
            return "no frames"
        p99 = percentile(runs, 99)
        return (f"{self.runs} frames: median {runs[len(runs) // 2] * 1e6:.0f} us, p99 {p99 * 1e6:.0f} us, "
                f"max {runs[-1] * 1e6:.0f} us")

    def run_all(self, limit: int = 1000) -> int:
        """Run everything queued now (at unload, on OBS's UI thread, after the timer is gone)."""
        return self._drain(None, limit)

    def _drain(self, deadline: float | None, limit: int | None = None) -> int:
        """Run queued jobs until none is left, ``limit`` ran, or ``deadline`` (perf_counter) passed."""
        done = 0
        while limit is None or done < limit:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            _guarded(job)
            done += 1
            if deadline is not None and time.perf_counter() > deadline:
                break
        return done


def _guarded(job: Job) -> None:
    try:
        job()
    except Exception:  # one failing job must not stop OBS's frame
        log.exception("OBS job %r failed", job)


