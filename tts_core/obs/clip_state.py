"""The life of one clip on an OBS media source, as a pure state machine (no OBS calls).

Like websockets' sans-I/O protocol: a driver looks at the media source (in OBS, every
frame from the timer pump; remotely, through obs-websocket requests and events), hands
each look to ``ClipOnSource.observe(status, now)`` and carries out the actions it gets
back. Both drivers share these rules and these time-outs.

    clip = ClipOnSource("TTS Audio", "/tmp/clip.wav", duration_s=2.5)
    for action in clip.observe(SourceStatus("ended", file="", duration_ms=0), now):
        ...  # Post(file): set the source's local_file; Stop(): stop the media;
             # Finish(phase, error): play() returns (or raises)

Phases (``clip.phase``) and what moves them:

    NEW       idle -> POSTED (Post); a foreign clip -> CLEARING (Stop);
              "stopped" -> waits up to stop_grace_s for "ended", then POSTED;
              no source -> UNAVAILABLE
    CLEARING  the foreign clip gone, or clear_s passed -> POSTED (Post)
    POSTED    "playing" our file with a duration (or playback_started) -> STARTED;
              not started within start_s -> POSTED again (Post, attempt 2) -> FAILED
    STARTED   ended / idle / another file -> ENDED; "stopped" in OBS -> STOPPING;
              "paused" holds the clock (up to pause_limit_s); still "playing"
              end_slack_s after its length -> TIMED_OUT (Stop)
    STOPPING  (stop() from POSTED or STARTED sends Stop) ended, or stop_grace_s
              passed -> STOPPED
    any       the source missing -> UNAVAILABLE (STOPPING: STOPPED)

What counts as what (OBS 29 facts, docs/architecture.md, section 6):

- *idle*: "ended", "none", "error", or "playing" with duration 0 and no file (or the file
  not known). An ACTIVE ffmpeg_source whose file is empty reports PLAYING, duration 0,
  forever: that is not a clip. With a file, "playing" at duration 0 is a clip being
  opened (its duration comes a few ms later): busy.
- *a foreign clip* (one this clip did not start: the streamer's leftover or looping
  file, the clip a Reload cut): "playing"/"opening"/"buffering"/"paused" and not idle.
  It is stopped (setting a file over a playing one would start ours without OBS ever
  ending that one), and given ``clear_s`` to go.
- *started*: "playing" our file with a duration (or the driver's ``playback_started``
  event), while the source is in the mix (``active`` is not False). Settings change at
  once but OBS applies them on the next frame, so "ended" seen right after the post is
  the previous clip's state, never proof that ours played.
- A clip OBS does not start within ``start_s`` is posted once more; if that fails too it
  ends FAILED with an error naming the source and the cause in the streamer's words.
- The source missing (``state`` None) ends UNAVAILABLE: the player is away, not the clip
  at fault (drivers raise ``SinkUnavailable``: the message plays again later).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

START_ATTEMPTS = 2  # a clip OBS does not start is posted once more, then fails
BUSY_STATES = ("playing", "opening", "buffering", "paused")


class Phase(enum.Enum):
    NEW = "new"  # nothing posted yet
    CLEARING = "clearing"  # stopping a clip this one did not start
    POSTED = "posted"  # the clip is on the source; OBS has not started it yet
    STARTED = "started"  # OBS plays it
    STOPPING = "stopping"  # skipped: stop sent, waiting for OBS to end it
    ENDED = "ended"
    STOPPED = "stopped"
    TIMED_OUT = "timed out"  # played, but OBS still said "playing" long after its end
    FAILED = "failed"  # OBS never started it (twice)
    UNAVAILABLE = "unavailable"  # the media source is gone

    @property
    def done(self) -> bool:
        return self in DONE_PHASES


DONE_PHASES = frozenset({Phase.ENDED, Phase.STOPPED, Phase.TIMED_OUT, Phase.FAILED, Phase.UNAVAILABLE})


@dataclass(frozen=True)
class ClipTimeouts:
    """Seconds. ``start_s``: OBS must start a posted clip within this (once more, then it
    fails); ``end_slack_s``: still "playing" this long after the clip's length: moved on;
    ``stop_grace_s``: after a stop OBS says "stopped" at once and "ended" a moment later,
    waited for this long; ``clear_s``: a foreign clip gets this long to stop;
    ``pause_limit_s``: a clip the streamer paused in OBS is given up after this."""

    start_s: float = 5.0
    end_slack_s: float = 3.0
    # OBS's media thread says "ended" within ms, but later under load; setting a file
    # before it did would start the next clip while that "ended" is still to come.
    stop_grace_s: float = 2.0
    clear_s: float = 2.0
    pause_limit_s: float = 600.0


TIMEOUTS = ClipTimeouts()


@dataclass(frozen=True)
class SourceStatus:
    """One look at the media source. ``state``: "playing", "opening", "buffering",
    "paused", "stopped", "ended", "error", "none", or None when there is no such source;
    ``file``: its local_file setting ("" none, None not known); ``duration_ms``: OBS's
    duration of what it has open (0 none); ``active``: whether it is in OBS's mix (None
    not known)."""

    state: str | None
    file: str | None = None
    duration_ms: int = 0
    active: bool | None = None

    @property
    def idle(self) -> bool:
        """Nothing plays: ended, none, error, or "playing" with no duration and no file
        (OBS 29's active source with an empty file). "Playing" with a file but no
        duration yet is a clip OBS is opening, not idle."""
        return self.state in ("ended", "none", "error") or (
            self.state == "playing" and self.duration_ms <= 0 and not self.file)

    def has(self, file: str) -> bool:
        """Whether the source's file is ``file`` (True when the file is not known)."""
        return self.file is None or self.file == file

    @classmethod
    def from_websocket(cls, media_status: Mapping[str, Any] | None, file: str | None = None,
                       active: bool | None = None) -> SourceStatus:
        """From obs-websocket's GetMediaInputStatus answer (``mediaState`` such as
        "OBS_MEDIA_STATE_PLAYING", ``mediaDuration`` in ms or null); None: no such input."""
        if media_status is None:
            return cls(None)
        state = str(media_status.get("mediaState") or "OBS_MEDIA_STATE_NONE")
        duration = media_status.get("mediaDuration") or 0
        return cls(state.removeprefix("OBS_MEDIA_STATE_").lower(), file, max(0, int(duration)), active)


@dataclass(frozen=True)
class Post:
    """Set the source's local_file to ``file`` (which starts it on an active source)."""

    file: str
    attempt: int


@dataclass(frozen=True)
class Stop:
    """Stop the media source."""


@dataclass(frozen=True)
class Finish:
    """The clip is done: ``play`` returns. ``error`` is set for FAILED and UNAVAILABLE
    (why, in the streamer's words) and for TIMED_OUT (a warning: the clip was heard)."""

    phase: Phase
    error: str | None = None


Action = Post | Stop | Finish


class ClipOnSource:
    """One clip on one media source. Parameters: ``source`` (the media source's name, for
    messages), ``file`` (what to set as its local_file), ``duration_s`` (the clip's
    length), ``timeouts``. Call ``observe`` with every look at the source (the first
    look posts the clip), ``playback_started``/``playback_ended`` with OBS's events if
    the driver has them, and ``stop`` to skip. Each returns the actions to carry out, in
    order; after a ``Finish`` (``done``) every call returns []. Not thread-safe: one
    thread drives it (or hold a lock)."""

    def __init__(self, source: str, file: str, duration_s: float, timeouts: ClipTimeouts = TIMEOUTS) -> None:
        self.source = source
        self.file = file
        self.duration_s = max(0.0, duration_s)
        self.timeouts = timeouts
        self.phase = Phase.NEW
        self.attempts = 0
        self.started_at: float | None = None
        self.error: str | None = None
        self._since: float | None = None  # when the current phase (or its wait) began
        self._paused_at: float | None = None
        self._paused_s = 0.0
        self._last: SourceStatus | None = None

    @property
    def done(self) -> bool:
        return self.phase.done

    # -- inputs -----------------------------------------------------------------------

    def observe(self, status: SourceStatus, now: float) -> list[Action]:
        """A look at the source at ``now`` (monotonic seconds)."""
        if self.done:
            return []
        self._last = status
        if status.state is None and self.phase is not Phase.STOPPING:
            return self._finish(Phase.UNAVAILABLE, self._missing_text())
        handler = {Phase.NEW: self._new, Phase.CLEARING: self._clearing, Phase.POSTED: self._posted,
                   Phase.STARTED: self._started, Phase.STOPPING: self._stopping}[self.phase]
        return handler(status, now)

    def playback_started(self, now: float) -> list[Action]:
        """OBS said the source started playing (obs-websocket MediaInputPlaybackStarted)."""
        if self.phase is Phase.POSTED:
            self._start(now)
        return []

    def playback_ended(self, now: float) -> list[Action]:
        """OBS said the source's media ended. Before our clip started it is the previous
        clip's end (settings are applied a frame late), so it only counts after."""
        if self.phase is Phase.STARTED:
            return self._finish(Phase.ENDED)
        if self.phase is Phase.STOPPING:
            return self._finish(Phase.STOPPED)
        return []

    def ends_within(self, seconds: float, now: float) -> bool:
        """Whether the clip plays (STARTED, not paused in OBS) and its length says it ends
        within ``seconds`` from ``now`` (counted from when it was seen starting, pauses
        left out). Drivers let ``play`` return then, so the next clip is ready at the end."""
        if self.phase is not Phase.STARTED or self.started_at is None or self._paused_at is not None:
            return False
        return now >= self.started_at + self._paused_s + self.duration_s - seconds

    def stop(self, now: float) -> list[Action]:
        """Skip: cut the clip if it is on the source, else just finish."""
        if self.phase in (Phase.POSTED, Phase.STARTED):
            self.phase, self._since = Phase.STOPPING, now
            return [Stop()]
        if self.phase in (Phase.NEW, Phase.CLEARING):
            return self._finish(Phase.STOPPED)
        return []

    # -- phases -----------------------------------------------------------------------

    def _new(self, status: SourceStatus, now: float) -> list[Action]:
        if status.state == "stopped":  # a stop on its way to "ended": do not cut it short
            self._since = self._since if self._since is not None else now
            if now - self._since < self.timeouts.stop_grace_s:
                return []
            return self._post(now)
        if status.state in BUSY_STATES and not status.idle:
            self.phase, self._since = Phase.CLEARING, now
            return [Stop()]
        return self._post(now)

    def _clearing(self, status: SourceStatus, now: float) -> list[Action]:
        assert self._since is not None
        gone = status.idle and status.state != "stopped"
        if gone or now - self._since >= self.timeouts.clear_s:
            return self._post(now)
        return []

    def _posted(self, status: SourceStatus, now: float) -> list[Action]:
        assert self._since is not None
        if (status.state == "playing" and status.duration_ms > 0 and status.has(self.file)
                and status.active is not False):
            self._start(now)
            return []
        if now - self._since < self.timeouts.start_s:
            return []
        if self.attempts < START_ATTEMPTS:
            return self._post(now)
        return self._finish(Phase.FAILED, self._not_started_text(status))

    def _started(self, status: SourceStatus, now: float) -> list[Action]:
        assert self.started_at is not None
        if status.state == "paused":
            self._paused_at = self._paused_at if self._paused_at is not None else now
            if now - self._paused_at >= self.timeouts.pause_limit_s:
                self.phase, self._since = Phase.STOPPING, now
                return [Stop()]
            return []
        if self._paused_at is not None:
            self._paused_s += now - self._paused_at
            self._paused_at = None
        if status.state == "stopped":  # stopped in OBS by the streamer: as a skip
            self.phase, self._since = Phase.STOPPING, now
            return []
        if status.idle or not status.has(self.file):  # ended, or another file replaced it
            return self._finish(Phase.ENDED)
        if now > self.started_at + self._paused_s + self.duration_s + self.timeouts.end_slack_s:
            late = now - self.started_at - self._paused_s - self.duration_s
            self.error = (f"media source {self.source!r} still said 'playing' {late:.1f} s after the "
                          f"clip's end; moved on to the next clip")
            self.phase = Phase.TIMED_OUT
            return [Stop(), Finish(Phase.TIMED_OUT, self.error)]
        return []

    def _stopping(self, status: SourceStatus, now: float) -> list[Action]:
        assert self._since is not None
        if status.state is None or (status.idle and status.state != "stopped"):
            return self._finish(Phase.STOPPED)
        if now - self._since >= self.timeouts.stop_grace_s:
            return self._finish(Phase.STOPPED)
        return []

    # -- helpers ------------------------------------------------------------------------

    def _post(self, now: float) -> list[Action]:
        self.attempts += 1
        self.phase, self._since = Phase.POSTED, now
        return [Post(self.file, self.attempts)]

    def _start(self, now: float) -> None:
        self.phase, self.started_at = Phase.STARTED, now

    def _finish(self, phase: Phase, error: str | None = None) -> list[Action]:
        self.phase, self.error = phase, error
        return [Finish(phase, error)]

    def _missing_text(self) -> str:
        return (f"media source {self.source!r} does not exist (deleted or renamed in OBS?); "
                f"pick a media source in the script's properties")

    def _not_started_text(self, status: SourceStatus) -> str:
        """Why OBS did not play the clip, and what to do about it."""
        if status.active is False:
            cause = ("the source is not in OBS's mix: it is not shown in the live scene and not on "
                     "an audio channel")
        elif status.state == "error":
            cause = f"OBS could not open the clip file {self.file!r}"
        elif status.state in ("opening", "buffering"):
            cause = f"OBS was still opening the clip file {self.file!r}"
        elif status.file == "":
            cause = "OBS did not take the clip: the source still has no file"
        elif not status.has(self.file):
            cause = f"the source kept its own file {status.file!r} instead of the clip"
        elif status.state == "playing":
            cause = f"OBS said 'playing' but never opened the clip file {self.file!r}"
        elif status.state == "stopped":
            cause = "the source stayed stopped"
        elif status.state == "paused":
            cause = "the source is paused in OBS"
        else:
            cause = f"the source stayed '{status.state}'"
        seconds = self.timeouts.start_s
        return (f"media source {self.source!r} did not start the clip ({self.attempts} tries, "
                f"{seconds:g} s each): {cause}. Check the source in OBS (Sources list, its "
                f"properties) or pick another media source in the script's properties")
