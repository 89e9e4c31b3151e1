"""Play clips through an OBS media source from inside OBS (the script's sink).

The player thread calls ``play``; it posts the start to the ``Pump`` (OBS's graphics
thread) and waits. Starting a clip is one ``obs_source_update`` of ``local_file``; the
source sits on an output channel, so it is in the mix whatever scene is live.

The pump's tick watches the source's media state every frame (through a weak
reference: no lookup, no lock) and is the only place that starts a clip, and only once
the previous one has ended: never two at once. No Python signal handlers are
connected to the source: OBS 29 emits ``media_started`` while it holds its source-list
lock, and a Python handler there waits for the GIL, which a script callback holding it
may be waiting on that same lock (a deadlock seen under Reload).

Gap between clips: the frame that sees a clip ended lets ``play`` return and, when
``has_next()`` says the player has the next clip ready, waits up to
``HANDOFF_WAIT_SECONDS`` (GIL released) for the player to hand it over, so it starts
on that same frame instead of the next one.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tts_core.audio import Clip
from tts_core.message import TTSMessage
from tts_core.obs.api import ObsApi
from tts_core.obs.captions import caption_text
from tts_core.obs.pump import Pump

log = logging.getLogger(__name__)

WAIT_SLICE_SECONDS = 0.05  # how often play() looks at the skip flag
HANDOFF_WAIT_SECONDS = 0.002  # at a clip's end, wait this long for the next clip's start
START_TIMEOUT_SECONDS = 5.0  # the source never reported the clip playing
END_SLACK_SECONDS = 3.0  # still "playing" this long after the clip's end: give up on it
READY_CHECK_EVERY_TICKS = 30
STOPPED_GRACE_SECONDS = 0.5  # after a stop, OBS's media thread reports "ended" within this
ENDED_STATES = ("ended", "none", "error", None)
BUSY_STATES = ("playing", "opening", "buffering", "paused", "stopped")


@dataclass(eq=False)
class _Playback:
    token: int
    path: str
    duration_s: float
    caption: str
    posted_at: float = field(default_factory=time.monotonic)
    applied_tick: int | None = None  # the frame whose tick sent it to OBS
    started_at: float | None = None
    stopped_at: float | None = None  # first seen "stopped" (its "ended" is on its way)
    released: threading.Event = field(default_factory=threading.Event)  # play() may return
    ended: bool = False
    error: str | None = None

    def release(self, error: str | None = None) -> None:
        if error and self.error is None:
            self.error = error
        self.released.set()


class ObsMediaSink:
    """Parameters: ``api`` (ObsApi), ``pump`` (its ``run`` is called every frame),
    ``media_source`` (name; created when missing once OBS has loaded), ``caption_source``
    (a text source name, or "" for none), ``saved_state`` (JSON from ``save_state`` to
    re-create the script's own media source with the streamer's mixer settings)."""

    name = "obs"

    def __init__(self, api: ObsApi, pump: Pump, media_source: str, caption_source: str = "",
                 saved_state: str | None = None) -> None:
        self.api = api
        self.pump = pump
        self.media_source = media_source
        self.caption_source = caption_source
        self.saved_state = saved_state
        self._tokens = itertools.count(1)
        self._armed: _Playback | None = None  # on the source now (graphics thread only)
        self._pending: _Playback | None = None  # waits for the source to be free or ready
        self._weak: Any = None  # weak reference to the media source of the armed clip
        self._ready = False
        self._needs_setup = False  # create the media source and put it in the mix
        self._detached = False
        self._stop_waited = False
        self._ticks = 0
        self._warned: set[str] = set()
        self._handoff = threading.Event()  # play() posted a start
        self.has_next: Callable[[], bool] = lambda: False  # the player has another clip ready
        self.handoffs: list[float] = []  # seconds the graphics thread waited (last 100)
        pump.on_tick(self.tick)

    # -- player thread -------------------------------------------------------------

    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None:
        if clip.path is None:
            raise ValueError(f"clip of {message.id} has no file")
        playback = _Playback(next(self._tokens), str(clip.path), clip.duration_ms / 1000.0,
                             caption_text(message) if self.caption_source else "")
        self.pump.post(lambda: self._start(playback))
        self._handoff.set()
        while not playback.released.wait(WAIT_SLICE_SECONDS):
            if stop.is_set():  # skip, or the manager stops (then this clip plays again next start)
                self.pump.post(lambda: self._stop(playback))
                break
        if playback.error:
            raise RuntimeError(playback.error)

    def detach(self) -> None:
        """OBS is unloading the script: stop waiting for it (the pump's remaining jobs
        run once more on the UI thread in script_unload)."""
        self._detached = True

    def close(self) -> None:
        self._detached = True

    # -- OBS threads ----------------------------------------------------------------------

    def frontend_ready(self) -> None:
        """OBS finished loading a scene collection: sources may be looked up and created."""
        self._ready = True
        self._needs_setup = True

    def set_sources(self, media_source: str, caption_source: str) -> None:
        """Use other sources from the next clip on (the new media source joins the mix now)."""
        if media_source != self.media_source:
            self.media_source = media_source
            self._needs_setup = self._ready
        self.caption_source = caption_source

    @property
    def ready(self) -> bool:
        return self._ready

    def tick(self) -> None:
        """Every frame (pump hook), before the queued jobs: follow the armed clip, start
        the pending one when the source is free."""
        self._ticks += 1
        if not self._ready:
            if self._ticks % READY_CHECK_EVERY_TICKS == 0 and self.api.frontend_loaded():
                self.frontend_ready()
            else:
                return
        if self._needs_setup:
            self._needs_setup = False
            self._setup_source()
        if self._armed is not None:
            self._follow(self._armed)
        if self._armed is None and self._pending is not None:
            pending, self._pending = self._pending, None
            self._start(pending)

    def _follow(self, playback: _Playback) -> None:
        if playback.applied_tick is None or self._ticks <= playback.applied_tick:
            return  # OBS applies the update after this frame's tick callbacks
        state = self.api.weak_state(self._weak) if self._weak is not None else None
        now = time.monotonic()
        if state == "stopped":
            # Stopped, but OBS's media thread has not finished (and said "ended") yet:
            # starting the next clip now would cut that short and lose its end event.
            playback.stopped_at = playback.stopped_at or now
            if now - playback.stopped_at < STOPPED_GRACE_SECONDS:
                return
            state = "ended"
            self._stop_waited = True  # the next start need not wait for this stop again
        if state in ENDED_STATES:
            error = None
            if playback.started_at is None and state != "ended":
                error = f"media source {self.media_source!r} did not play the clip ({state})"
            self._finish(playback, error)
            self._wait_for_next()
            return
        if state == "playing" and playback.started_at is None:
            playback.started_at = now
        started = playback.started_at
        if started is None:
            if now - playback.posted_at > START_TIMEOUT_SECONDS:
                self._finish(playback, f"media source {self.media_source!r} did not start the clip ({state})")
        elif now > started + playback.duration_s + END_SLACK_SECONDS:
            log.warning("media source %r still %s %.1f s after the clip's end; moving on",
                        self.media_source, state, now - started - playback.duration_s)
            self._finish(playback)

    def _finish(self, playback: _Playback, error: str | None = None) -> None:
        playback.ended = True
        self._armed = None
        self._handoff.clear()
        playback.release(error)
        if self.caption_source and playback.caption:
            self.api.set_text(self.caption_source, "")

    def _wait_for_next(self) -> None:
        """Give the player the GIL for a moment to post the next clip, so it starts now."""
        if self._pending is not None or self._detached or not self.has_next():
            return
        waited = time.perf_counter()
        self._handoff.wait(HANDOFF_WAIT_SECONDS)
        self.handoffs = [*self.handoffs[-99:], time.perf_counter() - waited]

    def _start(self, playback: _Playback) -> None:
        if playback.released.is_set() or self._detached:
            return  # skipped before it started, or the script is unloading
        if not self._ready or self._armed is not None:
            self._pending = playback
            return
        name = self.media_source
        if not self._setup_source():
            playback.release(f"OBS could not create the media source {name!r}")
            return
        self.api.release_weak(self._weak)
        self._weak = self.api.weak_media(name)
        busy = self.api.weak_state(self._weak) in BUSY_STATES and not self._stop_waited
        self._stop_waited = False
        if busy:
            self._wait_for_foreign_clip(playback)
            return
        if self._weak is None or not self.api.play_file(name, playback.path):
            playback.release(f"media source {name!r} disappeared")
            return
        playback.applied_tick = self._ticks
        self._armed = playback
        if playback.caption and not self.api.set_text(self.caption_source, playback.caption):
            self._warn_once(f"caption:{self.caption_source}", "caption text source %r not found",
                            self.caption_source)

    def _wait_for_foreign_clip(self, playback: _Playback) -> None:
        """The source is still playing a clip this sink did not start (the one a Reload
        cut, being stopped): follow it like our own, then start ``playback``."""
        self._armed = _Playback(0, "", 0.0, "", applied_tick=self._ticks - 1, started_at=time.monotonic())
        self._pending = playback
        self.api.stop_media(self.media_source)

    def _stop(self, playback: _Playback) -> None:
        """Skip (or shutdown): cut the clip if it is on the source, drop it if it waits."""
        if self._pending is playback:
            self._pending = None
        if self._armed is playback:
            self.api.stop_media(self.media_source)
        playback.release()

    def _setup_source(self) -> bool:
        """Make sure the media source exists and is in the mix."""
        name = self.media_source
        if not self.api.source_exists(name) and not self.api.create_media_source(name, self.saved_state):
            return False
        self.api.keep_on_output_channel(name)
        if name not in self._warned and self.api.in_program_scene(name):
            self._warn_once(name, "media source %r is also in the live scene: it is heard twice there. "
                            "Remove it from your scenes; the script keeps it in the mix.", name)
        return True

    def _warn_once(self, key: str, text: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(text, *args)

    def forget(self) -> None:
        """Release OBS references (script unload)."""
        self.api.release_weak(self._weak)
        self._weak = None

    # -- the script's own source ---------------------------------------------------------

    def save_state(self) -> str | None:
        """The media source's state for ``saved_state`` next time (OBS thread)."""
        state = self.api.save_source_state(self.media_source)
        if state is not None:
            self.saved_state = state
        return self.saved_state
