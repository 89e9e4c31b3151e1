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

Gap between clips: ``play`` returns ``RELEASE_AHEAD_SECONDS`` before the clip's end
(by its length, counted from the frame that saw it start) while the clip plays on, so
the player hands the next clip over while this one still plays; it waits as pending and
the frame that sees the end starts it, with no thread hand-over between the end and
the start. If the next clip was not there yet (e.g. still being synthesized), the frame
that sees the end waits up to ``HANDOFF_WAIT_SECONDS`` (GIL released) when ``has_next()``
says the player has it ready, so it still starts on that frame instead of the next one.
The price, kept to two frames: the clip's ``playback_finished`` and the next one's
``playback_started`` are published up to ``RELEASE_AHEAD_SECONDS`` early (captions start
their first word that much early), and a skip in the last ``RELEASE_AHEAD_SECONDS`` of a
clip reaches the next message.
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
from tts_core.sinks.base import Sink, SinkUnavailable

log = logging.getLogger(__name__)

WAIT_SLICE_SECONDS = 0.05  # how often play() looks at the skip flag
HANDOFF_WAIT_SECONDS = 0.002  # at a clip's end, wait this long for the next clip's start
# play() returns this long before the clip's end, so the next clip waits ready for the
# frame that sees the end: two frames at 30 fps, enough for the player's hand-over between
# two clips, little enough that the events (and captions) are not noticeably early and a
# late Skip rarely reaches the next message. When the hand-over takes longer, the frame
# at the end waits HANDOFF_WAIT_SECONDS as before.
RELEASE_AHEAD_SECONDS = 0.06
HANDOFFS_KEPT = 100


def nothing_next() -> bool:
    return False


@dataclass(eq=False)
class _Playback:
    clip: ClipOnSource
    caption: str
    released: threading.Event = field(default_factory=threading.Event)  # play() may return
    phase: Phase | None = None
    error: str | None = None

    def release(self, phase: Phase, error: str | None = None) -> None:
        if not self.released.is_set():
            self.phase, self.error = phase, error
            self.released.set()


class ObsMediaSink(Sink):
    """Parameters: ``api`` (ObsApi, for the caption), ``pump`` (its ``run`` is called
    every frame), ``media_source`` (the MediaSourceKeeper of the source clips play on),
    ``caption_source`` (a text source name, or "" for none), ``has_next`` (whether the
    player has another clip ready to start right after this one; any thread),
    ``timeouts``, ``clock`` (monotonic seconds)."""

    name = "obs"
    label = "OBS"

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
        if self.source.away:
            raise SinkUnavailable(self.source.away)
        tracker = ClipOnSource(self.source.name, str(clip.path), clip.duration_ms / 1000.0, self.timeouts)
        playback = _Playback(tracker, caption_text(message) if self.caption_source else "")
        self.pump.post(lambda: self._start(playback))
        self._handoff.set()
        while not playback.released.wait(WAIT_SLICE_SECONDS):
            if stop.is_set():  # skip, or the manager stops (then this clip plays again next start)
                self.pump.post(lambda: self._stop(playback))
                break
        if playback.phase is Phase.UNAVAILABLE:
            raise SinkUnavailable(playback.error or f"media source {self.source.name!r} is not available")
        if playback.phase is Phase.FAILED:
            raise RuntimeError(playback.error)

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

    def _follow(self, playback: _Playback) -> None:
        now = self.clock()
        self._carry_out(playback, playback.clip.observe(self.source.status(), now))
        if not playback.released.is_set() and playback.clip.ends_within(RELEASE_AHEAD_SECONDS, now):
            self._handoff.clear()  # from here on, set by the next play()
            playback.release(Phase.ENDED)  # it plays on; the next clip waits as pending for its end

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
        if not playback.released.is_set():  # else cleared at the early release: the next play() set it
            self._handoff.clear()
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
