"""The single playback thread: one clip at a time, in playback order, through the sink."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from tts_core.message import TTSMessage
from tts_core.queue import MessageQueue
from tts_core.sinks.base import Sink

log = logging.getLogger(__name__)

TAKE_WAIT_SECONDS = 0.25


class Player:
    """Parameters: ``queue``, ``sink`` (replaceable between clips), ``on_started(msg)``,
    ``on_ended(msg, skipped, error, played_ms)``, ``pause_between_ms``."""

    def __init__(
        self,
        queue: MessageQueue,
        sink: Sink,
        on_started: Callable[[TTSMessage], None],
        on_ended: Callable[[TTSMessage, bool, str | None, int], None],
        pause_between_ms: int = 0,
    ) -> None:
        self.queue = queue
        self.sink = sink
        self.on_started = on_started
        self.on_ended = on_ended
        self.pause_between_ms = pause_between_ms
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._current: tuple[TTSMessage, threading.Event] | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="tts-player", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self._stopping.set()
        self.skip()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("player thread did not stop within %.1f s (sink %s)", timeout, self.sink.name)
            self._thread = None

    @property
    def current(self) -> TTSMessage | None:
        current = self._current
        return current[0] if current else None

    def skip(self) -> TTSMessage | None:
        """Cut the clip that is playing; returns its message, or None if silent."""
        with self._lock:
            if self._current is None:
                return None
            msg, stop = self._current
            stop.set()
            return msg

    def _run(self) -> None:
        while not self._stopping.is_set():
            msg = self.queue.take_next_to_play(TAKE_WAIT_SECONDS)
            if msg is None:
                continue
            try:
                self._play(msg)
            except Exception:
                log.exception("player: unexpected error around message %s", msg.id)
            if self.pause_between_ms and not self._stopping.is_set():
                self._stopping.wait(self.pause_between_ms / 1000.0)

    def _play(self, msg: TTSMessage) -> None:
        stop = threading.Event()
        with self._lock:
            self._current = (msg, stop)
        started = time.monotonic()
        error = None
        try:
            self.on_started(msg)
            self.sink.play(msg.clip, msg, stop)
        except Exception as exc:  # noqa: BLE001 - a sink error fails this message only
            error = f"{type(exc).__name__}: {exc}"
            log.warning("sink %s could not play %s: %s", self.sink.name, msg.id, error)
        finally:
            with self._lock:
                self._current = None
        played_ms = round((time.monotonic() - started) * 1000)
        if stop.is_set() and self._stopping.is_set() and error is None:
            self.queue.requeue_interrupted(msg)  # shutdown cut it: it plays again next start
            return
        self.on_ended(msg, stop.is_set(), error, played_ms)
