"""Play clips through a media source of a running OBS, over obs-websocket v5.

The sink for ``obs-tts serve --sink obs``: same behaviour as the script's sink, from
outside OBS. Each clip is one ``SetInputSettings`` of the media source's
``local_file``; ``MediaInputPlaybackStarted``/``Ended`` events and
``GetMediaInputStatus`` looks, fed to the clip state machine the in-OBS sink shares
(``clip_state.ClipOnSource``: same rules, same time-outs), say when it plays.

Modes: ``local`` (OBS on this computer reads the clip file), ``http`` (OBS on another
computer fetches it from a small HTTP server here; OBS's media source opens URLs given
as its local file), ``auto`` (local when ``host`` is this computer).

obs-websocket cannot put a source on an output channel, so the media source is kept
in every scene (``all_scenes``): a scene switch never cuts a clip, and the source is
mixed once (only the live scene is heard).

OBS away (not running, restarting, obs-websocket off, wrong password): the sink never
fails a message for it. ``unavailable_reason()`` (polled by the player) says why, in
the streamer's words, and reconnects with back-off (``Reconnect``); a connection lost
mid-clip raises ``SinkUnavailable`` so the cut message plays again, first, once OBS is
back. Only a clip OBS will not play fails its message.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tts_core.audio import Clip
from tts_core.message import TTSMessage
from tts_core.obs.api import MEDIA_PLAYBACK_SETTINGS, MEDIA_SOURCE_KIND
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
from tts_core.obs.clipserver import ClipServer
from tts_core.obs.websocket_client import (
    EVENTS_CONFIG,
    EVENTS_GENERAL,
    EVENTS_INPUTS,
    EVENTS_MEDIA_INPUTS,
    EVENTS_SCENES,
    ObsAuthError,
    ObsConnectionError,
    ObsRequestFailed,
    ObsWebSocketClient,
)
from tts_core.sinks.base import Sink, SinkUnavailable

log = logging.getLogger(__name__)

__all__ = ["ObsAuthError", "ObsConnectionError", "ObsRequestFailed", "Reconnect",
           "RemoteObsSink"]

DEFAULT_PORT = 4455
HOST_ENV, PORT_ENV, PASSWORD_ENV = "OBS_WEBSOCKET_HOST", "OBS_WEBSOCKET_PORT", "OBS_WEBSOCKET_PASSWORD"
MODES = ("auto", "local", "http")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
EVENT_SUBSCRIPTIONS = EVENTS_GENERAL | EVENTS_CONFIG | EVENTS_SCENES | EVENTS_INPUTS | EVENTS_MEDIA_INPUTS
WAIT_SLICE_SECONDS = 0.05
STOP_ACTION = "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_STOP"
RECONNECT_FIRST_SECONDS = 0.5  # OBS away: try again after this, doubling ...
RECONNECT_MAX_SECONDS = 5.0  # ... up to this
RECONNECT_AUTH_SECONDS = 10.0  # a refused password: try again this often (it may be fixed in OBS)

POLL_SECONDS = 0.5  # look at the media source this often while a clip plays ...
QUICK_POLL_SECONDS = 0.1  # ... and this often while clearing, stopping or about to post
QUICK_PHASES = (Phase.NEW, Phase.CLEARING, Phase.STOPPING)


# -- the connection ---------------------------------------------------------------------------


class Reconnect:
    """When to try connecting again: first at once, then after RECONNECT_FIRST_SECONDS,
    doubling up to RECONNECT_MAX_SECONDS (RECONNECT_AUTH_SECONDS after a refused
    password); reset by a success. Pure (time passed in)."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.next_at = 0.0
        self.failures = 0

    def due(self, now: float) -> bool:
        return now >= self.next_at

    def failed(self, now: float, auth: bool = False) -> float:
        """Record a failed attempt; returns the seconds until the next one."""
        self.failures += 1
        if auth:
            self.delay = RECONNECT_AUTH_SECONDS
        else:
            self.delay = min(max(self.delay * 2, RECONNECT_FIRST_SECONDS), RECONNECT_MAX_SECONDS)
        self.next_at = now + self.delay
        return self.delay

    def succeeded(self) -> None:
        self.delay = self.next_at = 0.0
        self.failures = 0


def what_to_check(address: str, port: int, error: ObsConnectionError) -> str:
    """Why OBS is away, and what the streamer should check, in one stable sentence."""
    if isinstance(error, ObsAuthError):
        return (f"obs-websocket at {address} refused the password ({error}): set the password shown in "
                f"OBS under Tools > WebSocket Server Settings > Show Connect Info in ${PASSWORD_ENV}")
    return (f"OBS is not reachable at {address} ({error.kind}): check that OBS is running, that Tools > "
            f"WebSocket Server Settings has \"Enable WebSocket server\" on with port {port}, "
            "and the password")


class RemoteObsSink(Sink):
    """Parameters: ``host``, ``port``, ``password`` (obs-websocket; Tools > WebSocket
    Server Settings; default: $OBS_WEBSOCKET_HOST, $OBS_WEBSOCKET_PORT,
    $OBS_WEBSOCKET_PASSWORD, else 127.0.0.1, 4455, none), ``media_source`` (created if
    missing), ``mode`` (auto, local, http), ``caption_source`` (a text source, or ""),
    ``clip_host``/``clip_port`` (where the http mode serves clips), ``public_host`` (the
    address OBS reaches this computer at; default: detected), ``all_scenes`` (keep the
    media source in every scene), ``timeout`` (seconds per request), ``clip_timeouts``
    (clip_state.ClipTimeouts: how long OBS may take to start a clip, ...), ``client_factory``
    (tests: builds the client from the sink's event and close handlers)."""

    name = "obs"
    label = "OBS"

    def __init__(self, host: str | None = None, port: int | None = None, password: str | None = None,
                 media_source: str = "TTS Audio", mode: str = "auto", caption_source: str = "",
                 clip_host: str = "0.0.0.0", clip_port: int = 0, public_host: str | None = None,
                 all_scenes: bool = True, timeout: float = 5.0, clip_timeouts: ClipTimeouts = TIMEOUTS,
                 client_factory: Callable[[RemoteObsSink], ObsWebSocketClient] | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown OBS sink mode {mode!r}; expected one of {', '.join(MODES)}")
        if not media_source:
            raise ValueError("the OBS sink needs the name of a media source")
        self.host = host or os.environ.get(HOST_ENV) or "127.0.0.1"
        self.port = port or int(os.environ.get(PORT_ENV) or DEFAULT_PORT)
        self.password = os.environ.get(PASSWORD_ENV, "") if password is None else password
        self.media_source = media_source
        self.caption_source = caption_source
        self.mode = ("local" if self.host in LOCAL_HOSTS else "http") if mode == "auto" else mode
        self.all_scenes = all_scenes
        self.timeout = timeout
        self.clip_timeouts = clip_timeouts
        self._client_factory = client_factory or _default_client
        self._clip_server_args = (clip_host, clip_port, public_host)
        self._clip_server: ClipServer | None = None
        self._client: ObsWebSocketClient | None = None
        self._connect_lock = threading.Lock()
        self._reconnect = Reconnect()
        self._away: str | None = None  # why OBS is away (None: connected, or never tried)
        self._media_events: queue.SimpleQueue[tuple[str, float]] = queue.SimpleQueue()
        self._wake = threading.Event()
        self._source_ready = False
        self._scenes_ready = False
        self._ended_file: str | None = None  # the file of the clip that just ended (by OBS's event)

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    # -- connection -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        client = self._client
        return client is not None and client.connected

    def connect(self) -> None:
        """Connect now (``play`` and ``unavailable_reason`` connect by themselves);
        raises ObsConnectionError (ObsAuthError for a refused password)."""
        with self._connect_lock:
            if self.connected:
                return
            self._drop_client()
            client = self._client_factory(self)
            try:
                client.connect()
            except ObsConnectionError as exc:
                self._reconnect.failed(time.monotonic(), auth=isinstance(exc, ObsAuthError))
                self._set_away(what_to_check(self.address, self.port, exc))
                raise
            self._client = client
            self._reconnect.succeeded()
            self._source_ready = self._scenes_ready = False
        self._away = None
        log.info("connected to obs-websocket %s at %s (%s mode)", client.server_version or "?", self.address,
                 self.mode)

    def _set_away(self, reason: str) -> None:
        if reason != self._away:  # the player logs it, as "waiting for OBS: <reason>"
            log.debug("OBS sink: %s", reason)
        self._away = reason

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def unavailable_reason(self) -> str | None:
        """None when OBS is connected and the media source is ready; else why not (and,
        when the back-off allows, one more attempt to connect). Called by the player."""
        if self.connected and self._source_ready and (self._scenes_ready or not self.all_scenes):
            return None
        if not self.connected and not self._reconnect.due(time.monotonic()):
            return self._away or f"waiting to reconnect to OBS at {self.address}"
        try:
            self.ensure_source()
        except ObsConnectionError as exc:
            return self._away or str(exc)
        except ObsRequestFailed as exc:
            return f"media source {self.media_source!r} cannot be set up: {exc}"
        return None

    def call(self, request_type: str, **data: Any) -> dict[str, Any]:
        """One obs-websocket request; returns its responseData. Connects if needed.

        Raises ObsRequestFailed (OBS said no) or ObsConnectionError (OBS away).
        """
        answer = self.call_all([(request_type, data)])[0]
        if isinstance(answer, ObsRequestFailed):
            raise answer
        return answer

    def call_all(self, requests: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any] | ObsRequestFailed]:
        """Several requests in one round trip; each answer is its responseData or the
        ObsRequestFailed OBS answered. Connects if needed; raises ObsConnectionError."""
        self.connect()
        client = self._client
        if client is None:
            raise ObsConnectionError("not connected to OBS")
        try:
            return client.call_all(requests)
        except ObsConnectionError as exc:
            if exc.kind == "no answer":  # OBS hangs (or the network): start over with a new connection
                with self._connect_lock:
                    if self._client is client:
                        self._drop_client()
                self._reconnect.failed(time.monotonic())
                self._set_away(what_to_check(self.address, self.port, exc))
            raise

    # -- obs-websocket events (its receive thread: no requests here) -----------------------

    def on_event(self, name: str, data: dict[str, Any]) -> None:
        if name in ("MediaInputPlaybackStarted", "MediaInputPlaybackEnded"):
            if data.get("inputName") == self.media_source:
                self._media_events.put((name.removeprefix("MediaInputPlayback"), time.monotonic()))
                self._wake.set()
        elif name in ("SceneCreated", "CurrentSceneCollectionChanged"):
            self._scenes_ready = False
            self._source_ready = name == "SceneCreated" and self._source_ready
        elif name in ("InputRemoved", "InputNameChanged") and self.media_source in (
                data.get("inputName"), data.get("oldInputName")):
            self._source_ready = self._scenes_ready = False

    def on_close(self, reason: str) -> None:
        if self._client is None:
            return  # closed by us
        self._source_ready = self._scenes_ready = False
        self._away = f"lost the connection to obs-websocket at {self.address} ({reason}); reconnecting"
        log.info("OBS sink: %s", self._away)  # the player warns, as "waiting for OBS: ..."
        self._wake.set()

    # -- the media source ------------------------------------------------------------------

    def ensure_source(self) -> None:
        """Connect if needed, create the media source if missing and keep it in every scene."""
        if not self._source_ready:
            inputs = {i["inputName"]: i for i in self.call("GetInputList")["inputs"]}
            found = inputs.get(self.media_source)
            if found is None:
                scene = self.call("GetCurrentProgramScene")["currentProgramSceneName"]
                self.call("CreateInput", sceneName=scene, inputName=self.media_source,
                          inputKind=MEDIA_SOURCE_KIND, inputSettings=dict(MEDIA_PLAYBACK_SETTINGS),
                          sceneItemEnabled=True)
                log.info("created media source %r in scene %r", self.media_source, scene)
            elif found.get("unversionedInputKind", found.get("inputKind")) != MEDIA_SOURCE_KIND:
                kind = found.get("inputKind")
                raise ObsRequestFailed(f"{self.media_source!r} is a {kind}, not a media source")
            self._source_ready = True
        if self.all_scenes and not self._scenes_ready:
            for scene in self.call("GetSceneList")["scenes"]:
                name = scene["sceneName"]
                try:
                    self.call("GetSceneItemId", sceneName=name, sourceName=self.media_source)
                except ObsRequestFailed:
                    self.call("CreateSceneItem", sceneName=name, sourceName=self.media_source,
                              sceneItemEnabled=True)
                    log.info("added media source %r to scene %r", self.media_source, name)
            self._scenes_ready = True

    # -- Sink -------------------------------------------------------------------------------

    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None:
        """Play ``clip``; raises SinkUnavailable when OBS is away (the message stays
        pending), ObsRequestFailed when OBS will not play this clip."""
        if clip.path is None:
            raise ValueError(f"clip of {message.id} has no file")
        location = None
        try:
            self.ensure_source()
            location = self._clip_location(clip.path, message.id)
            self._play(ClipOnSource(self.media_source, location, clip.duration_ms / 1000.0,
                                    self.clip_timeouts), message, stop)
        except ObsConnectionError as exc:
            raise SinkUnavailable(self._away or str(exc)) from None
        finally:
            if self.caption_source and self.connected:
                self._set_caption("")
            if self._clip_server is not None and location is not None and location.startswith("http"):
                self._clip_server.unregister(location)

    def _play(self, clip: ClipOnSource, message: TTSMessage, stop: threading.Event) -> None:
        """Drive ``clip`` (the shared clip state machine) with obs-websocket: its events,
        GetMediaInputStatus looks, and the Post/Stop/Finish actions it asks for."""
        while not self._media_events.empty():  # events of an earlier clip
            self._media_events.get_nowait()
        first = self._look(clip.file)
        if first.file is not None and first.file == self._ended_file and first.state in BUSY_STATES:
            # OBS sent MediaInputPlaybackEnded for our previous clip a moment before its
            # media state says so: that clip is over, not a foreign one to stop.
            first = SourceStatus("ended", first.file, 0, first.active)
        self._ended_file = None
        actions = clip.observe(first, time.monotonic())
        next_look = time.monotonic() + QUICK_POLL_SECONDS
        stopping = False
        while True:
            for action in actions:
                if isinstance(action, Post):
                    self._post(action, message)
                elif isinstance(action, Stop):
                    self._stop()
                else:
                    self._finished(action, clip.file, message)
                    return
            self._wake.wait(WAIT_SLICE_SECONDS)
            self._wake.clear()
            if not self.connected:
                raise ObsConnectionError("lost the connection to OBS mid-clip")
            actions = []
            while not self._media_events.empty():
                kind, at = self._media_events.get_nowait()
                actions += clip.playback_started(at) if kind == "Started" else clip.playback_ended(at)
            now = time.monotonic()
            if stop.is_set() and not stopping:
                stopping = True
                actions += clip.stop(now)
            if not actions and now >= next_look:
                actions = clip.observe(self._look(clip.file), now)
                next_look = now + (QUICK_POLL_SECONDS if clip.phase in QUICK_PHASES else POLL_SECONDS)

    def _look(self, file: str) -> SourceStatus:
        """The media source as the clip state machine sees it (None state: it is gone)."""
        answers = self.call_all([("GetMediaInputStatus", {"inputName": self.media_source}),
                                 ("GetInputSettings", {"inputName": self.media_source}),
                                 ("GetSourceActive", {"sourceName": self.media_source})])
        status, settings_answer, active_answer = answers
        if isinstance(status, ObsRequestFailed) or isinstance(settings_answer, ObsRequestFailed):
            return SourceStatus(None)
        settings = settings_answer.get("inputSettings") or {}
        active = None if isinstance(active_answer, ObsRequestFailed) else active_answer.get("videoActive")
        local_file = settings.get("local_file")
        return SourceStatus.from_websocket(status, str(local_file) if local_file is not None else "",
                                           None if active is None else bool(active))

    def _post(self, action: Post, message: TTSMessage) -> None:
        self.call("SetInputSettings", inputName=self.media_source,
                  inputSettings={**MEDIA_PLAYBACK_SETTINGS, "local_file": action.file}, overlay=True)
        if action.attempt == 1 and self.caption_source:
            self._set_caption(caption_text(message))
        if action.attempt > 1:
            log.warning("media source %r did not start the clip of %s; posting it once more",
                        self.media_source, message.id)

    def _finished(self, action: Finish, file: str, message: TTSMessage) -> None:
        if action.phase is Phase.FAILED:
            raise ObsRequestFailed(action.error or f"{self.media_source!r} did not play the clip")
        if action.phase is Phase.UNAVAILABLE:
            self._source_ready = self._scenes_ready = False  # created again on the next look
            raise SinkUnavailable(f"media source {self.media_source!r} is gone from OBS (deleted or "
                                  "renamed?); it is created again")
        if action.phase is Phase.TIMED_OUT:
            log.warning("%s (%s)", action.error, message.id)
        if action.phase is Phase.ENDED:
            self._ended_file = file

    def _stop(self) -> None:
        try:
            self.call("TriggerMediaInputAction", inputName=self.media_source, mediaAction=STOP_ACTION)
        except ObsRequestFailed as exc:
            log.warning("could not stop the clip: %s", exc)

    def _set_caption(self, text: str) -> None:
        try:
            self.call("SetInputSettings", inputName=self.caption_source, inputSettings={"text": text},
                      overlay=True)
        except ObsRequestFailed as exc:
            log.warning("caption source %r: %s", self.caption_source, exc)
        except ObsConnectionError:
            pass  # OBS away: the caption is set again with the next clip

    def _clip_location(self, path: Path, message_id: str) -> str:
        if self.mode == "local":
            return str(path)
        if self._clip_server is None:
            host, port, public = self._clip_server_args
            self._clip_server = ClipServer(host, port, public, peer=self.host)
        return self._clip_server.register(path, message_id)

    def close(self) -> None:
        with self._connect_lock:
            self._drop_client()
        if self._clip_server is not None:
            self._clip_server.close()
            self._clip_server = None


def _default_client(sink: RemoteObsSink) -> ObsWebSocketClient:
    return ObsWebSocketClient(sink.host, sink.port, sink.password, sink.timeout, EVENT_SUBSCRIPTIONS,
                              on_event=sink.on_event, on_close=sink.on_close)
