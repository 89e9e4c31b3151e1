"""RemoteObsSink and its obs-websocket v5 client against a loopback server that speaks
the protocol (Hello/Identify with the password challenge, requests, events, close
codes). The real OBS is exercised in tests/e2e."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from doubles import EventLog, ToneEngine, assert_accounting, wait_until
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from tts_core import TTSConfig
from tts_core.domain.audio import Clip, silent_wav
from tts_core.domain.message import MessagePriority, TTSMessage
from tts_core.obs.clip_state import ClipTimeouts
from tts_core.obs.ducking import FILTER_NAME, Ducking
from tts_core.obs.remote import connection as remote_connection
from tts_core.obs.remote.client import (
    EVENTS_MEDIA_INPUTS,
    ObsAuthError,
    ObsConnectionError,
    ObsRequestFailed,
    ObsWebSocketClient,
    authentication_string,
)
from tts_core.obs.remote.clipserver import LocalClips, ServedClips
from tts_core.obs.remote.connection import ObsConnectionSettings, Reconnect
from tts_core.obs.remote.sink import RemoteObsSink
from tts_core.sinks import SinkUnavailable, create_sink

MEDIA = "TTS Audio"
SALT, CHALLENGE = "PZVbYpvAnZut2SS6JNJytDm9", "ztTBnnuqrqaKDzRM3xcVdbYm"


class FakeObs:
    """A loopback obs-websocket 5 server: plays each clip for ``clip_s`` (events
    MediaInputPlaybackStarted/Ended), ``start_clips`` False: reports PLAYING with no
    file and never starts one. ``stop_server()``/``start_server()`` on the same port
    are OBS closing and starting again; ``drop()`` closes the connections."""

    def __init__(self, password: str = "", clip_s: float = 0.05,
                 scenes: tuple[str, ...] = ("Scene", "Other")) -> None:
        self.password = password
        self.clip_s = clip_s
        self.start_clips = True
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.identify: list[dict[str, Any]] = []
        self.inputs: dict[str, str] = {}
        self.filters: dict[str, dict[str, dict[str, Any]]] = {}  # input -> filter name -> its settings
        self.items: dict[str, set[str]] = {scene: set() for scene in scenes}
        self.fetched: list[bytes] = []
        self.posted = threading.Event()
        self.local_file = ""
        self.active = True
        self.state_lag = 0.0  # the media state says "ended" this long after the Ended event
        self.port = 0
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: list[ServerConnection] = []
        self.playing_until = 0.0
        self._timers: list[threading.Timer] = []
        self.start_server()

    def start_server(self) -> None:
        self._server = serve(self._handle, "127.0.0.1", self.port, subprotocols=["obswebsocket.json"])
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop_server(self) -> None:
        for timer in self._timers:
            timer.cancel()
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
        self.drop()

    def drop(self) -> None:
        for connection in list(self._connections):
            connection.close(1001, "OBS is going away")

    # -- protocol
    def _handle(self, ws: ServerConnection) -> None:
        hello: dict[str, Any] = {"obsWebSocketVersion": "5.1.0", "rpcVersion": 1}
        if self.password:
            hello["authentication"] = {"challenge": CHALLENGE, "salt": SALT}
        ws.send(json.dumps({"op": 0, "d": hello}))
        identify = json.loads(ws.recv())["d"]
        self.identify.append(identify)
        if self.password and identify.get("authentication") != authentication_string(self.password, SALT,
                                                                                      CHALLENGE):
            ws.close(4009, "Authentication failed.")
            return
        self._connections.append(ws)  # before Identified: a drop() right after connect() closes it
        try:
            ws.send(json.dumps({"op": 2, "d": {"negotiatedRpcVersion": 1}}))
            for text in ws:
                d = json.loads(text)["d"]
                kind, data = d["requestType"], d.get("requestData") or {}
                self.requests.append((kind, data))
                ok, response = self.handle(ws, kind, data)
                status = {"result": ok, "code": 100 if ok else 600,
                          "comment": None if ok else "no such thing"}
                ws.send(json.dumps({"op": 7, "d": {"requestType": kind, "requestId": d["requestId"],
                                                   "requestStatus": status, "responseData": response}}))
        except ConnectionClosed:
            pass
        finally:
            self._connections.remove(ws)

    def handle(self, ws: ServerConnection, kind: str, data: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
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
            if MEDIA not in self.inputs:  # OBS answers 600 (ResourceNotFound)
                return False, {}
            location = data["inputSettings"]["local_file"]
            if location.startswith("http"):
                with urllib.request.urlopen(location, timeout=5) as response:
                    self.fetched.append(response.read())
            self.local_file = location
            self.posted.set()
            if self.start_clips:
                self.playing_until = time.monotonic() + self.clip_s
                self.emit(ws, "MediaInputPlaybackStarted", 0.01)
                self.emit(ws, "MediaInputPlaybackEnded", self.clip_s)
            return True, {}
        if kind == "TriggerMediaInputAction":
            for timer in self._timers:
                timer.cancel()
            self.playing_until = 0.0
            self.emit(ws, "MediaInputPlaybackEnded", 0.01)
            return True, {}
        if kind == "GetMediaInputStatus":
            if not self.start_clips:  # an active media source with no file (docs/architecture.md, section 6)
                return True, {"mediaState": "OBS_MEDIA_STATE_PLAYING", "mediaDuration": 0, "mediaCursor": 0}
            playing = time.monotonic() < self.playing_until + self.state_lag
            return True, {"mediaState": "OBS_MEDIA_STATE_PLAYING" if playing else "OBS_MEDIA_STATE_ENDED",
                          "mediaDuration": round(self.clip_s * 1000), "mediaCursor": 10}
        if kind == "GetInputSettings":
            if data["inputName"] != MEDIA or MEDIA not in self.inputs:
                return False, {}
            return True, {"inputSettings": {"local_file": self.local_file}, "inputKind": "ffmpeg_source"}
        if kind == "GetSourceActive":
            return True, {"videoActive": self.active, "videoShowing": self.active}
        if kind.endswith("SourceFilter") or kind == "SetSourceFilterSettings":
            return self._filter_request(kind, data)
        return kind == "SetInputSettings", {}

    def _filter_request(self, kind: str, data: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        """As obs-websocket 5 answers: a filter that is not there (or is already) fails."""
        on, name = self.filters.setdefault(data["sourceName"], {}), data["filterName"]
        if (name in on) != (kind != "CreateSourceFilter") or data["sourceName"] not in self.inputs:
            return False, {}
        if kind == "GetSourceFilter":
            return True, {"filterKind": "compressor_filter", "filterSettings": dict(on[name])}
        if kind == "RemoveSourceFilter":
            del on[name]
        else:
            on[name] = {**on.get(name, {}), **data["filterSettings"]}
        return True, {}

    def emit(self, ws: ServerConnection, name: str, after: float) -> None:
        frame = json.dumps({"op": 5, "d": {"eventType": name, "eventIntent": EVENTS_MEDIA_INPUTS,
                                           "eventData": {"inputName": MEDIA}}})

        def send() -> None:
            with contextlib.suppress(ConnectionClosed):
                ws.send(frame)

        timer = threading.Timer(after, send)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def count(self, kind: str) -> int:
        return sum(1 for k, _ in self.requests if k == kind)


@pytest.fixture
def obs() -> Iterator[FakeObs]:
    fake = FakeObs()
    yield fake
    fake.stop_server()


def _clip(tmp_path: Path, name: str = "m1") -> Clip:
    data = silent_wav(100, 8000)
    path = tmp_path / f"{name}.wav"
    path.write_bytes(data)
    return Clip(data, "wav", 100, path)


def _msg() -> TTSMessage:
    return TTSMessage("hello", MessagePriority.NORMAL, 1, username="alice")


def _sink(fake: FakeObs, **options: Any) -> RemoteObsSink:
    options.setdefault("password", fake.password)
    return RemoteObsSink.from_options(port=fake.port, media_source=MEDIA, timeout=2.0, **options)


# -- the client ----------------------------------------------------------------------------


def test_authentication_string_is_the_one_of_the_protocol_docs() -> None:
    # obs-websocket protocol: base64(sha256(base64(sha256(password + salt)) + challenge))
    secret = base64.b64encode(hashlib.sha256(b"supersecretpassword" + SALT.encode()).digest())
    expected = base64.b64encode(hashlib.sha256(secret + CHALLENGE.encode()).digest()).decode()
    assert authentication_string("supersecretpassword", SALT, CHALLENGE) == expected


def test_client_identifies_with_the_password_and_subscribes_to_media_events() -> None:
    fake = FakeObs(password="hunter2")
    try:
        client = ObsWebSocketClient("127.0.0.1", fake.port, "hunter2", timeout=2.0)
        client.connect()
        assert client.server_version == "5.1.0"
        assert client.call("GetSceneList")["scenes"][0] == {"sceneName": "Scene"}
        with pytest.raises(ObsRequestFailed, match="GetSceneItemId failed: no such thing"):
            client.call("GetSceneItemId", {"sceneName": "Scene", "sourceName": "nope"})
        client.close()
        assert fake.identify[0]["rpcVersion"] == 1
        assert fake.identify[0]["eventSubscriptions"] & EVENTS_MEDIA_INPUTS
        with pytest.raises(ObsAuthError, match="refused the password"):
            ObsWebSocketClient("127.0.0.1", fake.port, "wrong", timeout=2.0).connect()
        with pytest.raises(ObsAuthError, match="asks for a password"):
            ObsWebSocketClient("127.0.0.1", fake.port, "", timeout=2.0).connect()
    finally:
        fake.stop_server()


def test_client_reports_a_lost_connection_to_waiting_requests_and_on_close(obs: FakeObs) -> None:
    closed: list[str] = []
    client = ObsWebSocketClient("127.0.0.1", obs.port, timeout=5.0, on_close=closed.append)
    client.connect()
    obs.drop()
    assert wait_until(lambda: closed != [])
    assert not client.connected
    with pytest.raises(ObsConnectionError):
        client.call("GetVersion")


# -- playing clips -------------------------------------------------------------------------


def test_plays_the_clip_file_and_waits_for_obs_to_end_it(obs: FakeObs, tmp_path: Path) -> None:
    obs.clip_s = 0.2
    sink = _sink(obs, caption_source="Caption")
    clip = _clip(tmp_path)
    started = time.monotonic()
    sink.play(clip, _msg(), threading.Event())
    assert time.monotonic() - started >= 0.2
    settings = [d for k, d in obs.requests if k == "SetInputSettings"]
    assert settings[0]["inputSettings"]["local_file"] == str(clip.path)
    assert settings[0]["inputSettings"]["looping"] is False
    assert [d["inputSettings"]["text"] for d in settings[1:]] == ["alice: hello", ""]
    sink.close()


def test_creates_the_media_source_and_keeps_it_in_every_scene(obs: FakeObs, tmp_path: Path) -> None:
    sink = _sink(obs)
    sink.play(_clip(tmp_path), _msg(), threading.Event())
    assert obs.inputs == {MEDIA: "ffmpeg_source"}
    assert all(MEDIA in items for items in obs.items.values())
    sink.close()


def test_skip_stops_the_media_source(obs: FakeObs, tmp_path: Path) -> None:
    obs.clip_s = 5
    sink, stop = _sink(obs), threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    sink.play(_clip(tmp_path), _msg(), stop)
    assert time.monotonic() - started < 4
    stop_action = {"inputName": MEDIA, "mediaAction": "OBS_WEBSOCKET_MEDIA_INPUT_ACTION_STOP"}
    assert ("TriggerMediaInputAction", stop_action) in obs.requests
    sink.close()


def test_http_mode_serves_the_clip_to_obs(obs: FakeObs, tmp_path: Path) -> None:
    sink = _sink(obs, mode="http", clip_host="127.0.0.1", public_host="127.0.0.1")
    clip = _clip(tmp_path)
    try:
        sink.play(clip, _msg(), threading.Event())
    finally:
        sink.close()
    location = next(d for k, d in obs.requests if k == "SetInputSettings")["inputSettings"]["local_file"]
    assert location.startswith("http://127.0.0.1:") and location.endswith(".wav")
    assert obs.fetched == [clip.data]


def test_auto_mode_plays_files_locally_and_serves_them_to_another_computer() -> None:
    assert isinstance(RemoteObsSink.from_options(host="127.0.0.1").clips, LocalClips)
    assert isinstance(RemoteObsSink.from_options(host="192.168.1.20").clips, ServedClips)


def test_connection_settings_come_from_the_arguments_then_the_environment() -> None:
    env = {"OBS_WEBSOCKET_HOST": "10.0.0.9", "OBS_WEBSOCKET_PORT": "4460", "OBS_WEBSOCKET_PASSWORD": "pw"}
    from_env = ObsConnectionSettings.from_environment(environ=env)
    assert from_env == ObsConnectionSettings("10.0.0.9", 4460, "pw")
    given = ObsConnectionSettings.from_environment("obs.lan", 4470, "", environ=env)
    assert given == ObsConnectionSettings("obs.lan", 4470, "")
    assert ObsConnectionSettings.from_environment(environ={}) == ObsConnectionSettings("127.0.0.1", 4455, "")


def test_a_clip_obs_never_starts_is_posted_once_more_then_fails_naming_the_source(
        obs: FakeObs, tmp_path: Path) -> None:
    obs.start_clips = False  # PLAYING with no file, for as long as one looks
    sink = _sink(obs, clip_timeouts=ClipTimeouts(start_s=0.3))
    with pytest.raises(ObsRequestFailed, match=r"media source 'TTS Audio' did not start the clip \(2 tries"):
        sink.play(_clip(tmp_path), _msg(), threading.Event())
    assert sum(1 for k, d in obs.requests if k == "SetInputSettings" and d["inputName"] == MEDIA) == 2
    sink.close()


def test_a_clip_still_playing_from_before_is_stopped_before_the_next_one(obs: FakeObs,
                                                                          tmp_path: Path) -> None:
    obs.local_file, obs.playing_until = "/old/clip.wav", time.monotonic() + 30  # e.g. cut by a reconnect
    sink = _sink(obs)
    sink.play(_clip(tmp_path), _msg(), threading.Event())
    kinds = [k for k, d in obs.requests if k in ("TriggerMediaInputAction", "SetInputSettings")]
    assert kinds[:2] == ["TriggerMediaInputAction", "SetInputSettings"]
    sink.close()


def test_back_to_back_clips_are_not_stopped_when_the_media_state_lags(obs: FakeObs, tmp_path: Path) -> None:
    obs.state_lag = 1.0
    sink = _sink(obs)
    sink.play(_clip(tmp_path, "m1"), _msg(), threading.Event())
    sink.play(_clip(tmp_path, "m2"), _msg(), threading.Event())
    assert obs.count("TriggerMediaInputAction") == 0  # the end event said the first clip was over
    sink.close()


def test_after_obs_says_a_clip_ended_the_next_is_set_at_once_without_a_look(obs: FakeObs,
                                                                           tmp_path: Path) -> None:
    sink = _sink(obs)
    sink.play(_clip(tmp_path, "m1"), _msg(), threading.Event())
    before = len(obs.requests)
    sink.play(_clip(tmp_path, "m2"), _msg(), threading.Event())
    media = [k for k, d in obs.requests[before:] if d.get("inputName") == MEDIA]
    assert media[0] == "SetInputSettings"  # no round trip between the end and the next start
    assert obs.local_file.endswith("m2.wav")
    sink.close()


def test_when_another_clip_started_after_ours_ended_the_next_looks_first(obs: FakeObs,
                                                                         tmp_path: Path) -> None:
    sink = _sink(obs)
    sink.play(_clip(tmp_path, "m1"), _msg(), threading.Event())
    seen = threading.Event()
    sink.connection.on_event(lambda name, _data: seen.set() if name == "MediaInputPlaybackStarted" else None)
    obs.local_file, obs.playing_until = "/streamer/jingle.wav", time.monotonic() + 30
    obs.emit(obs._connections[-1], "MediaInputPlaybackStarted", 0.0)  # the streamer plays something on it
    assert seen.wait(5.0)
    before = len(obs.requests)
    sink.play(_clip(tmp_path, "m2"), _msg(), threading.Event())
    media = [k for k, d in obs.requests[before:] if d.get("inputName") == MEDIA]
    assert media[:2] == ["GetMediaInputStatus", "GetInputSettings"]  # looked first ...
    assert "TriggerMediaInputAction" in media  # ... and stopped the streamer's clip before ours
    sink.close()


def test_media_source_deleted_in_obs_is_a_wait_then_created_again(obs: FakeObs, tmp_path: Path) -> None:
    sink = _sink(obs)
    sink.play(_clip(tmp_path), _msg(), threading.Event())
    del obs.inputs[MEDIA]  # the streamer deletes it (OBS would also send InputRemoved)
    with pytest.raises(SinkUnavailable, match="is gone from OBS"):
        sink.play(_clip(tmp_path), _msg(), threading.Event())
    assert sink.unavailable_reason() is None and MEDIA in obs.inputs  # created again
    sink.play(_clip(tmp_path), _msg(), threading.Event())
    sink.close()


# -- OBS away --------------------------------------------------------------------------------


def test_obs_not_running_is_a_reason_to_wait_that_says_what_to_check(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remote_connection, "RECONNECT_FIRST_SECONDS", 0.0)  # every look tries again
    fake = FakeObs()
    fake.stop_server()  # a port where nothing listens
    sink = _sink(fake)
    reason = sink.unavailable_reason()
    assert [sink.unavailable_reason() for _ in range(3)] == [reason] * 3  # stable: one log line
    assert reason is not None
    assert f"OBS is not reachable at 127.0.0.1:{fake.port} (connection refused)" in reason
    assert "OBS is running" in reason and "Tools > WebSocket Server Settings" in reason
    assert str(fake.port) in reason
    with pytest.raises(SinkUnavailable, match="not reachable"):
        sink.play(_clip(tmp_path), _msg(), threading.Event())


def test_wrong_password_is_a_clear_status_not_a_failure(tmp_path: Path) -> None:
    fake = FakeObs(password="right")
    try:
        sink = _sink(fake, password="wrong")
        reason = sink.unavailable_reason()
        assert reason is not None and "refused the password" in reason and "OBS_WEBSOCKET_PASSWORD" in reason
        assert sink.unavailable_reason() == reason  # no new attempt before the back-off allows one
        assert len(fake.identify) == 1
        with pytest.raises(SinkUnavailable, match="refused the password"):
            sink.play(_clip(tmp_path), _msg(), threading.Event())
    finally:
        fake.stop_server()


def test_connection_lost_mid_clip_raises_sink_unavailable(obs: FakeObs, tmp_path: Path) -> None:
    obs.clip_s = 10
    sink = _sink(obs)
    threading.Thread(target=lambda: obs.posted.wait(5) and obs.drop(), daemon=True).start()
    started = time.monotonic()
    with pytest.raises(SinkUnavailable, match="lost the connection"):
        sink.play(_clip(tmp_path), _msg(), threading.Event())
    assert time.monotonic() - started < 5
    assert sink.unavailable_reason() is None  # the server still runs: reconnected at once
    sink.close()


def test_reconnect_backs_off_doubling_to_a_maximum_and_resets_on_success() -> None:
    reconnect = Reconnect()
    assert reconnect.due(0.0)
    delays = [reconnect.failed(0.0) for _ in range(6)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert not reconnect.due(4.9) and reconnect.due(5.0)
    assert reconnect.failed(10.0, auth=True) == remote_connection.RECONNECT_AUTH_SECONDS
    reconnect.succeeded()
    assert reconnect.due(0.0) and reconnect.failed(0.0) == 0.5


# -- the queue while OBS is away ---------------------------------------------------------------




def test_queue_waits_for_obs_then_plays_everything_in_order_the_cut_clip_first(make_manager: Any) -> None:
    fake = FakeObs(clip_s=0.3)
    port = fake.port
    fake.stop_server()  # OBS is not running yet when the queue starts
    sink = RemoteObsSink.from_options(port=port, media_source=MEDIA, timeout=2.0)
    events = EventLog()
    manager = make_manager(TTSConfig(rate_limit_per_minute=0), engine=ToneEngine(100), sink=sink)
    manager.subscribe(events)
    manager.start()
    try:
        ids = [manager.add_message(f"message {i}") for i in range(4)]
        assert wait_until(lambda: manager.get_stats()["player_state"] == "waiting for OBS")
        assert "not reachable" in manager.get_stats()["waiting_for_sink"]
        fake.start_server()  # OBS starts, on the same port
        assert wait_until(lambda: fake.count("SetInputSettings") >= 1)
        fake.stop_server()  # ... and is closed mid-clip
        assert wait_until(lambda: "not reachable" in (manager.get_stats()["waiting_for_sink"] or ""))
        stats = assert_accounting(manager)
        assert stats["failed"] == 0 and stats["played"] == 0 and stats["pending"] == 4
        fake.start_server()
        assert manager.wait_until_idle(30)
        posted = [Path(d["inputSettings"]["local_file"]).stem for k, d in fake.requests
                  if k == "SetInputSettings" and d["inputName"] == MEDIA]
        assert posted == [ids[0], *ids], "in order, the cut clip again first"
        stats = assert_accounting(manager)
        assert stats["failed"] == 0 and stats["played"] == 4 and stats["player_state"] == "idle"
        assert not events.named("failed")
    finally:
        manager.stop()
        sink.close()
        fake.stop_server()


def test_create_sink_builds_the_remote_sink() -> None:
    sink = create_sink("obs", host="10.0.0.2", port=4456, password="pw", media_source="TTS", mode="http")
    assert isinstance(sink, RemoteObsSink)
    assert sink.connection.settings == ObsConnectionSettings("10.0.0.2", 4456, "pw")
    assert (sink.source.name, sink.mode, sink.label) == ("TTS", "http", "OBS")
    with pytest.raises(ValueError, match="mode"):
        create_sink("obs", mode="ftp")


def test_obs_that_stops_answering_is_a_wait_and_a_new_connection(obs: FakeObs, tmp_path: Path) -> None:
    sink = RemoteObsSink.from_options(port=obs.port, media_source=MEDIA, timeout=0.5)
    assert sink.unavailable_reason() is None
    hang, thawed = threading.Event(), threading.Event()
    answer = obs.handle

    def hanging(ws: ServerConnection, kind: str, data: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
        if kind == "SetInputSettings" and not hang.is_set():
            hang.set()
            thawed.wait(10)  # OBS frozen for longer than the request time-out
        return answer(ws, kind, data)

    obs.handle = hanging  # type: ignore[method-assign]
    with pytest.raises(SinkUnavailable, match=r"not reachable .*\(no answer\)"):
        sink.play(_clip(tmp_path), _msg(), threading.Event())
    thawed.set()
    assert not sink.connection.connected
    assert wait_until(lambda: sink.unavailable_reason() is None)  # OBS answers again: a new connection
    sink.play(_clip(tmp_path), _msg(), threading.Event())
    sink.close()


def test_a_new_connection_checks_the_media_source_again(obs: FakeObs, tmp_path: Path) -> None:
    sink = _sink(obs)
    sink.play(_clip(tmp_path), _msg(), threading.Event())
    assert obs.count("GetInputList") == 1 and sink.source.ready
    obs.drop()  # OBS restarts: the source may be gone with its scene collection
    assert wait_until(lambda: not sink.connection.connected)
    assert not sink.source.ready
    assert sink.unavailable_reason() is None  # reconnected, and checked again
    assert obs.count("GetInputList") == 2 and obs.count("GetSceneList") == 2
    sink.close()


def test_a_config_reload_in_serve_changes_our_filters_over_obs_websocket(
        obs: FakeObs, tmp_path: Path, make_manager: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from tts_core.cli import build_parser
    from tts_core.cli.obs_args import obs_sink_options
    from tts_core.cli.serve import build_serve_config, reload_config

    obs.inputs.update({"Music": "ffmpeg_source", "Game": "pipewire_capture"})
    obs.filters["Music"] = {"My gain": {"db": -2.0}}
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"tts_queue": {"rate_limit_per_minute": 0},
                                "ducking": {"sources": ["Music", "Game"], "db": 12}}))
    args = build_parser().parse_args(["serve", "--sink", "obs", "--config", str(path), "--no-persist",
                                      "--port", "0", "--obs-port", str(obs.port), "--media-source", MEDIA])
    config = build_serve_config(args)
    sink = RemoteObsSink.from_options(**{**obs_sink_options(args, config), "timeout": 2.0})
    manager = make_manager(config, engine=ToneEngine(50), sink=sink)
    manager.settings.add(sink)  # as run_serve does
    manager.start()
    try:
        manager.add_message("hello")
        assert manager.wait_until_idle(20)
        assert obs.filters["Music"][FILTER_NAME] == Ducking(depth_db=12).filter_settings(MEDIA)
        assert FILTER_NAME in obs.filters["Game"]

        path.write_text(json.dumps({"ducking": {"sources": ["Music"], "db": 18, "release_ms": 120}}))
        assert reload_config(args, manager, sink)
        line = capsys.readouterr().out
        wanted = Ducking(depth_db=18, release_ms=120).filter_settings(MEDIA)
        assert obs.filters["Music"][FILTER_NAME] == wanted
        assert obs.filters["Game"] == {}  # exactly our filter gone
        assert obs.filters["Music"]["My gain"] == {"db": -2.0}
        assert f"config {path} applied; ducking: removed our filter from 'Game'; updated our filter on " \
               "'Music' (-56.6 dB threshold, attack 5 ms, release 120 ms" in line

        path.write_text(json.dumps({"ducking": {"sources": ["Radio"], "db": 40}}))  # refused: nothing changes
        assert not reload_config(args, manager, sink)
        refused = capsys.readouterr().out
        assert "not applied" in refused
        assert "ducking.db (how much the sources go down) must be 1 to 20 dB, got 40" in refused
        assert FILTER_NAME in obs.filters["Music"]

        obs.stop_server()  # OBS closed: the change waits for it, and the line says so
        assert wait_until(lambda: not sink.connection.connected)
        path.write_text(json.dumps({"ducking": {"sources": []}}))
        assert reload_config(args, manager, sink)
        assert "ducking: changes in OBS once it is connected" in capsys.readouterr().out
        obs.start_server()
        manager.add_message("back")
        assert manager.wait_until_idle(20)
        assert obs.filters["Music"] == {"My gain": {"db": -2.0}}
    finally:
        manager.stop()
        sink.close()
