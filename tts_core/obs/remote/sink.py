"""Play clips through a media source of a running OBS, over obs-websocket v5.

The sink for ``obs-tts serve --sink obs``: same behaviour as the script's sink, from
outside OBS. Each clip is one ``SetInputSettings`` of the media source's
``local_file``; ``MediaInputPlaybackStarted``/``Ended`` events and
``GetMediaInputStatus`` looks, fed to the clip state machine the in-OBS sink shares
(``clip_state.ClipOnSource``: same rules, same time-outs), say when it plays.

Its parts: the connection (``ObsConnection``: reconnects by itself), the media source
(``RemoteMediaSource``: created and kept in every scene), and where OBS reads a clip
(``LocalClips`` or ``ServedClips``). ``RemoteObsSink.from_options`` builds them from
the command line's options.

OBS away: the sink never fails a message for it. ``unavailable_reason()`` (polled by
the player) says why, in the streamer's words; a connection lost mid-clip raises
``SinkUnavailable`` so the cut message plays again, first, once OBS is back. Only a clip
OBS will not play fails its message.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tts_core.domain.audio import Clip
from tts_core.domain.message import TTSMessage
from tts_core.obs.captions import caption_text
from tts_core.obs.clip_state import (
    BUSY_STATES,
    TIMEOUTS,
    ClipOnSource,
    ClipTimeouts,
    Finish,
    Phase,
    Post,
    SourceStatus,
    Stop,
)
from tts_core.obs.ducking import Ducking
from tts_core.obs.media_settings import MEDIA_PLAYBACK_SETTINGS
from tts_core.obs.remote.client import ObsConnectionError, ObsRequestFailed
from tts_core.obs.remote.clipserver import LocalClips, ServedClips
from tts_core.obs.remote.connection import DEFAULT_TIMEOUT_SECONDS, ObsConnection, ObsConnectionSettings
from tts_core.obs.remote.ducking import RemoteDucking
from tts_core.obs.remote.media_source import RemoteMediaSource
from tts_core.runtime.settings import Prepared
from tts_core.sinks.base import Cue, Sink, SinkUnavailable

if TYPE_CHECKING:
    from tts_core.config import TTSConfig

log = logging.getLogger(__name__)

DEFAULT_MEDIA_SOURCE = "TTS Audio"
MODES = ("auto", "local", "http")
WAIT_SLICE_SECONDS = 0.05
STOP_ACTION = "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_STOP"
POLL_SECONDS = 0.5  # look at the media source this often while a clip plays ...
QUICK_POLL_SECONDS = 0.1  # ... and this often while clearing, stopping or about to post
QUICK_PHASES = (Phase.NEW, Phase.CLEARING, Phase.STOPPING)
RESOURCE_NOT_FOUND = 600  # obs-websocket's RequestStatus for a source that does not exist
TRUST_ENDED_SECONDS = 2.0  # the next clip within this of the previous one's end: posted without a look
CUE_AHEAD_SECONDS = 0.25  # ask the player for the next clip this long before a clip's end


class RemoteObsSink(Sink):
    """Parameters: ``connection`` (ObsConnection), ``media_source`` (RemoteMediaSource on
    that connection), ``clips`` (LocalClips, or ServedClips for an OBS on another
    computer), ``caption_source`` (a text source, or ""), ``clip_timeouts``
    (clip_state.ClipTimeouts: how long OBS may take to start a clip, ...), ``clock``
    (monotonic seconds)."""

    name = "obs"
    label = "OBS"
    cues_next = True

    def __init__(self, connection: ObsConnection, media_source: RemoteMediaSource,
                 clips: LocalClips | None = None, caption_source: str = "",
                 clip_timeouts: ClipTimeouts = TIMEOUTS, clock: Callable[[], float] = time.monotonic,
                 ducking: Ducking | None = None) -> None:
        self.connection = connection
        self.source = media_source
        self.clips = clips or LocalClips()
        self.caption_source = caption_source
        self.clip_timeouts = clip_timeouts
        self.clock = clock
        self._media_events: queue.SimpleQueue[tuple[str, float]] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._ended_file: tuple[str, float] | None = None  # the clip that just ended (file, when)
        self._ended_by_event = False  # ... and OBS's MediaInputPlaybackEnded said so
        # the player's next clip, posted the moment OBS said the playing one ended (Cue, its
        # clip state, where OBS reads it, or what went wrong posting it)
        self._cue: Cue | None = None
        self._cue_started: tuple[Cue, ClipOnSource | Exception, str | None] | None = None
        # docs/obs.md, "Ducking": our Compressor on the chosen sources, the media source as sidechain
        self.ducking = RemoteDucking(connection, media_source.name, ducking)
        connection.on_event(self._on_event)
        connection.on_lost(lambda _reason: self._wake.set())

    @classmethod
    def from_options(cls, host: str | None = None, port: int | None = None, password: str | None = None,
                     media_source: str = DEFAULT_MEDIA_SOURCE, mode: str = "auto", caption_source: str = "",
                     clip_host: str = "0.0.0.0", clip_port: int = 0, public_host: str | None = None,
                     all_scenes: bool = True, timeout: float = DEFAULT_TIMEOUT_SECONDS,
                     clip_timeouts: ClipTimeouts = TIMEOUTS, ducking: Ducking | None = None) -> RemoteObsSink:
        """The sink with its parts, from the command line's options: ``host``, ``port``,
        ``password`` (obs-websocket; missing ones from the environment, see
        ObsConnectionSettings.from_environment), ``media_source`` (created if missing),
        ``mode`` (local: OBS reads the clip files; http: served from ``clip_host``:
        ``clip_port``, reached at ``public_host`` (default: detected); auto: local when
        OBS is on this computer), ``caption_source``, ``all_scenes`` (keep the media
        source in every scene), ``timeout`` (seconds per request), ``clip_timeouts``,
        ``ducking`` (sources to lower while a clip plays; docs/obs.md, "Ducking")."""
        if mode not in MODES:
            raise ValueError(f"unknown OBS sink mode {mode!r}; expected one of {', '.join(MODES)}")
        settings = ObsConnectionSettings.from_environment(host, port, password, timeout)
        connection = ObsConnection(settings)
        source = RemoteMediaSource(connection, media_source, all_scenes)
        if mode == "auto":
            mode = "local" if settings.is_local else "http"
        clips = ServedClips(clip_host, clip_port, public_host, peer=settings.host) if mode == "http" \
            else LocalClips()
        return cls(connection, source, clips, caption_source, clip_timeouts, ducking=ducking)

    @property
    def mode(self) -> str:
        return self.clips.mode

    def unavailable_reason(self) -> str | None:
        """None when OBS is connected and the media source is ready; else why not (and,
        when the back-off allows, one more attempt to connect). Called by the player."""
        if self.source.ready:
            self._keep_ducking()
            return None
        reason = self.connection.reason()
        if reason is not None:
            return reason
        try:
            self.source.ensure()
        except ObsConnectionError as exc:
            return self.connection.away or str(exc)
        except ObsRequestFailed as exc:
            return f"media source {self.source.name!r} cannot be set up: {exc}"
        self._keep_ducking()
        return None

    def prepare_config(self, config: TTSConfig) -> Prepared:
        """Its part of ``manager.reconfigure`` (``obs-tts serve`` registers the sink): the
        ``ducking`` section, carried out in OBS at once (``ducking.note`` says how)."""
        return self.ducking.prepare_config(config)

    def _keep_ducking(self) -> None:
        """Our ducking filters on this connection (a no-op once applied); a refusal is
        logged, never a reason to hold the queue."""
        try:
            self.ducking.ensure()
        except ObsRequestFailed as exc:
            log.warning("ducking: OBS refused a filter change: %s", exc)
        except ObsConnectionError:
            pass  # OBS away: the player waits, and it is applied on the next connection

    # -- obs-websocket events (its receive thread: no requests here) -----------------------

    def _on_event(self, name: str, data: dict[str, Any]) -> None:
        if name in ("MediaInputPlaybackStarted", "MediaInputPlaybackEnded") and \
                data.get("inputName") == self.source.name:
            self._media_events.put((name.removeprefix("MediaInputPlayback"), self.clock()))
            self._wake.set()

    # -- Sink -------------------------------------------------------------------------------

    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None:
        """Play ``clip``; raises SinkUnavailable when OBS is away (the message stays
        pending), ObsRequestFailed when OBS will not play this clip."""
        if clip.path is None:
            raise ValueError(f"clip of {message.id} has no file")
        location = None
        adopted = self._adopt(clip, message)
        try:
            if adopted is not None:  # posted already, when the previous clip ended
                state, location = adopted
                if isinstance(state, Exception):
                    raise state
                self._play(state, message, stop, posted=True)
                return
            self.source.ensure()
            self._keep_ducking()
            location = self.clips.location(clip.path, self._served_name(clip, message))
            self._play(ClipOnSource(self.source.name, location, clip.duration_ms / 1000.0,
                                    self.clip_timeouts), message, stop)
        except ObsConnectionError as exc:
            raise SinkUnavailable(self.connection.away or str(exc)) from None
        finally:
            if self.caption_source and self.connection.connected and self._cue_started is None:
                self._set_caption("")  # (a clip posted already shows its own caption)
            if location is not None:
                self.clips.release(location)

    @staticmethod
    def _served_name(clip: Clip, message: TTSMessage) -> str:
        # an alert sound plays right before its message's speech: its own served name
        return message.id if clip is message.clip else f"{message.id}-alert"

    def _adopt(self, clip: Clip, message: TTSMessage) -> tuple[ClipOnSource | Exception, str | None] | None:
        """The clip state of ``clip`` if it was posted when the previous clip ended; a cue
        that was not posted never is."""
        self._cue = None
        started, self._cue_started = self._cue_started, None
        if started is None:
            return None
        cue, state, location = started
        if cue.clip is clip and cue.message is message:
            return state, location
        if location is not None:
            self.clips.release(location)
        return None

    def _ask_next(self, clip: ClipOnSource, now: float) -> None:
        """Near the clip's end: the player's next clip, to post the moment this one ends."""
        if self._cue is None and self.next_up is not None and clip.ends_within(CUE_AHEAD_SECONDS, now):
            self._cue = self.next_up()

    def _post_cue(self, ended_file: str) -> None:
        """OBS's event said our clip ended and nothing started since: post the cued clip now,
        before the player records that end (it adopts this one next)."""
        cue, self._cue = self._cue, None
        if cue is None or cue.clip is None or cue.clip.path is None or cue.stop.is_set() \
                or not cue.decision.claim():
            return
        location = None
        try:
            location = self.clips.location(cue.clip.path, self._served_name(cue.clip, cue.message))
            state = ClipOnSource(self.source.name, location, cue.clip.duration_ms / 1000.0,
                                 self.clip_timeouts)
            for action in state.observe(SourceStatus("ended", ended_file), self.clock()):
                if isinstance(action, Post):
                    self._post(action, cue.message)
            self._cue_started = (cue, state, location)
        except Exception as exc:  # noqa: BLE001 - raised by that clip's play()
            self._cue_started = (cue, exc, location)

    def _play(self, clip: ClipOnSource, message: TTSMessage, stop: threading.Event,
              posted: bool = False) -> None:
        """Drive ``clip`` (the shared clip state machine) with obs-websocket: its events,
        GetMediaInputStatus looks, and the Post/Stop/Finish actions it asks for;
        ``posted``: set on the source already (``_post_cue``)."""
        if posted:
            self._ended_file = None
            self._follow(clip, message, stop, [])
            return
        started_since = False  # a clip started on the source since our previous one ended
        while not self._media_events.empty():  # events of an earlier clip
            started_since |= self._media_events.get_nowait()[0] == "Started"
        ended, self._ended_file = self._ended_file, None
        if (ended is not None and self._ended_by_event and not started_since
                and self.clock() - ended[1] <= TRUST_ENDED_SECONDS):
            # OBS's MediaInputPlaybackEnded just said our previous clip is over and nothing
            # started since: post at once, without a look (a round trip that waits for OBS's
            # next frame, about 15 ms) between one clip's end and the next one's start.
            first = SourceStatus("ended", ended[0])
        else:
            first = self._look()
            if ended is not None and first.file == ended[0] and first.state in BUSY_STATES:
                # OBS sent MediaInputPlaybackEnded for our previous clip a moment before its
                # media state says so: that clip is over, not a foreign one to stop.
                first = SourceStatus("ended", first.file, 0, first.active)
        self._follow(clip, message, stop, clip.observe(first, self.clock()))

    def _follow(self, clip: ClipOnSource, message: TTSMessage, stop: threading.Event,
                actions: list[Post | Stop | Finish]) -> None:
        next_look = self.clock() + QUICK_POLL_SECONDS
        stopping = False
        ended_at: float | None = None  # when OBS's MediaInputPlaybackEnded came
        started_after_end = False
        while True:
            for action in actions:
                if isinstance(action, Post):
                    self._post(action, message)
                elif isinstance(action, Stop):
                    self._stop()
                else:
                    trusted = None if started_after_end else ended_at
                    self._finished(action, clip.file, message, trusted)
                    if action.phase is Phase.ENDED and trusted is not None:
                        self._post_cue(clip.file)
                    return
            self._wake.wait(WAIT_SLICE_SECONDS)
            self._wake.clear()
            if not self.connection.connected:
                raise ObsConnectionError("lost the connection to OBS mid-clip")
            actions = []
            while not self._media_events.empty():
                kind, at = self._media_events.get_nowait()
                if clip.done:  # after our clip's end: something else started on the source?
                    started_after_end |= kind == "Started"
                elif kind == "Started":
                    actions += clip.playback_started(at)
                else:
                    ending = clip.playback_ended(at)
                    ended_at = at if ending else ended_at
                    actions += ending
            now = self.clock()
            self._ask_next(clip, now)
            if stop.is_set() and not stopping:
                stopping = True
                actions += clip.stop(now)
            if not actions and now >= next_look:
                actions = clip.observe(self._look(), now)
                next_look = now + (QUICK_POLL_SECONDS if clip.phase in QUICK_PHASES else POLL_SECONDS)

    def _look(self) -> SourceStatus:
        """The media source as the clip state machine sees it (None state: it is gone)."""
        name = self.source.name
        answers = self.connection.call_all([("GetMediaInputStatus", {"inputName": name}),
                                            ("GetInputSettings", {"inputName": name}),
                                            ("GetSourceActive", {"sourceName": name})])
        status, settings_answer, active_answer = answers
        if isinstance(status, ObsRequestFailed) or isinstance(settings_answer, ObsRequestFailed):
            return SourceStatus(None)
        settings = settings_answer.get("inputSettings") or {}
        active = None if isinstance(active_answer, ObsRequestFailed) else active_answer.get("videoActive")
        local_file = settings.get("local_file")
        return SourceStatus.from_websocket(status, str(local_file) if local_file is not None else "",
                                           None if active is None else bool(active))

    def _post(self, action: Post, message: TTSMessage) -> None:
        settings = {**MEDIA_PLAYBACK_SETTINGS, "local_file": action.file}
        try:
            self.connection.call("SetInputSettings", inputName=self.source.name, inputSettings=settings,
                                 overlay=True)
        except ObsRequestFailed as exc:
            if exc.code != RESOURCE_NOT_FOUND:
                raise
            self.source.lost()  # deleted (its InputRemoved not seen yet): created again before the next clip
            raise SinkUnavailable(f"media source {self.source.name!r} is gone from OBS (deleted or "
                                  "renamed?); it is created again") from None
        if action.attempt == 1 and self.caption_source:
            self._set_caption(caption_text(message))
        if action.attempt > 1:
            log.warning("media source %r did not start the clip of %s; posting it once more",
                        self.source.name, message.id)

    def _finished(self, action: Finish, file: str, message: TTSMessage, ended_at: float | None) -> None:
        if action.phase is Phase.FAILED:
            raise ObsRequestFailed(action.error or f"{self.source.name!r} did not play the clip")
        if action.phase is Phase.UNAVAILABLE:
            self.source.lost()  # created again before the next clip
            raise SinkUnavailable(f"media source {self.source.name!r} is gone from OBS (deleted or "
                                  "renamed?); it is created again")
        if action.phase is Phase.TIMED_OUT:
            log.warning("%s (%s)", action.error, message.id)
        if action.phase is Phase.ENDED:  # OBS's event said so (when): the next clip may skip the look
            self._ended_file = (file, self.clock() if ended_at is None else ended_at)
            self._ended_by_event = ended_at is not None

    def _stop(self) -> None:
        try:
            self.connection.call("TriggerMediaInputAction", inputName=self.source.name,
                                 mediaAction=STOP_ACTION)
        except ObsRequestFailed as exc:
            log.warning("could not stop the clip: %s", exc)

    def _set_caption(self, text: str) -> None:
        try:
            self.connection.call("SetInputSettings", inputName=self.caption_source,
                                 inputSettings={"text": text}, overlay=True)
        except ObsRequestFailed as exc:
            log.warning("caption source %r: %s", self.caption_source, exc)
        except ObsConnectionError:
            pass  # OBS away: the caption is set again with the next clip

    def close(self) -> None:
        try:
            self.ducking.remove_all()  # the streamer's OBS keeps none of our filters
        except (ObsConnectionError, ObsRequestFailed) as exc:
            log.warning("ducking: could not remove our filters from OBS: %s", exc)
        self.connection.close()
        self.clips.close()
