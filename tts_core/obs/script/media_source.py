"""Keep the streamer's media source right for the script, in every setup a streamer may have.

- It sits on the script's own output channel, so it is in the mix, at its own mixer
  volume, whatever scene is live: a scene switch never cuts or restarts a clip.
- Shown in a scene as well it would be mixed twice (+6 dB), so every item of it in the
  scenes (nested scenes and groups too) is hidden (eye off); a WAV has no picture.
- Loop, "Restart playback when source becomes active" and "Close file when inactive"
  are turned off, and a file the script did not set is cleared.
- Deleted in OBS: re-created with the same name and its last mixer state. Renamed: the
  queue waits, and ``away`` says so (docs/obs.md).
Each change is logged once and listed in ``notes`` (the properties panel shows them).

Every method runs on an OBS thread (script callbacks on the UI thread, the pump's tick
on the graphics thread); the player thread only reads ``away`` and ``ready``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from tts_core.obs.clip_state import BUSY_STATES, SourceStatus
from tts_core.obs.script.api import ObsApi
from tts_core.storage.clip_files import KEPT_FOR_OBS

log = logging.getLogger(__name__)

READY_CHECK_EVERY_TICKS = 30  # while OBS loads, ask it this often whether it has finished
CHECK_SETUP_SECONDS = 0.5  # how often the tick looks at the source's setup (scenes, settings)
CLIP_FOLDER_PREFIX = "obs-tts-clips-"  # tts_core.storage.clip_files: the folders the script's clips are in


class SavedClipFile:
    """A clip file whose path OBS has already saved in the scene collection: OBS saves
    the collection at exit (and before a collection switch) before it tells scripts, so
    a clip that plays then is in the file. Its bytes are kept and written back after the
    queue deleted its clip folder, so OBS finds the file at its next start (no "Missing
    Files"); the next start's source has no file on it, and the folder is a temporary one."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.data: bytes | None = None
        try:
            self.data = self.path.read_bytes()
        except OSError as exc:
            log.info("clip %s not kept for OBS's saved scene collection: %s", path, exc)

    def restore(self) -> None:
        """Write the file back if the queue deleted it (script unload, after the queue stopped)."""
        if self.data is None or self.path.exists():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_bytes(self.data)
            (self.path.parent / KEPT_FOR_OBS).touch()  # not an abandoned folder (storage/clip_files.py)
        except OSError as exc:
            log.info("clip %s not written back for OBS's saved scene collection: %s", self.path, exc)


class MediaSourceKeeper:
    """Finds, creates, repairs and hides the media source clips play on.

    Parameters: ``api`` (ObsApi), ``name`` (the media source; created when missing once
    OBS has loaded), ``saved_state`` (JSON from ``save_state``: re-creates the source
    with the streamer's mixer settings), ``check_every_s`` (how often ``check`` looks).
    """

    def __init__(self, api: ObsApi, name: str, saved_state: str | None = None,
                 check_every_s: float = CHECK_SETUP_SECONDS) -> None:
        self.api = api
        self.name = name
        self.saved_state = saved_state
        self.check_every_s = check_every_s
        self.away: str | None = None  # why no clip can play now (the player waits)
        self.notes: dict[str, str] = {}  # what the script changed in the setup, shown once
        self._weak: Any = None  # weak reference to the media source set up last
        self._last_file = ""  # the file the script set last (not a leftover to clear)
        self._ready = False
        self._needs_setup = False
        self._looks = 0
        self._checked_at: float | None = None
        self._scenes: list[str] = []  # scene names, read on OBS's UI thread
        self._recreated = 0

    # -- OBS's UI thread -----------------------------------------------------------------

    def frontend_ready(self) -> None:
        """OBS finished loading a scene collection: sources may be looked up and created."""
        self._ready = True
        self._needs_setup = True

    def scenes_changed(self) -> None:
        """Read the scene list (frontend events, script_load), where ``check`` hides the
        media source's items; the next ``check`` looks at once."""
        try:
            self._scenes = self.api.scene_names()
        except Exception as exc:  # noqa: BLE001 - a frontend without scenes yet
            log.debug("scene list not available: %s", exc)
        self._checked_at = None

    def use(self, name: str) -> None:
        """Play on media source ``name`` from the next clip on (set up on the next tick)."""
        if name != self.name:
            self.name = name
            self.away = None
            self._needs_setup = self._ready

    @property
    def ready(self) -> bool:
        """Whether OBS has loaded the scene collection (its sources exist)."""
        return self._ready

    # -- OBS's graphics thread (the pump's tick) --------------------------------------------

    def loaded(self) -> bool:
        """``ready``, asking OBS every READY_CHECK_EVERY_TICKS calls while it is not (a
        script added to a running OBS gets no FINISHED_LOADING event)."""
        if not self._ready:
            self._looks += 1
            if self._looks % READY_CHECK_EVERY_TICKS == 0 and self.api.frontend_loaded():
                self.frontend_ready()
        return self._ready

    def set_up_if_asked(self, busy: bool) -> None:
        """Set up after ``frontend_ready`` or ``use``; ``busy``: a clip is on the source."""
        if self._needs_setup:
            self._needs_setup = False
            self.setup(busy)

    def check(self, now: float, busy: bool) -> None:
        """Every ``check_every_s`` (monotonic ``now``): keep the source usable and heard
        once. ``busy``: a clip is on the source (then its file and settings stay)."""
        if self._checked_at is not None and now - self._checked_at < self.check_every_s:
            return
        self._checked_at = now
        if self.away is not None:
            self.setup(busy)
            return
        if self._weak is None:
            return
        if self.api.weak_name(self._weak) != self.name:
            if not busy:
                self.setup(busy)  # deleted or renamed while idle: the next clip must not fail
            return
        self.api.keep_on_output_channel(self.name)
        self._hide_in_scenes()
        self._fix_settings(busy)

    def usable(self) -> bool:
        """Make sure the media source exists and is in the mix before a clip; False (and
        ``away`` says why) if it cannot be."""
        if self.away or self._weak is None or self.api.weak_name(self._weak) != self.name:
            self.setup(busy=False)
        elif not self.api.holds_on_output_channel(self.name):
            self.api.keep_on_output_channel(self.name)  # e.g. the channel was cleared
        return self.away is None

    def setup(self, busy: bool = False) -> None:
        """Find or create the media source, put it on the script's channel, hide it in the
        scenes, fix its settings (not while ``busy``); or set ``away``."""
        name = self.name
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
                self.name = name = created
                self.note(f"renamed:{created}", f"the deleted media source still holds its name in OBS: the "
                          f"script created {created!r} instead; pick it in the script's properties", act=True)
            elif existed:
                self._recreated += 1
                self.note(f"recreated:{name}:{self._recreated}", f"media source {name!r} was deleted in "
                          f"OBS; the script re-created it with its last mixer settings")
        self.api.release_weak(self._weak)
        self._weak = self.api.weak_media(name)
        if self._weak is None:
            self._set_away(f"media source {name!r} does not exist")
            return
        self._fix_settings(busy)  # first: put in the mix with "restart on activate" on, a leftover would play
        self.api.keep_on_output_channel(name)
        self._hide_in_scenes()
        saved = self.api.save_source_state(name)
        if saved is not None:
            self.saved_state = saved  # to re-create it as it was if it is deleted
        if self.away is not None:
            log.info("media source %r is usable again", name)
        self.away = None

    # -- clips on it (graphics thread) ---------------------------------------------------------

    def status(self) -> SourceStatus:
        """One look at the source for the clip state machine (no lookup by name)."""
        return self.api.media_status(self._weak)

    def play_file(self, file: str) -> bool:
        """Set ``file`` on the source (OBS starts it on the next frame); False if it is gone."""
        self._last_file = file
        return self.api.play_file(self.name, file)

    def stop(self) -> None:
        self.api.stop_media(self.name)

    def clear_clip(self, force: bool = False) -> str | None:
        """Take the script's last clip file off the source once it no longer plays (or at
        once with ``force``: OBS exits, the scene collection changes, the script unloads).
        Clip files are temporary: a path left on the source is saved in the scene
        collection and OBS shows "Missing Files" at its next start. Returns the path it
        cleared, or None."""
        if not self._last_file:
            return None
        status = self.status()
        if status.file != self._last_file:
            self._last_file = ""  # replaced, or the source is gone: nothing of ours to clear
            return None
        playing = (status.state in BUSY_STATES and not status.idle) or status.state == "stopped"
        if playing and not force:
            return None  # "stopped" ends in a moment (OBS's "ended" must come): ``check`` clears it then
        if playing:
            self.api.forget_file(self.name)  # no update: the clip's Stop ends it as usual
        else:
            self.api.clear_file(self.name)
        cleared, self._last_file = self._last_file, ""
        return cleared

    def keep_in_mix(self) -> None:
        """Put the source back on the script's output channel (a clip did not start)."""
        self.api.keep_on_output_channel(self.name)

    # -- notes and state -------------------------------------------------------------------------

    def note(self, key: str, text: str, act: bool = False) -> None:
        """Log ``text`` once and list it in the panel (``key`` says what it is about); a
        warning only if the streamer must ``act`` (OBS opens its Script Log for warnings)."""
        if key not in self.notes:
            self.notes[key] = text
            log.log(logging.WARNING if act else logging.INFO, "%s", text)

    def setup_notes(self) -> list[str]:
        """What the script changed in the streamer's setup (newest last, distinct)."""
        return list(dict.fromkeys(self.notes.values()))

    def save_state(self) -> str | None:
        """The media source's state for ``saved_state`` next time (OBS thread)."""
        state = self.api.save_source_state(self.name)
        if state is not None:
            self.saved_state = state
        return self.saved_state

    def forget(self) -> None:
        """Release OBS references (script unload)."""
        self.api.release_weak(self._weak)
        self._weak = None

    # -- helpers -------------------------------------------------------------------------------

    def _fix_settings(self, busy: bool) -> None:
        """Between clips: turn off settings that would replay or cut clips, clear a file
        the script did not set. A file that plays (a leftover, a looping file) is stopped
        first: replacing it would start the next file without OBS ending this one."""
        if busy:
            return
        name = self.name
        status = self.status()
        leftover = status.file if status.file and status.file != self._last_file else None
        if status.state in BUSY_STATES and not status.idle:
            if leftover and Path(leftover).parent.name.startswith(CLIP_FOLDER_PREFIX):
                self.api.stop_media(name)  # a clip an earlier load started (Reload): it plays again
                log.info("media source %r: stopped a clip an earlier load of the script started", name)
            elif leftover:
                self.api.stop_media(name)
                self.note(f"leftover:{name}:{leftover}", f"media source {name!r}: the script stopped the "
                          f"file {leftover!r} it was playing, and cleared it (it plays one clip at a time)")
            return
        if status.state == "stopped":
            return  # OBS ends it in a moment; then it is fixed
        changes = self.api.playback_settings_to_fix(name)
        ours = bool(status.file) and status.file == self._last_file  # a clip that ended: a temporary file
        if changes or leftover or ours:
            self.api.clear_file(name)
            self._last_file = ""
        if leftover:
            log.info("media source %r: cleared the file %r left on it", name, leftover)
        if changes:
            self.note(f"settings:{name}:{','.join(changes)}",
                      f"media source {name!r}: the script {', '.join(changes)} (it plays one clip at a "
                      f"time on it)")

    def _hide_in_scenes(self) -> None:
        scenes = list(self._scenes)
        program = self.api.program_scene_name()
        if program is not None and program not in scenes:
            scenes.append(program)
        hidden = self.api.hide_in_scenes(self.name, scenes)
        if hidden:
            where = ", ".join(repr(s) for s in hidden)
            self.note(f"hidden:{self.name}:{where}",
                      f"media source {self.name!r} was shown in scene(s) {where}: the script hid it "
                      f"there (eye off). It plays on the script's own audio channel in every scene; shown "
                      f"in a scene as well it would be heard twice")

    def _set_away(self, reason: str) -> None:
        if reason != self.away:
            log.info("%s", reason)  # the player's "waiting for OBS" line is the one warning
        self.away = reason
