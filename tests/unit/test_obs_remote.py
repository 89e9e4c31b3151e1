"""RemoteObsSink over a fake obs-websocket client (the real one is exercised in tests/e2e)."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tts_core.audio import Clip, silent_wav
from tts_core.message import MessagePriority, TTSMessage
from tts_core.obs.remote import ObsConnectionError, RemoteObsSink
from tts_core.sinks import create_sink

MEDIA = "TTS Audio"


class Event:
    def __init__(self, name: str, data: dict[str, Any]) -> None:
        self.name, self.datain = name, data


class FakeObsws:
    """Answers requests like obs-websocket 5 would and plays each clip for ``clip_s``."""

    server_version = "5.1.0"

    def __init__(self, clip_s: float = 0.05, scenes: tuple[str, ...] = ("Scene", "Other")) -> None:
        self.id = 1
        self.events: dict[str, threading.Event] = {}
        self.answers: dict[str, Any] = {}
        self.ws = self
        self.clip_s = clip_s
        self.callback: Any = None
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.inputs: dict[str, str] = {}
        self.items: dict[str, set[str]] = {scene: set() for scene in scenes}
        self.fetched: list[bytes] = []
        self._timer: threading.Timer | None = None

    def register(self, callback: Any) -> None:
        self.callback = callback

    def connect(self) -> None:
        pass

    def disconnect(self) -> None:
        pass

    def send(self, text: str) -> None:
        d = json.loads(text)["d"]
        kind, data = d["requestType"], d["requestData"]
        self.requests.append((kind, data))
        ok, response = self.handle(kind, data)
        self.answers[d["requestId"]] = {"requestStatus": {"result": ok, "code": 100 if ok else 600,
                                                          "comment": None if ok else "no such thing"},
                                        "responseData": response}
        self.events[d["requestId"]].set()

    def handle(self, kind: str, data: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        if kind == "GetInputList":
            return True, {"inputs": [{"inputName": n, "inputKind": k, "unversionedInputKind": k}
                                     for n, k in self.inputs.items()]}
        if kind == "GetCurrentProgramScene":
            return True, {"currentProgramSceneName": "Scene"}
        if kind == "CreateInput":
            self.inputs[data["inputName"]] = data["inputKind"]
            self.items[data["sceneName"]].add(data["inputName"])
            return True, {}
        if kind == "GetSceneList":
            return True, {"scenes": [{"sceneName": s} for s in self.items]}
        if kind == "GetSceneItemId":
            return data["sourceName"] in self.items[data["sceneName"]], {"sceneItemId": 1}
        if kind == "CreateSceneItem":
            self.items[data["sceneName"]].add(data["sourceName"])
            return True, {}
        if kind == "SetInputSettings" and data["inputName"] == MEDIA:
            location = data["inputSettings"]["local_file"]
            if location.startswith("http"):
                with urllib.request.urlopen(location, timeout=5) as response:
                    self.fetched.append(response.read())
            self.emit("MediaInputPlaybackStarted", 0.01)
            self.emit("MediaInputPlaybackEnded", self.clip_s)
            return True, {}
        if kind == "TriggerMediaInputAction":
            if self._timer is not None:
                self._timer.cancel()
            self.emit("MediaInputPlaybackEnded", 0.01)
            return True, {}
        if kind == "GetMediaInputStatus":
            return True, {"mediaState": "OBS_MEDIA_STATE_PLAYING"}
        return kind == "SetInputSettings", {}

    def emit(self, name: str, after: float) -> None:
        timer = threading.Timer(after, lambda: self.callback(Event(name, {"inputName": MEDIA})))
        timer.daemon = True
        timer.start()
        if name.endswith("Ended"):
            self._timer = timer


def _clip(tmp_path: Path) -> Clip:
    data = silent_wav(100, 8000)
    path = tmp_path / "m1.wav"
    path.write_bytes(data)
    return Clip(data, "wav", 100, path)


def _msg() -> TTSMessage:
    return TTSMessage("hello", MessagePriority.NORMAL, 1, username="alice")


def _sink(fake: FakeObsws, **options: Any) -> RemoteObsSink:
    return RemoteObsSink(media_source=MEDIA, client_factory=lambda: fake, **options)


def test_plays_the_clip_file_and_waits_for_obs_to_end_it(tmp_path: Path) -> None:
    fake = FakeObsws(clip_s=0.2)
    sink = _sink(fake, caption_source="Caption")
    clip = _clip(tmp_path)
    started = time.monotonic()
    sink.play(clip, _msg(), threading.Event())
    assert time.monotonic() - started >= 0.2
    settings = [d for k, d in fake.requests if k == "SetInputSettings"]
    assert settings[0]["inputSettings"]["local_file"] == str(clip.path)
    assert settings[0]["inputSettings"]["looping"] is False
    assert [d["inputSettings"]["text"] for d in settings[1:]] == ["alice: hello", ""]


def test_creates_the_media_source_and_keeps_it_in_every_scene(tmp_path: Path) -> None:
    fake = FakeObsws()
    _sink(fake).play(_clip(tmp_path), _msg(), threading.Event())
    assert fake.inputs == {MEDIA: "ffmpeg_source"}
    assert all(MEDIA in items for items in fake.items.values())


def test_skip_stops_the_media_source(tmp_path: Path) -> None:
    fake = FakeObsws(clip_s=5)
    sink, stop = _sink(fake), threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    sink.play(_clip(tmp_path), _msg(), stop)
    assert time.monotonic() - started < 1.5
    stop_action = {"inputName": MEDIA, "mediaAction": "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_STOP"}
    assert ("TriggerMediaInputAction", stop_action) in fake.requests


def test_http_mode_serves_the_clip_to_obs(tmp_path: Path) -> None:
    fake = FakeObsws()
    sink = _sink(fake, mode="http", clip_host="127.0.0.1", public_host="127.0.0.1")
    clip = _clip(tmp_path)
    try:
        sink.play(clip, _msg(), threading.Event())
    finally:
        sink.close()
    location = next(d for k, d in fake.requests if k == "SetInputSettings")["inputSettings"]["local_file"]
    assert location.startswith("http://127.0.0.1:") and location.endswith(".wav")
    assert fake.fetched == [clip.data]


def test_auto_mode_plays_files_locally_and_serves_them_to_another_computer() -> None:
    assert RemoteObsSink(host="127.0.0.1").mode == "local"
    assert RemoteObsSink(host="192.168.1.20").mode == "http"


def test_connection_errors_say_what_to_check(tmp_path: Path) -> None:
    def refuse() -> Any:
        raise ConnectionRefusedError("refused")

    sink = RemoteObsSink(port=1, media_source=MEDIA, client_factory=refuse)
    with pytest.raises(ObsConnectionError, match="WebSocket Server Settings"):
        sink.play(_clip(tmp_path), _msg(), threading.Event())


def test_create_sink_builds_the_remote_sink() -> None:
    sink = create_sink("obs", host="10.0.0.2", port=4456, password="pw", media_source="TTS", mode="http")
    assert isinstance(sink, RemoteObsSink)
    got = (sink.host, sink.port, sink.password, sink.media_source, sink.mode)
    assert got == ("10.0.0.2", 4456, "pw", "TTS", "http")
    with pytest.raises(ValueError, match="mode"):
        create_sink("obs", mode="ftp")
