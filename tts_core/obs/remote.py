"""Play clips through a media source of a running OBS, over obs-websocket v5.

The sink for ``obs-tts serve --sink obs``: same behaviour as the script's sink, from
outside OBS. Each clip is one ``SetInputSettings`` of the media source's
``local_file``; ``MediaInputPlaybackStarted``/``Ended`` events and
``GetMediaInputStatus`` polls say when it plays (``ClipWatch``).

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
from tts_core.sinks.base import SinkUnavailable

log = logging.getLogger(__name__)

__all__ = ["ClipWatch", "ObsAuthError", "ObsConnectionError", "ObsRequestFailed", "Reconnect",
           "RemoteObsSink"]

DEFAULT_PORT = 4455
HOST_ENV, PORT_ENV, PASSWORD_ENV = "OBS_WEBSOCKET_HOST", "OBS_WEBSOCKET_PORT", "OBS_WEBSOCKET_PASSWORD"
MODES = ("auto", "local", "http")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
EVENT_SUBSCRIPTIONS = EVENTS_GENERAL | EVENTS_CONFIG | EVENTS_SCENES | EVENTS_INPUTS | EVENTS_MEDIA_INPUTS
WAIT_SLICE_SECONDS = 0.05
STOP_WAIT_SECONDS = 0.5
STOP_ACTION = "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_STOP"
RECONNECT_FIRST_SECONDS = 0.5  # OBS away: try again after this, doubling ...
RECONNECT_MAX_SECONDS = 5.0  # ... up to this
RECONNECT_AUTH_SECONDS = 10.0  # a refused password: try again this often (it may be fixed in OBS)

# -- one clip on the media source (swap for the shared clip state machine) ----------------

START_TIMEOUT_SECONDS = 5.0  # OBS must start a posted clip within this ...
START_ATTEMPTS = 2  # ... else it is posted once more, then fails
END_SLACK_SECONDS = 3.0  # still playing this long after its end: moving on
POLL_SECONDS = 1.0  # GetMediaInputStatus this often, for events OBS did not send
ACTIVE_STATES = ("OBS_MEDIA_STATE_PLAYING", "OBS_MEDIA_STATE_OPENING", "OBS_MEDIA_STATE_BUFFERING")


class ClipWatch:
    """The state of one clip posted to a media source, from events and polls; pure (no
    OBS calls, time passed in). ``verdict(now)``: "waiting", "ended", "not started"
    (within START_TIMEOUT_SECONDS), "overdue" (still playing END_SLACK_SECONDS after
    its end). A source reporting PLAYING with no file (duration 0) is not our clip."""

    def __init__(self, duration_s: float, posted_at: float) -> None:
        self.duration_s = duration_s
        self.posted_at = posted_at
        self.started_at: float | None = None
        self.ended = False
        self.missed_end = False  # OBS sent no MediaInputPlaybackEnded; a poll saw the end
        self.last_state = "not polled"
        self._next_poll = posted_at + POLL_SECONDS

    def started(self, now: float) -> None:
        if self.started_at is None:
            self.started_at = now

    def end_event(self) -> None:
        if self.started_at is not None:  # an end before our start is the previous clip's
            self.ended = True

    def poll_due(self, now: float) -> bool:
        if now < self._next_poll:
            return False
        self._next_poll = now + POLL_SECONDS
        return True

    def polled(self, state: str, duration_ms: int | None, cursor_ms: int | None, now: float) -> None:
        self.last_state = state
        if state in ACTIVE_STATES:
            if state == "OBS_MEDIA_STATE_PLAYING" and not duration_ms and not cursor_ms:
                self.last_state = "playing with no file"  # DESIGN.md 4: an empty active source
                return
            if self.started_at is None and (cursor_ms or 0) > 0:
                self.started(now)
        elif self.started_at is not None:
            self.ended = self.missed_end = True

    def verdict(self, now: float) -> str:
        if self.ended:
            return "ended"
        if self.started_at is None:
            return "not started" if now > self.posted_at + START_TIMEOUT_SECONDS else "waiting"
        if now > self.started_at + self.duration_s + END_SLACK_SECONDS:
            return "overdue"
        return "waiting"


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


class RemoteObsSink:
    """Parameters: ``host``, ``port``, ``password`` (obs-websocket; Tools > WebSocket
    Server Settings; default: $OBS_WEBSOCKET_HOST, $OBS_WEBSOCKET_PORT,
    $OBS_WEBSOCKET_PASSWORD, else 127.0.0.1, 4455, none), ``media_source`` (created if
    missing), ``mode`` (auto, local, http), ``caption_source`` (a text source, or ""),
    ``clip_host``/``clip_port`` (where the http mode serves clips), ``public_host`` (the
    address OBS reaches this computer at; default: detected), ``all_scenes`` (keep the
    media source in every scene), ``timeout`` (seconds per request), ``client_factory``
    (tests: builds the client from the sink's event and close handlers)."""

    name = "obs"
    label = "OBS"

    def __init__(self, host: str | None = None, port: int | None = None, password: str | None = None,
                 media_source: str = "TTS Audio", mode: str = "auto", caption_source: str = "",
                 clip_host: str = "0.0.0.0", clip_port: int = 0, public_host: str | None = None,
                 all_scenes: bool = True, timeout: float = 5.0,
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
        self.connect()
        client = self._client
        if client is None:
            raise ObsConnectionError(f"{request_type}: not connected to OBS")
        return client.call(request_type, data)

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
            self._play(location, clip.duration_ms / 1000.0, message, stop)
        except ObsConnectionError as exc:
            raise SinkUnavailable(self._away or str(exc)) from None
        finally:
            if self.caption_source and self.connected:
                self._set_caption("")
            if self._clip_server is not None and location is not None and location.startswith("http"):
                self._clip_server.unregister(location)

    def _play(self, location: str, duration_s: float, message: TTSMessage, stop: threading.Event) -> None:
        for attempt in range(1, START_ATTEMPTS + 1):
            watch = self._post(location, duration_s)
            if attempt == 1 and self.caption_source:
                self._set_caption(caption_text(message))
            verdict = self._follow(watch, stop)
            if verdict != "not started":
                return
            log.warning("media source %r did not start the clip of %s within %.0f s (%s); %s",
                        self.media_source, message.id, START_TIMEOUT_SECONDS, watch.last_state,
                        "posting it once more" if attempt < START_ATTEMPTS else "giving up")
        raise ObsRequestFailed(
            f"media source {self.media_source!r} did not start the clip ({watch.last_state}) after "
            f"{START_ATTEMPTS} tries: check that OBS can open {location}")

    def _post(self, location: str, duration_s: float) -> ClipWatch:
        while not self._media_events.empty():  # events of an earlier clip
            self._media_events.get_nowait()
        watch = ClipWatch(duration_s, time.monotonic())
        self.call("SetInputSettings", inputName=self.media_source,
                  inputSettings={**MEDIA_PLAYBACK_SETTINGS, "local_file": location}, overlay=True)
        return watch

    def _follow(self, watch: ClipWatch, stop: threading.Event) -> str:
        """Feed events and polls to ``watch`` until it has a verdict; stop on skip."""
        while True:
            self._wake.wait(WAIT_SLICE_SECONDS)
            self._wake.clear()
            if not self.connected:
                raise ObsConnectionError("lost the connection to OBS mid-clip")
            while not self._media_events.empty():
                kind, at = self._media_events.get_nowait()
                if kind == "Started":
                    watch.started(at)
                else:
                    watch.end_event()
            now = time.monotonic()
            if stop.is_set():
                self._stop(watch)
                return "stopped"
            if watch.verdict(now) == "waiting" and watch.poll_due(now):
                status = self.call("GetMediaInputStatus", inputName=self.media_source)
                watch.polled(str(status.get("mediaState")), status.get("mediaDuration"),
                             status.get("mediaCursor"), now)
            verdict = watch.verdict(now)
            if verdict == "waiting":
                continue
            if verdict == "overdue":
                log.warning("media source %r still playing %.0f s after the clip's end; moving on",
                            self.media_source, END_SLACK_SECONDS)
                self._stop(watch)
            elif watch.missed_end:
                log.warning("media source %r ended without an event (%s)", self.media_source,
                            watch.last_state)
            return verdict

    def _stop(self, watch: ClipWatch) -> None:
        try:
            self.call("TriggerMediaInputAction", inputName=self.media_source, mediaAction=STOP_ACTION)
        except ObsRequestFailed as exc:
            log.warning("could not stop the clip: %s", exc)
            return
        if watch.started_at is not None:
            deadline = time.monotonic() + STOP_WAIT_SECONDS
            while time.monotonic() < deadline and self.connected:
                try:
                    if self._media_events.get(timeout=WAIT_SLICE_SECONDS)[0] == "Ended":
                        return
                except queue.Empty:
                    continue

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
