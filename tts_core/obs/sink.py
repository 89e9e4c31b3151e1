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

How the media source is used (every setup a streamer may have; docs/obs.md):

- It sits on the script's own output channel, so it is in the mix, at its own mixer
  volume, whatever scene is live: a scene switch never cuts or restarts a clip.
- Shown in a scene as well it would be mixed twice (+6 dB), so every item of it in the
  scenes (nested scenes and groups too) is hidden (eye off); a WAV has no picture.
- Loop, "Restart playback when source becomes active" and "Close file when inactive"
  are turned off, and a file the script did not set is cleared.
- Deleted in OBS: re-created with the same name and its last mixer state, and the cut
  clip plays again from the start. Renamed: the queue waits, the status says so.
Each change is logged once and listed in ``notes`` (the properties panel shows them).

Gap between clips: the frame that sees a clip ended lets ``play`` return and, when
``has_next()`` says the player has the next clip ready, waits up to
``HANDOFF_WAIT_SECONDS`` (GIL released) for the player to hand it over, so it starts
on that same frame instead of the next one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tts_core.audio import Clip
from tts_core.message import TTSMessage
from tts_core.obs.api import ObsApi
from tts_core.obs.captions import caption_text
from tts_core.obs.clip_state import TIMEOUTS, ClipOnSource, ClipTimeouts, Finish, Phase, Post, SourceStatus
from tts_core.obs.clip_state import Stop as StopMedia
from tts_core.obs.pump import Pump
from tts_core.sinks.base import Sink, SinkUnavailable

log = logging.getLogger(__name__)

WAIT_SLICE_SECONDS = 0.05  # how often play() looks at the skip flag
HANDOFF_WAIT_SECONDS = 0.002  # at a clip's end, wait this long for the next clip's start
READY_CHECK_EVERY_TICKS = 30
CHECK_SETUP_SECONDS = 0.5  # how often the tick looks at the source's setup (scenes, settings)
CLIP_FOLDER_PREFIX = "obs-tts-clips-"  # tts_core.clips: the folders the script's clips are in


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
    """Parameters: ``api`` (ObsApi), ``pump`` (its ``run`` is called every frame),
    ``media_source`` (name; created when missing once OBS has loaded), ``caption_source``
    (a text source name, or "" for none), ``saved_state`` (JSON from ``save_state`` to
    re-create the media source with the streamer's mixer settings), ``timeouts``."""

    name = "obs"
    label = "OBS"

    def __init__(self, api: ObsApi, pump: Pump, media_source: str, caption_source: str = "",
                 saved_state: str | None = None, timeouts: ClipTimeouts = TIMEOUTS) -> None:
        self.api = api
        self.pump = pump
        self.media_source = media_source
        self.caption_source = caption_source
        self.saved_state = saved_state
        self.timeouts = timeouts
        self._armed: _Playback | None = None  # on the source now (graphics thread only)
        self._pending: _Playback | None = None  # waits for the source to be free or ready
        self._weak: Any = None  # weak reference to the media source set up last
        self._posted_tick = -1  # the frame whose tick last set a file (OBS applies it after)
        self._last_file = ""  # the file the script set last (not a leftover to clear)
        self._ready = False
        self._needs_setup = False  # create the media source and put it in the mix
        self._detached = False
        self._ticks = 0
        self._checked_at = 0.0
        self._scenes: list[str] = []  # scene names, read on OBS's UI thread
        self._away: str | None = None  # why no clip can play now (the player waits)
        self.notes: dict[str, str] = {}  # what the script changed in the setup, shown once
        self.failures_in_a_row = 0
        self.last_failure: str | None = None
        self._handoff = threading.Event()  # play() posted a start
        self.has_next: Callable[[], bool] = lambda: False  # the player has another clip ready
        self.handoffs: list[float] = []  # seconds the graphics thread waited (last 100)
        pump.on_tick(self.tick)

    # -- player thread -------------------------------------------------------------

    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None:
        if clip.path is None:
            raise ValueError(f"clip of {message.id} has no file")
        if self._away:
            raise SinkUnavailable(self._away)
        tracker = ClipOnSource(self.media_source, str(clip.path), clip.duration_ms / 1000.0, self.timeouts)
        playback = _Playback(tracker, caption_text(message) if self.caption_source else "")
        self.pump.post(lambda: self._start(playback))
        self._handoff.set()
        while not playback.released.wait(WAIT_SLICE_SECONDS):
            if stop.is_set():  # skip, or the manager stops (then this clip plays again next start)
                self.pump.post(lambda: self._stop(playback))
                break
        if playback.phase is Phase.UNAVAILABLE:
            raise SinkUnavailable(playback.error or f"media source {self.media_source!r} is not available")
        if playback.phase is Phase.FAILED:
            raise RuntimeError(playback.error)

    def unavailable_reason(self) -> str | None:
        """Why no clip can play now (OBS is still loading, the media source was renamed,
        OBS could not re-create it), or None. Read by the player; set on OBS's threads."""
        if not self._ready and not self._detached:
            return "OBS is still loading the scene collection"
        return self._away

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

    def scenes_changed(self) -> None:
        """OBS's UI thread (frontend events, script_load): read the scene list, where the
        tick hides the media source's items."""
        try:
            self._scenes = self.api.scene_names()
        except Exception as exc:  # noqa: BLE001 - a frontend without scenes yet
            log.debug("scene list not available: %s", exc)
        self._checked_at = 0.0  # look at the setup on the next frame

    def set_sources(self, media_source: str, caption_source: str) -> None:
        """Use other sources from the next clip on (the new media source joins the mix now)."""
        if media_source != self.media_source:
            self.media_source = media_source
            self._away = None
            self._needs_setup = self._ready
        self.caption_source = caption_source

    @property
    def ready(self) -> bool:
        return self._ready

    def tick(self) -> None:
        """Every frame (pump hook), before the queued jobs: follow the armed clip, start
        the pending one when the source is free, look at the setup now and then."""
        self._ticks += 1
        if not self._ready:
            if self._ticks % READY_CHECK_EVERY_TICKS == 0 and self.api.frontend_loaded():
                self.frontend_ready()
            else:
                return
        if self._needs_setup:
            self._needs_setup = False
            self._setup_source()
        if self._armed is not None and self._ticks > self._posted_tick:
            self._follow(self._armed)
        if self._armed is None and self._pending is not None:
            pending, self._pending = self._pending, None
            self._start(pending)
        now = time.monotonic()
        if now - self._checked_at >= CHECK_SETUP_SECONDS:
            self._checked_at = now
            self._check_setup()

    # -- one clip ---------------------------------------------------------------------------

    def _start(self, playback: _Playback) -> None:
        if playback.released.is_set() or self._detached:
            return  # skipped before it started, or the script is unloading
        if not self._ready or self._armed is not None:
            self._pending = playback
            return
        if not self._source_usable():
            playback.release(Phase.UNAVAILABLE, self._away)
            return
        self._armed = playback
        if playback.caption and not self.api.set_text(self.caption_source, playback.caption):
            self._note(f"caption:{self.caption_source}",
                       f"caption text source {self.caption_source!r} not found")
        self._carry_out(playback, playback.clip.observe(self._status(), time.monotonic()))

    def _follow(self, playback: _Playback) -> None:
        self._carry_out(playback, playback.clip.observe(self._status(), time.monotonic()))

    def _status(self) -> SourceStatus:
        return self.api.media_status(self._weak)

    def _carry_out(self, playback: _Playback, actions: list[Post | StopMedia | Finish]) -> None:
        for action in actions:
            if isinstance(action, Post):
                self._post(playback, action)
            elif isinstance(action, StopMedia):
                self.api.stop_media(self.media_source)
            else:
                self._finish(playback, action)

    def _post(self, playback: _Playback, post: Post) -> None:
        if post.attempt > 1:
            log.warning("media source %r did not start the clip within %g s; setting it once more",
                        self.media_source, self.timeouts.start_s)
            self.api.keep_on_output_channel(self.media_source)
        self._last_file = post.file
        self._posted_tick = self._ticks
        if not self.api.play_file(self.media_source, post.file):
            self._carry_out(playback, playback.clip.observe(SourceStatus(None), time.monotonic()))

    def _finish(self, playback: _Playback, finish: Finish) -> None:
        self._armed = None
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
            self._setup_source()
            error = self._away or (f"media source {self.media_source!r} was deleted in OBS while a clip "
                                   f"played; the script re-created it")
        playback.release(finish.phase, error)
        if self.caption_source and playback.caption:
            self.api.set_text(self.caption_source, "")
        if finish.phase in (Phase.ENDED, Phase.STOPPED, Phase.TIMED_OUT):
            self._wait_for_next()

    def _wait_for_next(self) -> None:
        """Give the player the GIL for a moment to post the next clip, so it starts now."""
        if self._pending is not None or self._detached or not self.has_next():
            return
        waited = time.perf_counter()
        self._handoff.wait(HANDOFF_WAIT_SECONDS)
        self.handoffs = [*self.handoffs[-99:], time.perf_counter() - waited]

    def _stop(self, playback: _Playback) -> None:
        """Skip (or shutdown): cut the clip if it is on the source, drop it if it waits."""
        if self._pending is playback:
            self._pending = None
        if self._armed is playback:
            self._carry_out(playback, playback.clip.stop(time.monotonic()))
            if not playback.clip.done and self._detached:  # no more frames will come
                playback.release(Phase.STOPPED)
                self._armed = None
        playback.release(Phase.STOPPED)

    # -- the media source ---------------------------------------------------------------

    def _source_usable(self) -> bool:
        """Make sure the media source exists and is in the mix; False (and ``_away``
        says why) if it cannot be."""
        if self._away or self._weak is None or self.api.weak_name(self._weak) != self.media_source:
            self._setup_source()
        elif not self.api.holds_on_output_channel(self.media_source):
            self.api.keep_on_output_channel(self.media_source)  # e.g. the channel was cleared
        return self._away is None

    def _setup_source(self) -> None:
        """Find or create the media source, put it on the script's channel, hide it in the
        scenes, fix its settings; or set ``_away``."""
        name = self.media_source
        renamed = self.api.weak_name(self._weak) if self._weak is not None else None
        if renamed is not None and renamed != name and not self.api.source_exists(name):
            self._set_away(f"media source {name!r} was renamed to {renamed!r} in OBS: pick {renamed!r} "
                           f"in the script's properties (Playback > Media source) or rename it back")
            return
        deleted = self.api.source_removed(name)
        if deleted:
            # OBS keeps a deleted source alive while anything holds it, and its name with it;
            # a new source of that name is the one found from then on (OBS 29).
            self.api.release_output_channel()
        if deleted or not self.api.source_exists(name):
            existed = deleted or self._weak is not None
            created = self.api.create_media_source(name, self.saved_state)
            if created is None:
                self._set_away(f"OBS could not create the media source {name!r}; pick another one in "
                               f"the script's properties")
                return
            if created != name:  # OBS 30+ gives a duplicate another name
                self.media_source = name = created
                self._note(f"renamed:{created}", f"the deleted media source still holds its name in OBS: "
                           f"the script created {created!r} instead; pick it in the script's properties")
            elif existed:
                self._note(f"recreated:{name}:{self._ticks}", f"media source {name!r} was deleted in OBS; "
                           f"the script re-created it with its last mixer settings")
        self.api.release_weak(self._weak)
        self._weak = self.api.weak_media(name)
        if self._weak is None:
            self._set_away(f"media source {name!r} does not exist")
            return
        self._fix_settings()  # first: put in the mix with "restart on activate" on, a leftover would play
        self.api.keep_on_output_channel(name)
        self._hide_in_scenes()
        saved = self.api.save_source_state(name)
        if saved is not None:
            self.saved_state = saved  # to re-create it as it was if it is deleted
        if self._away is not None:
            log.info("media source %r is usable again", name)
        self._away = None

    def _check_setup(self) -> None:
        """Now and then (and on the frame after a scene change): keep the source usable
        and heard once."""
        if self._away is not None:
            self._setup_source()
            return
        if self._weak is None:
            return
        if self.api.weak_name(self._weak) != self.media_source:
            if self._armed is None:
                self._setup_source()  # deleted or renamed while idle: the next clip must not fail
            return
        self.api.keep_on_output_channel(self.media_source)
        self._hide_in_scenes()
        self._fix_settings()

    def _fix_settings(self) -> None:
        """Between clips: turn off settings that would replay or cut clips, clear a file
        the script did not set. A file that plays (a leftover, a looping file) is stopped
        first: replacing it would start the next file without OBS ending this one."""
        if self._armed is not None:
            return
        name = self.media_source
        status = self._status()
        leftover = status.file if status.file and status.file != self._last_file else None
        if status.state in ("playing", "opening", "buffering", "paused") and not status.idle:
            if leftover and Path(leftover).parent.name.startswith(CLIP_FOLDER_PREFIX):
                self.api.stop_media(name)  # a clip an earlier load started (Reload): it plays again
                log.info("media source %r: stopped a clip an earlier load of the script started", name)
            elif leftover:
                self.api.stop_media(name)
                self._note(f"leftover:{name}:{leftover}", f"media source {name!r}: the script stopped the "
                           f"file {leftover!r} it was playing, and cleared it (it plays one clip at a time)")
            return
        if status.state == "stopped":
            return  # OBS ends it in a moment; then it is fixed
        changes = self.api.playback_settings_to_fix(name)
        if changes or leftover:
            self.api.clear_file(name)
        if leftover:
            log.info("media source %r: cleared the file %r left on it", name, leftover)
        if changes:
            self._note(f"settings:{name}:{','.join(changes)}",
                       f"media source {name!r}: the script {', '.join(changes)} (it plays one clip at a "
                       f"time on it)")

    def _hide_in_scenes(self) -> None:
        scenes = list(self._scenes)
        program = self.api.program_scene_name()
        if program is not None and program not in scenes:
            scenes.append(program)
        hidden = self.api.hide_in_scenes(self.media_source, scenes)
        if hidden:
            where = ", ".join(repr(s) for s in hidden)
            self._note(f"hidden:{self.media_source}:{where}",
                       f"media source {self.media_source!r} was shown in scene(s) {where}: the script hid it "
                       f"there (eye off). It plays on the script's own audio channel in every scene; shown "
                       f"in a scene as well it would be heard twice")

    def _set_away(self, reason: str) -> None:
        if reason != self._away:
            log.warning("%s", reason)
        self._away = reason

    def _note(self, key: str, text: str) -> None:
        if key not in self.notes:
            self.notes[key] = text
            log.warning("%s", text)

    def setup_notes(self) -> list[str]:
        """What the script changed in the streamer's setup (newest last, distinct)."""
        return list(dict.fromkeys(self.notes.values()))

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
