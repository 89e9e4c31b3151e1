"""Play clips through a media source of a running OBS, over obs-websocket v5.

The sink for ``obs-tts serve --sink obs``: same behaviour as the script's sink, from
outside OBS. Each clip is one ``SetInputSettings`` of the media source's
``local_file``; ``MediaInputPlaybackStarted``/``Ended`` events say when it plays.

Modes: ``local`` (OBS on this computer reads the clip file), ``http`` (OBS on another
computer fetches it from a small HTTP server here; OBS's media source opens URLs given
as its local file), ``auto`` (local when ``host`` is this computer).

obs-websocket cannot put a source on an output channel, so the media source is kept
in every scene (``all_scenes``): a scene switch never cuts a clip, and the source is
mixed once (only the live scene is heard).

obs-websocket-py 1.0 quirks (DESIGN.md section 4): its callbacks run on its receive
thread, where a request would time out, so they only set flags; requests from several
threads are serialized here; a failed request is ``status`` False, not an exception.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tts_core.audio import Clip
from tts_core.message import TTSMessage
from tts_core.obs.api import MEDIA_PLAYBACK_SETTINGS, MEDIA_SOURCE_KIND
from tts_core.obs.captions import caption_text
from tts_core.obs.clipserver import ClipServer

log = logging.getLogger(__name__)

DEFAULT_PORT = 4455
HOST_ENV, PORT_ENV, PASSWORD_ENV = "OBS_WEBSOCKET_HOST", "OBS_WEBSOCKET_PORT", "OBS_WEBSOCKET_PASSWORD"
MODES = ("auto", "local", "http")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
WAIT_SLICE_SECONDS = 0.05
STOP_WAIT_SECONDS = 0.5
START_TIMEOUT_SECONDS = 3.0
END_SLACK_SECONDS = 3.0
STOP_ACTION = "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_STOP"


class ObsConnectionError(RuntimeError):
    """OBS cannot be reached or refused the connection (password, port)."""


class ObsRequestFailed(RuntimeError):
    """OBS answered a request with an error."""


@dataclass(eq=False)
class _Playback:
    token: int
    started: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    started_at: float | None = None


class RemoteObsSink:
    """Parameters: ``host``, ``port``, ``password`` (obs-websocket; Tools > WebSocket
    Server Settings; default: $OBS_WEBSOCKET_HOST, $OBS_WEBSOCKET_PORT,
    $OBS_WEBSOCKET_PASSWORD, else 127.0.0.1, 4455, none), ``media_source`` (created if
    missing), ``mode`` (auto, local, http), ``caption_source`` (a text source, or ""),
    ``clip_host``/``clip_port`` (where the http mode serves clips), ``public_host`` (the
    address OBS reaches this computer at; default: detected), ``all_scenes`` (keep the
    media source in every scene), ``timeout`` (seconds per request), ``client_factory``
    (tests: builds the obsws)."""

    name = "obs"

    def __init__(self, host: str | None = None, port: int | None = None, password: str | None = None,
                 media_source: str = "TTS Audio", mode: str = "auto", caption_source: str = "",
                 clip_host: str = "0.0.0.0", clip_port: int = 0, public_host: str | None = None,
                 all_scenes: bool = True, timeout: float = 5.0,
                 client_factory: Callable[[], Any] | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown OBS sink mode {mode!r}; expected one of {', '.join(MODES)}")
        if not media_source:
            raise ValueError("the OBS sink needs the name of a media source")
        self.host = host or os.environ.get(HOST_ENV) or "127.0.0.1"
        self.port = port or int(os.environ.get(PORT_ENV) or DEFAULT_PORT)
        self.password = os.environ.get(PASSWORD_ENV, "") if password is None else password
        host = self.host
        self.media_source = media_source
        self.caption_source = caption_source
        self.mode = ("local" if host in LOCAL_HOSTS else "http") if mode == "auto" else mode
        self.all_scenes = all_scenes
        self.timeout = timeout
        self._client_factory = client_factory or self._default_client
        self._clip_server_args = (clip_host, clip_port, public_host)
        self._clip_server: ClipServer | None = None
        self._ws: Any = None
        self._call_lock = threading.Lock()
        self._connect_lock = threading.Lock()
        self._tokens = itertools.count(1)
        self._armed: _Playback | None = None
        self._source_ready = False
        self._scenes_ready = False

    # -- connection -------------------------------------------------------------------

    def _default_client(self) -> Any:
        from obswebsocket import obsws  # the optional "obs" extra: obs-websocket-py

        return obsws(self.host, self.port, self.password, legacy=False, timeout=self.timeout)

    def connect(self) -> None:
        """Connect now (``play`` connects by itself); raises ObsConnectionError."""
        with self._connect_lock:
            if self._ws is not None:
                return
            try:
                ws = self._client_factory()
                ws.register(self._on_event)
                ws.connect()
            except Exception as exc:  # noqa: BLE001 - obs-websocket-py raises several kinds
                raise ObsConnectionError(
                    f"cannot connect to obs-websocket at {self.host}:{self.port}: {exc}. Check that OBS "
                    "runs, Tools > WebSocket Server Settings has the server enabled, and the port and "
                    "password match"
                ) from None
            self._ws = ws
            self._source_ready = self._scenes_ready = False
        log.info("connected to obs-websocket %s at %s:%d (%s mode)", getattr(ws, "server_version", "?"),
                 self.host, self.port, self.mode)

    def _disconnect(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.disconnect()
            except Exception as exc:  # noqa: BLE001 - already closed
                log.debug("disconnect: %s", exc)

    def call(self, request_type: str, **data: Any) -> dict[str, Any]:
        """One obs-websocket request; returns its responseData. Serialized across threads.

        Raises ObsRequestFailed (OBS said no) or ObsConnectionError (connection lost).
        """
        self.connect()
        with self._call_lock:
            ws = self._ws
            if ws is None:
                raise ObsConnectionError("not connected to OBS")
            try:
                answer = _call_raw(ws, request_type, data, self.timeout)
            except Exception as exc:  # noqa: BLE001 - socket errors and time-outs of any kind
                self._disconnect()
                raise ObsConnectionError(f"{request_type}: lost the connection to OBS ({exc})") from None
        status = answer.get("requestStatus", {})
        if not status.get("result"):
            raise ObsRequestFailed(f"{request_type} failed: {status.get('comment') or status.get('code')}")
        return dict(answer.get("responseData") or {})

    # -- obs-websocket events (its receive thread: flags only, no requests) -------------

    def _on_event(self, event: Any) -> None:
        name = getattr(event, "name", "")
        data = getattr(event, "datain", {}) or {}
        if name in ("MediaInputPlaybackStarted", "MediaInputPlaybackEnded"):
            if data.get("inputName") == self.media_source:
                self._on_media(name.endswith("Started"))
        elif name in ("SceneCreated", "CurrentSceneCollectionChanged"):
            self._scenes_ready = False
            self._source_ready = name == "SceneCreated" and self._source_ready
        elif name == "ExitStarted" or (name in ("InputRemoved", "InputNameChanged") and self.media_source in (
                data.get("inputName"), data.get("oldInputName"))):
            self._source_ready = self._scenes_ready = False

    def _on_media(self, started: bool) -> None:
        playback = self._armed
        if playback is None:
            return
        if started and not playback.started.is_set():
            playback.started_at = time.monotonic()
            playback.started.set()
        elif not started and playback.started.is_set():
            self._armed = None
            playback.ended.set()

    # -- the media source ------------------------------------------------------------------

    def ensure_source(self) -> None:
        """Create the media source if missing and keep it in every scene."""
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
        if clip.path is None:
            raise ValueError(f"clip of {message.id} has no file")
        self.ensure_source()
        location = self._clip_location(clip.path, message.id)
        playback = _Playback(next(self._tokens))
        self._armed = playback
        try:
            self.call("SetInputSettings", inputName=self.media_source,
                      inputSettings={**MEDIA_PLAYBACK_SETTINGS, "local_file": location}, overlay=True)
            if self.caption_source:
                self._set_caption(caption_text(message))
            self._wait(playback, clip.duration_ms / 1000.0, stop)
        finally:
            self._armed = None
            if self.caption_source:
                self._set_caption("")
            if self._clip_server is not None and location.startswith("http"):
                self._clip_server.unregister(location)

    def _wait(self, playback: _Playback, duration_s: float, stop: threading.Event) -> None:
        posted = time.monotonic()
        next_check = posted + START_TIMEOUT_SECONDS
        while not playback.ended.wait(WAIT_SLICE_SECONDS):
            if stop.is_set():
                self._stop(playback)
                return
            now = time.monotonic()
            if now < next_check:
                continue
            state = self.call("GetMediaInputStatus", inputName=self.media_source).get("mediaState")
            if state in ("OBS_MEDIA_STATE_PLAYING", "OBS_MEDIA_STATE_OPENING", "OBS_MEDIA_STATE_BUFFERING"):
                started = playback.started_at or posted
                next_check = max(now + 1.0, started + duration_s + END_SLACK_SECONDS)
                continue
            if not playback.started.is_set():
                raise ObsRequestFailed(f"media source {self.media_source!r} did not play the clip ({state})")
            log.warning("media source %r ended without an event (%s)", self.media_source, state)
            return

    def _stop(self, playback: _Playback) -> None:
        try:
            self.call("TriggerMediaInputAction", inputName=self.media_source, mediaAction=STOP_ACTION)
        except ObsRequestFailed as exc:
            log.warning("could not stop the clip: %s", exc)
            return
        if playback.started.is_set():
            playback.ended.wait(STOP_WAIT_SECONDS)

    def _set_caption(self, text: str) -> None:
        try:
            self.call("SetInputSettings", inputName=self.caption_source, inputSettings={"text": text},
                      overlay=True)
        except ObsRequestFailed as exc:
            log.warning("caption source %r: %s", self.caption_source, exc)

    def _clip_location(self, path: Path, message_id: str) -> str:
        if self.mode == "local":
            return str(path)
        if self._clip_server is None:
            host, port, public = self._clip_server_args
            self._clip_server = ClipServer(host, port, public, peer=self.host)
        return self._clip_server.register(path, message_id)

    def close(self) -> None:
        self._disconnect()
        if self._clip_server is not None:
            self._clip_server.close()
            self._clip_server = None


def _call_raw(ws: Any, request_type: str, data: dict[str, Any], timeout: float) -> dict[str, Any]:
    """obs-websocket-py's ``call`` without its loss of requestStatus.comment (OBS's reason)."""
    message_id = str(ws.id)
    ws.id += 1
    answered = threading.Event()
    ws.events[message_id] = answered
    payload = {"op": 6, "d": {"requestId": message_id, "requestType": request_type, "requestData": data}}
    try:
        ws.ws.send(json.dumps(payload))
        answered.wait(timeout)
    finally:
        ws.events.pop(message_id, None)
    if message_id not in ws.answers:
        raise TimeoutError(f"no answer within {timeout:g} s")
    answer: dict[str, Any] = ws.answers.pop(message_id)
    return answer
