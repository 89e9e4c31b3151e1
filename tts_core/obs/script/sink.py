"""Play clips through an OBS media source from inside OBS (the script's sink).

A thin driver of ``tts_core.obs.clip_state``: the player thread calls ``play``, which
posts the clip to the ``Pump`` (OBS's graphics thread) and waits; the pump's tick looks
at the media source every frame (through a weak reference: no lookup, no lock), feeds
``ClipOnSource.observe`` and carries out its actions (set the file, stop, finish). The
tick is the only place that starts a clip, and only once the previous one is done:
never two at once. No Python signal handlers are connected to the source: OBS 29 emits
``media_started`` while it holds its source-list lock, and a Python handler there waits
for the GIL, which a script callback holding it may be waiting on that same lock (a
deadlock seen under Reload).

Which media source, and keeping it right (in the mix, hidden in the scenes, its
settings, re-created when deleted), is ``MediaSourceKeeper``'s job; a clip cut because
its source was deleted raises ``SinkUnavailable`` and plays again from the start.

Gap between clips: ``CUE_AHEAD_SECONDS`` before the clip's end (by its length, counted
from the frame that saw it start), ``play`` asks the player for the next clip
(``next_up``, a ``Cue``) and posts it; it waits beside the playing clip, and the frame
that sees the end starts it (``StartDecision.claim``: never waits), with no thread
hand-over between the end and the start. ``play`` itself returns at the end, so the
player records it (``playback_finished``) before the next clip's ``playback_started``,
and a Skip before the end cuts only the clip playing. If there was no cue (e.g. the next
clip was still being synthesized), the frame that sees the end waits up to
``HANDOFF_WAIT_SECONDS`` (GIL released) when ``has_next()`` says the player has it ready,
so it still starts on that frame instead of the next one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tts_core.domain.audio import Clip
from tts_core.domain.message import TTSMessage
from tts_core.obs.captions import caption_text
from tts_core.obs.clip_state import TIMEOUTS, ClipOnSource, ClipTimeouts, Finish, Phase, Post, SourceStatus
from tts_core.obs.clip_state import Stop as StopMedia
from tts_core.obs.script.api import ObsApi
from tts_core.obs.script.media_source import MediaSourceKeeper
from tts_core.obs.script.pump import Pump
from tts_core.sinks.base import Cue, Sink, SinkUnavailable

log = logging.getLogger(__name__)

WAIT_SLICE_SECONDS = 0.05  # how often play() looks at the skip flag
HANDOFF_WAIT_SECONDS = 0.002  # at a clip's end, wait this long for the next clip's start
# play() asks for the next clip this long before the clip's end. OBS says "ended" up to
# 0.1 s before the end counted from the frame that saw the clip start (it hands a clip's
# last audio to the mix ahead of time); the player then needs a few ms, and its cue a
# frame. Until the sink starts it, a cued message can still be withdrawn (pause, Clear, ...).
CUE_AHEAD_SECONDS = 0.25
CUE_POLL_SECONDS = 0.01  # near the end, ask again this often while the player has nothing ready
OK_ENDS = (Phase.ENDED, Phase.STOPPED, Phase.TIMED_OUT)  # a cued clip starts after these
HANDOFFS_KEPT = 100


def nothing_next() -> bool:
    return False


@dataclass(eq=False)
class _Playback:
    clip: ClipOnSource
    caption: str
    released: threading.Event = field(default_factory=threading.Event)  # play() may return
    near_end: threading.Event = field(default_factory=threading.Event)  # time to cue the next clip
    wake: threading.Event = field(default_factory=threading.Event)  # play() looks again
    phase: Phase | None = None
    error: str | None = None

    def release(self, phase: Phase, error: str | None = None) -> None:
        if not self.released.is_set():
            self.phase, self.error = phase, error
            self.released.set()
            self.wake.set()


class ObsMediaSink(Sink):
    """Parameters: ``api`` (ObsApi, for the caption), ``pump`` (its ``run`` is called
    every frame), ``media_source`` (the MediaSourceKeeper of the source clips play on),
    ``caption_source`` (a text source name, or "" for none), ``has_next`` (whether the
    player has another clip ready to start right after this one; any thread),
    ``timeouts``, ``clock`` (monotonic seconds)."""

    name = "obs"
    label = "OBS"
    cues_next = True

    def __init__(self, api: ObsApi, pump: Pump, media_source: MediaSourceKeeper, caption_source: str = "",
                 has_next: Callable[[], bool] = nothing_next, timeouts: ClipTimeouts = TIMEOUTS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.api = api
        self.pump = pump
        self.source = media_source
        self.caption_source = caption_source
        self.has_next = has_next
        self.timeouts = timeouts
        self.clock = clock
        self._armed: _Playback | None = None  # on the source now (graphics thread only)
        self._pending: _Playback | None = None  # waits for the source to be free or ready
        self._next: tuple[Cue, _Playback] | None = None  # cued: starts when the armed clip ends
        self._cued: tuple[Cue, _Playback] | None = None  # the same, as the player thread knows it
        self._posted_tick = -1  # the frame whose tick last set a file (OBS applies it after)
        self._detached = False
        self._ticks = 0
        self.failures_in_a_row = 0
        self.last_failure: str | None = None
        self._handoff = threading.Event()  # play() posted a start
        self.handoffs: list[float] = []  # seconds the graphics thread waited (last HANDOFFS_KEPT)
        pump.on_tick(self.tick)

    # -- player thread -------------------------------------------------------------

    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None:
        if clip.path is None:
            raise ValueError(f"clip of {message.id} has no file")
        playback = self._adopt(clip, message)
        if playback is None:
            if self.source.away:
                raise SinkUnavailable(self.source.away)
            playback = self._playback(clip, message)
            self.pump.post(lambda: self._start(playback))
            self._handoff.set()
        cued = False
        while True:
            playback.wake.clear()
            if playback.released.is_set():
                break
            if stop.is_set():  # skip, or the manager stops (then this clip plays again next start)
                self.pump.post(lambda: self._stop(playback))
                break
            asking = playback.near_end.is_set() and not cued and self.next_up is not None
            if asking and self.next_up is not None:
                cue = self.next_up()
                if cue is not None:
                    cued = True
                    self._cue(cue)
            playback.wake.wait(CUE_POLL_SECONDS if asking and not cued else WAIT_SLICE_SECONDS)
        if playback.phase is Phase.UNAVAILABLE:
            raise SinkUnavailable(playback.error or f"media source {self.source.name!r} is not available")
        if playback.phase is Phase.FAILED:
            raise RuntimeError(playback.error)

    def _playback(self, clip: Clip, message: TTSMessage) -> _Playback:
        tracker = ClipOnSource(self.source.name, str(clip.path), clip.duration_ms / 1000.0, self.timeouts)
        return _Playback(tracker, caption_text(message) if self.caption_source else "")

    def _cue(self, cue: Cue) -> None:
        """Post ``cue`` to start when the playing clip ends (player thread)."""
        if cue.clip is None or cue.clip.path is None:
            return  # nothing to play: the player plays it the usual way
        playback = self._playback(cue.clip, cue.message)
        self._cued = (cue, playback)
        self.pump.post(lambda: self._set_next(cue, playback))

    def _adopt(self, clip: Clip, message: TTSMessage) -> _Playback | None:
        """The cued playback of ``clip`` if the sink started it; else None (and a cue that
        was not started never is)."""
        cued, self._cued = self._cued, None
        if cued is None:
            return None
        cue, playback = cued
        if cue.decision.withdraw():  # not started: it never will be
            return None
        return playback if cue.clip is clip and cue.message is message else None

    def unavailable_reason(self) -> str | None:
        """Why no clip can play now (OBS is still loading, the media source was renamed,
        OBS could not re-create it), or None. Read by the player; set on OBS's threads."""
        if not self.source.ready and not self._detached:
            return "OBS is still loading the scene collection"
        return self.source.away

    def detach(self) -> None:
        """OBS is unloading the script: stop waiting for it (the pump's remaining jobs
        run once more on the UI thread in script_unload)."""
        self._detached = True

    def close(self) -> None:
        self._detached = True

    # -- OBS threads ----------------------------------------------------------------------

    def set_sources(self, media_source: str, caption_source: str) -> None:
        """Use other sources from the next clip on (the new media source joins the mix now)."""
        self.source.use(media_source)
        self.caption_source = caption_source

    def tick(self) -> None:
        """Every frame (pump hook), before the queued jobs: follow the armed clip, start
        the pending one when the source is free, let the keeper look at the setup."""
        self._ticks += 1
        if not self.source.loaded():
            return
        self.source.set_up_if_asked(busy=self._armed is not None)
        if self._armed is not None and self._ticks > self._posted_tick:
            self._follow(self._armed)
        if self._armed is None and self._pending is not None:
            pending, self._pending = self._pending, None
            self._start(pending)
        self.source.check(self.clock(), busy=self._armed is not None)

    # -- one clip ---------------------------------------------------------------------------

    def _start(self, playback: _Playback) -> None:
        if playback.released.is_set() or self._detached:
            return  # skipped before it started, or the script is unloading
        if not self.source.ready or self._armed is not None:
            self._pending = playback
            return
        if not self.source.usable():
            playback.release(Phase.UNAVAILABLE, self.source.away)
            return
        self._armed = playback
        if playback.caption and not self.api.set_text(self.caption_source, playback.caption):
            self.source.note(f"caption:{self.caption_source}",
                             f"caption text source {self.caption_source!r} not found: pick another one "
                             f"in the script's properties (Playback > Caption text source)", act=True)
        self._follow(playback)

    def _set_next(self, cue: Cue, playback: _Playback) -> None:
        """The cue arrives (graphics thread): it waits for the armed clip's end, or starts
        now if that clip has already ended."""
        if self._armed is None and self._pending is None:
            if not self._detached and not cue.stop.is_set() and cue.decision.claim():
                self._start(playback)
            return
        self._next = (cue, playback)

    def _follow(self, playback: _Playback) -> None:
        now = self.clock()
        self._carry_out(playback, playback.clip.observe(self.source.status(), now))
        if not playback.near_end.is_set() and playback.clip.ends_within(CUE_AHEAD_SECONDS, now):
            playback.near_end.set()  # play() asks the player for the next clip
            playback.wake.set()

    def _carry_out(self, playback: _Playback, actions: list[Post | StopMedia | Finish]) -> None:
        for action in actions:
            if isinstance(action, Post):
                self._post(playback, action)
            elif isinstance(action, StopMedia):
                self.source.stop()
            else:
                self._finish(playback, action)

    def _post(self, playback: _Playback, post: Post) -> None:
        if post.attempt > 1:
            log.warning("media source %r did not start the clip within %g s; setting it once more",
                        self.source.name, self.timeouts.start_s)
            self.source.keep_in_mix()
        self._posted_tick = self._ticks
        if not self.source.play_file(post.file):
            self._carry_out(playback, playback.clip.observe(SourceStatus(None), self.clock()))

    def _finish(self, playback: _Playback, finish: Finish) -> None:
        self._armed = None
        self._handoff.clear()  # from here on, set by the next play()
        if finish.phase is Phase.FAILED:
            self.failures_in_a_row += 1
            self.last_failure = finish.error
            log.error("%s (%d clip(s) in a row)", finish.error, self.failures_in_a_row)
        elif finish.phase is Phase.TIMED_OUT:
            log.warning("%s", finish.error)
        elif finish.phase is Phase.ENDED:
            self.failures_in_a_row = 0
        error = finish.error
        if finish.phase is Phase.UNAVAILABLE:  # deleted (or renamed) under the clip
            self.source.setup()
            error = self.source.away or (f"media source {self.source.name!r} was deleted in OBS while a "
                                         f"clip played; the script re-created it")
        playback.release(finish.phase, error)
        if self.caption_source and playback.caption:
            self.api.set_text(self.caption_source, "")
        cued, self._next = self._next, None
        if cued is not None and finish.phase in OK_ENDS and not self._detached and not cued[0].stop.is_set() \
                and cued[0].decision.claim():
            self._pending = cued[1]  # the tick starts it right after, in this frame
        handed_over = finish.phase in (Phase.ENDED, Phase.STOPPED, Phase.TIMED_OUT) and self._wait_for_next()
        if not handed_over and self._pending is None:
            self.source.clear_clip()  # the clip file is temporary: OBS must not save its path

    def _wait_for_next(self) -> bool:
        """Give the player the GIL for a moment to post the next clip, so it starts now;
        True if it did (or a clip waits already)."""
        if self._pending is not None or self._handoff.is_set():  # handed over already (its job runs next)
            return True
        if self._detached or not self.has_next():
            return False
        waited = time.perf_counter()  # how long OBS's frame really waited, whatever the clock
        posted = self._handoff.wait(HANDOFF_WAIT_SECONDS)
        self.handoffs = [*self.handoffs[-(HANDOFFS_KEPT - 1):], time.perf_counter() - waited]
        return posted

    def _stop(self, playback: _Playback) -> None:
        """Skip (or shutdown): cut the clip if it is on the source, drop it if it waits."""
        if self._pending is playback:
            self._pending = None
        if self._armed is playback:
            self._carry_out(playback, playback.clip.stop(self.clock()))
            if not playback.clip.done and self._detached:  # no more frames will come
                playback.release(Phase.STOPPED)
                self._armed = None
        playback.release(Phase.STOPPED)
