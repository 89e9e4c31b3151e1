"""The single playback thread: one clip at a time, in playback order, through the sink."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tts_core.domain.audio import Clip
from tts_core.domain.message import TTSMessage
from tts_core.runtime.message_queue import MessageQueue
from tts_core.sinks.base import Cue, Sink, SinkUnavailable, StartDecision

log = logging.getLogger(__name__)

TAKE_WAIT_SECONDS = 0.25
SINK_RETRY_FIRST_SECONDS = 0.25  # the sink is away: look again after this, doubling
SINK_RETRY_MAX_SECONDS = 5.0


@dataclass
class AlertSlot:
    """A message's alert sound plays now and its speech follows in the same slot.
    ``speech``: the speech's cue until a sink that ``cues_next`` takes it (None for an
    alert-only message, or once taken); ``alert_playing``: the alert itself is still
    heard (the next message is cued only after the speech)."""

    speech: Cue | None
    speech_follows: bool
    alert_playing: bool = True


class Player:
    """Parameters: ``queue``, ``sink`` (replaceable between clips: ``use_sink``),
    ``on_started(msg)``, ``on_ended(msg, skipped, error, played_ms)``,
    ``pause_between_ms`` (``apply_settings``), ``alert_for(msg)`` (the message's alert
    clip or None; see ``_play_slot``).

    Gapless hand-over: a sink that ``cues_next`` asks ``next_up`` near the end of a clip;
    the player takes the next message out early (``MessageQueue.take_upcoming``) and hands
    its clip over as a ``Cue``, which the sink starts the moment the playing clip ends.
    The player still records that end first and the next start after it (events, stats,
    journal in that order); a pause, Clear, Remove or a message that must play first
    withdraws the cue until the sink starts it; Skip cuts the clip that is heard."""

    def __init__(
        self,
        queue: MessageQueue,
        sink: Sink,
        on_started: Callable[[TTSMessage], None],
        on_ended: Callable[[TTSMessage, bool, str | None, int], None],
        pause_between_ms: int = 0,
        alert_for: Callable[[TTSMessage], Clip | None] | None = None,
    ) -> None:
        self.queue = queue
        self.sink = sink
        self.on_started = on_started
        self.on_ended = on_ended
        self.pause_between_ms = pause_between_ms
        self.alert_for = alert_for
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._current: tuple[TTSMessage, threading.Event] | None = None
        self._thread: threading.Thread | None = None
        self.waiting_for_sink: str | None = None  # why the sink is away, while it is
        self._waiting_since = 0.0
        self._retry_in = SINK_RETRY_FIRST_SECONDS
        self._lost_in_play = False  # the last loss came from play(), not from the probe
        self._cue: Cue | None = None  # the next message, handed to the sink before this clip's end
        self._slot: AlertSlot | None = None  # an alert and its speech are playing
        self._install(sink)

    def _install(self, sink: Sink) -> None:
        if sink.cues_next:
            sink.next_up = self._next_up

    def apply_settings(self, pause_between_ms: int) -> None:
        """Wait ``pause_between_ms`` between clips, from the next clip on."""
        self.pause_between_ms = pause_between_ms

    def use_sink(self, sink: Sink) -> None:
        """Play through ``sink`` from the next clip on."""
        self.sink = sink
        self._install(sink)

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="tts-player", daemon=True)
        self._thread.start()

    def stop(self, timeout: float) -> None:
        self._stopping.set()
        self.queue.withdraw_upcoming()
        self.skip()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("player thread did not stop within %.1f s (sink %s)", timeout, self.sink.name)
            self._thread = None

    @property
    def speech_follows(self) -> bool:
        """An alert plays and its message's speech comes right after (until the slot ends,
        not only the alert: a sink that asks at the alert's end must hear yes)."""
        slot = self._slot
        return slot is not None and slot.speech_follows

    @property
    def current(self) -> TTSMessage | None:
        current = self._current
        return current[0] if current else None

    def skip(self) -> TTSMessage | None:
        """Cut the clip that is playing; returns its message, or None if silent."""
        with self._lock:
            cue = self._cue
            if cue is not None and cue.decision.started:  # the sink started it: that one is heard
                cue.stop.set()
                return cue.message
            if self._current is None:
                return None
            msg, stop = self._current
            stop.set()
            return msg

    @property
    def state(self) -> str:
        """What the player is doing, in the streamer's words: idle, playing, paused,
        waiting for OBS (or another sink), stopped."""
        if self._thread is None:
            return "stopped"
        if self.waiting_for_sink is not None:
            return f"waiting for {self.sink.label}"
        if self._current is not None:
            return "playing"
        return "paused" if self.queue.paused else "idle"

    def _run(self) -> None:
        while not self._stopping.is_set():
            if self._sink_away():
                self._stopping.wait(self._retry_in)
                self._retry_in = min(self._retry_in * 2, SINK_RETRY_MAX_SECONDS)
                continue
            msg = self.queue.take_next_to_play(TAKE_WAIT_SECONDS)
            if msg is None:
                continue
            self._guarded_play(msg, threading.Event(), cued=False)
            while self._cue is not None:  # handed to the sink before that clip's end
                cue, self._cue = self._cue, None
                if not self.queue.settle_upcoming(cue.message):
                    break  # withdrawn (pause, Clear, Remove, a message before it): not started
                self._guarded_play(cue.message, cue.stop, cued=True)
            if self.pause_between_ms and not self._stopping.is_set():
                self._stopping.wait(self.pause_between_ms / 1000.0)

    def _guarded_play(self, msg: TTSMessage, stop: threading.Event, cued: bool) -> None:
        try:
            self._play(msg, stop, cued)
        except Exception:
            log.exception("player: unexpected error around message %s", msg.id)

    def _next_up(self) -> Cue | None:
        """Asked by a sink that ``cues_next``, on this thread inside ``play``, near the end
        of a clip: the clip to start the moment it ends, or None."""
        slot = self._slot
        if slot is not None and slot.speech is not None:  # the alert's speech
            cue, slot.speech = slot.speech, None
            return cue
        if (self._cue is not None or (slot is not None and slot.alert_playing) or self.pause_between_ms
                or self._stopping.is_set()):
            return None
        start = StartDecision()
        msg = self.queue.take_upcoming(start)
        if msg is None:
            return None
        msg.alert = self._alert_of(msg)
        first = msg.alert or (msg.clip if _says_something(msg) else None)
        self._cue = Cue(first, msg, threading.Event(), start)
        return self._cue

    def _play(self, msg: TTSMessage, stop: threading.Event, cued: bool) -> None:
        with self._lock:
            self._current = (msg, stop)
        if self._stopping.is_set():
            stop.set()  # started by the sink as the player stopped: cut, and it plays again next start
        started = time.monotonic()
        error = away = None
        try:
            if not cued:
                msg.alert = self._alert_of(msg)
            self.on_started(msg)
            self._play_slot(msg, stop)
        except SinkUnavailable as exc:  # the player is away, not the clip at fault
            away = str(exc) or f"{self.sink.name} is not available"
        except Exception as exc:  # noqa: BLE001 - a sink error fails this message only
            error = f"{type(exc).__name__}: {exc}"
            log.warning("sink %s could not play %s: %s", self.sink.name, msg.id, error)
        finally:
            with self._lock:
                self._current = None
        played_ms = round((time.monotonic() - started) * 1000)
        if away is not None and not (stop.is_set() and not self._stopping.is_set()):
            self.queue.requeue_interrupted(msg)  # first in line again once the sink is back
            self._sink_lost(away, msg)
            self._lost_in_play = True  # until the sink's own probe or a clip says otherwise
            self._stopping.wait(self._retry_in)
            self._retry_in = min(self._retry_in * 2, SINK_RETRY_MAX_SECONDS)
            return
        if error is None:
            self._sink_back()
        if stop.is_set() and self._stopping.is_set() and error is None:
            self.queue.requeue_interrupted(msg)  # shutdown cut it: it plays again next start
            return
        self.on_ended(msg, stop.is_set(), error, played_ms)

    def _alert_of(self, msg: TTSMessage) -> Clip | None:
        if self.alert_for is None:
            return None
        try:
            return self.alert_for(msg)
        except Exception:  # an alert never fails its message
            log.exception("player: alert sound of %s not played", msg.id)
            return None

    def _play_slot(self, msg: TTSMessage, stop: threading.Event) -> None:
        """One message's slot: its alert sound (``msg.alert``, if any), then its speech, back
        to back on this thread, so nothing (not even an URGENT message) plays between them;
        a skip during the alert skips both. An alert-only message has a 0 ms speech clip."""
        alert = msg.alert
        speech = msg.clip
        says_something = _says_something(msg)
        if alert is None:
            if says_something:
                self.sink.play(speech, msg, stop)
            return
        speech_cue = Cue(speech, msg, stop) if says_something else None
        slot = self._slot = AlertSlot(speech_cue, speech_follows=says_something)
        try:
            self.sink.play(alert, msg, stop)
            slot.alert_playing = False
            if says_something and not stop.is_set():
                self.sink.play(speech, msg, stop)
        finally:
            self._slot = None
            if speech_cue is not None:
                speech_cue.decision.withdraw()  # never started later by itself

    # -- the sink going away and coming back ----------------------------------------

    def _sink_away(self) -> bool:
        """True while the sink says it cannot play (``unavailable_reason()``), checked once
        per back-off step. After a clip cut by SinkUnavailable, "no reason" may only mean
        the sink cannot tell: then the next clip that plays says it is back."""
        try:
            reason = self.sink.unavailable_reason()
        except Exception as exc:  # noqa: BLE001 - a broken probe must not stop the player
            reason = f"{type(exc).__name__}: {exc}"
        if reason:
            self._lost_in_play = False
            self._sink_lost(reason)
            return True
        if not self._lost_in_play:
            self._sink_back()
        return False

    def _sink_lost(self, reason: str, msg: TTSMessage | None = None) -> None:
        if reason != self.waiting_for_sink:
            about = f" ({msg.id} will play again from the start)" if msg is not None else ""
            log.warning("player: waiting for %s: %s%s", self.sink.label, reason, about)
        if self.waiting_for_sink is None:
            self._waiting_since = time.monotonic()
            self._retry_in = SINK_RETRY_FIRST_SECONDS
        self.waiting_for_sink = reason

    def _sink_back(self) -> None:
        self._lost_in_play = False
        if self.waiting_for_sink is not None:
            log.info("player: %s is back after %.1f s; playback resumes",
                     self.sink.label, time.monotonic() - self._waiting_since)
            self.waiting_for_sink = None
            self._retry_in = SINK_RETRY_FIRST_SECONDS


def _says_something(msg: TTSMessage) -> bool:
    return bool(msg.text or msg.clip.duration_ms)  # an alert-only message says nothing
