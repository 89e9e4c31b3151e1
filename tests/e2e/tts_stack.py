"""The TTS queue running against a real OBS, in the three ways a streamer can run it.

``script``: OBS loads ``obs_tts_queue.py`` from its scene collection; the queue and the
listener run inside OBS. ``remote-local`` / ``remote-http``: OBS runs without the
script (obs-websocket with a password); this process runs the queue, the listener and
``RemoteObsSink`` (what ``obs-tts serve --sink obs`` does), playing clip files, or
serving them over HTTP as for an OBS on another computer.

Tests talk to both the same way: events and requests go to the listener (HTTP
``POST /event``; events come back on a subscribed WebSocket), and OBS is observed
through obs-websocket events and its own recording.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from obs_harness import HarnessError, ObsHarness, ObsSetup, RecordedEvent, SourceSpec, find_free_port, poll
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tts_core import TTSConfig, TTSQueueManager
from tts_core.ingest.translator import StreamerBotIntegration
from tts_core.listener import ListenerServer
from tts_core.obs.remote.sink import RemoteObsSink

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "obs_tts_queue.py"
MEDIA = "TTS Audio"
CAPTION = "Caption"
PASSWORD = "e2e-secret"
PAUSE_MS = 400  # silence between clips, so clips are separate sound segments in recordings
MODES = ("script", "remote-local", "remote-http")
ENDINGS = ("playback_finished", "skipped", "failed", "dropped", "rejected")
CATCH_UP_SECONDS = 2.0  # wait_idle: for the pushed end events to arrive after GetStats says idle
SKIP_KEY = "OBS_KEY_F9"  # bound to the script's Skip hotkey in the generated collection


def caption_spec() -> SourceSpec:
    return SourceSpec(CAPTION, "text_ft2_source_v2", {"text": "", "font": {"face": "Sans", "size": 32}})


def script_setup(workdir: Path, listener_port: int, **settings: Any) -> ObsSetup:
    values = {"listener_port": listener_port, "pause_between_clips_ms": PAUSE_MS, "caption_source": CAPTION,
              "hotkey_skip": [{"key": SKIP_KEY}], **settings}
    return ObsSetup(script_path=SCRIPT, script_settings=values, extra_scenes=["Other"],
                    sources=[caption_spec()], extra_env={"OBS_TTS_DATA_DIR": str(workdir / "tts-data")})


class ListenerClient:
    """Frames over HTTP, pushed events over one subscribed WebSocket."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self.events: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._ws: ClientConnection | None = None
        self._thread: threading.Thread | None = None

    def send(self, frame: dict[str, Any], retry_for: float = 0.0) -> dict[str, Any]:
        """POST one frame to /event; retry refused connections for ``retry_for`` seconds."""
        deadline = time.monotonic() + retry_for
        body = json.dumps(frame).encode()
        while True:
            request = urllib.request.Request(f"http://{self.host}:{self.port}/event", data=body,
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return dict(json.loads(response.read()))
            except urllib.error.HTTPError as exc:
                return dict(json.loads(exc.read()))
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def queue(self, frame: dict[str, Any], retry_for: float = 0.0) -> str:
        reply = self.send(frame, retry_for)
        assert reply["status"] == "ok", reply
        return str(reply["message_id"])

    def request(self, name: str, **fields: Any) -> dict[str, Any]:
        reply = self.send({"request": name, **fields})
        assert reply["status"] == "ok", reply
        return reply

    def subscribe(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._ws = connect(f"ws://{self.host}:{self.port}/", open_timeout=2, legacy=True)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self._ws.send(json.dumps({"request": "Subscribe", "id": "sub"}))
        reply = json.loads(self._ws.recv(timeout=5))
        assert reply.get("status") == "ok", reply
        self._thread = threading.Thread(target=self._receive, name="e2e-events", daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        assert self._ws is not None
        with contextlib.suppress(ConnectionClosed, OSError):
            for text in self._ws:
                event = json.loads(text)
                event["t"] = time.monotonic()
                with self._cond:
                    self.events.append(event)
                    self._cond.notify_all()

    def wait_event(self, name: str, message_id: str | None = None, timeout: float = 20.0,
                   after: float = 0.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for event in self.events:
                    if event.get("event") == name and event["t"] >= after and (
                            message_id is None or event.get("message_id") == message_id):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(e.get("event"), e.get("message_id")) for e in self.events[-10:]]
                    raise AssertionError(f"no {name} for {message_id} within {timeout} s; last: {seen}")
                self._cond.wait(remaining)

    def named(self, *names: str, after: float = 0.0) -> list[dict[str, Any]]:
        with self._cond:
            return [e for e in self.events if e.get("event") in names and e["t"] >= after]

    def stats(self, retry_for: float = 0.0) -> dict[str, Any]:
        reply = self.send({"request": "GetStats"}, retry_for)
        assert reply["status"] == "ok", reply
        return dict(reply["stats"])

    def wait_idle(self, timeout: float = 30.0) -> dict[str, Any]:
        """Until nothing is pending or playing, and (when subscribed) the end event of every
        queued message has arrived: the listener pushes a burst's events up to 10 ms after
        the fact, so a GetStats that says idle can overtake the last `playback_finished`.
        Returns the stats."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stats = self.stats(retry_for=5)
            if stats.get("pending") == 0 and not stats.get("now_playing"):
                with self._cond:  # at most CATCH_UP_SECONDS: a message lost to a killed serve never ends
                    if self._thread is not None:
                        self._cond.wait_for(self._every_queued_ended, CATCH_UP_SECONDS)
                return stats
            time.sleep(0.1)
        raise AssertionError(f"queue not idle within {timeout} s: {self.stats()}")

    def _every_queued_ended(self) -> bool:  # with self._cond held
        queued = {e["message_id"] for e in self.events if e.get("event") == "queued"}
        ended = {e.get("message_id") for e in self.events if e.get("event") in ENDINGS}
        return queued <= ended

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None
        if self._thread is not None:
            self._thread.join(2)


@dataclass
class Stack:
    """One OBS plus the queue playing into it (``mode`` is one of MODES)."""

    mode: str
    obs: ObsHarness
    client: ListenerClient
    manager: TTSQueueManager | None = None  # remote modes: the queue lives in this process
    listener: ListenerServer | None = None
    sink: RemoteObsSink | None = None

    def media_events(self, after: float = 0.0) -> list[RecordedEvent]:
        names = ("MediaInputPlaybackStarted", "MediaInputPlaybackEnded")
        events = self.obs.client.events_named(*names, after=after)
        return [e for e in events if e.data.get("inputName") == MEDIA]

    def wait_media(self, name: str, after: float, timeout: float = 15.0) -> RecordedEvent:
        return self.obs.client.wait_for_event(f"MediaInputPlayback{name}",
                                              lambda d: d.get("inputName") == MEDIA, timeout, after)

    def caption(self) -> str:
        settings = self.obs.client.call("GetInputSettings", inputName=CAPTION)["inputSettings"]
        return str(settings.get("text", ""))

    def obs_call(self, request: str, **data: Any) -> dict[str, Any]:
        return self.obs.client.call(request, **data)


def _start_remote(mode: str, workdir: Path, pause_ms: int) -> Stack:
    setup = ObsSetup(password=PASSWORD, extra_scenes=["Other"], sources=[caption_spec()])
    obs = ObsHarness(setup, workdir=workdir / "obs")
    obs.start()
    config = TTSConfig(persist=False, pause_between_clips_ms=pause_ms, rate_limit_per_minute=0)
    config.listener.port = 0
    sink = RemoteObsSink.from_options(port=obs.port or 0, password=PASSWORD, media_source=MEDIA,
                                      caption_source=CAPTION, mode=mode.removeprefix("remote-"),
                                      clip_host="127.0.0.1")
    sink.source.ensure()
    manager = TTSQueueManager(config, sink=sink)
    listener = ListenerServer(manager, StreamerBotIntegration(manager))
    manager.start()
    listener.start()
    return Stack(mode, obs, ListenerClient(listener.port), manager, listener, sink)


@contextlib.contextmanager
def running_stack(mode: str, workdir: Path, pause_ms: int = PAUSE_MS) -> Iterator[Stack]:
    """The stack for ``mode`` (one of MODES), stopped at the end; ``pause_ms`` between clips."""
    if not mode.startswith("remote"):
        with script_in_obs(workdir, pause_between_clips_ms=pause_ms, rate_limit_per_minute=0) as stack:
            yield stack
        return
    stack = _start_remote(mode, workdir, pause_ms)
    ok = False
    try:
        stack.client.subscribe()
        yield stack
        ok = True
    finally:
        stack.client.close()
        if stack.listener is not None:
            stack.listener.stop()
        if stack.manager is not None:
            stack.manager.stop()
        if stack.sink is not None:
            stack.sink.close()
        stack.obs.stop(check=ok)


@contextlib.contextmanager
def script_in_obs(workdir: Path, *, sources: Sequence[SourceSpec] = (),
                  extra_env: dict[str, str] | None = None, subscribe_timeout: float = 10.0,
                  **settings: Any) -> Iterator[Stack]:
    """OBS running the script with ``settings`` (over script_setup's; ``sources`` added to the
    collection, ``extra_env`` over OBS's environment) and its listener on a free port: yields
    once the queue has started, the script has created its media source and the client is
    subscribed to the events; stops OBS at the end (and checks its log for errors when the
    body finished without one)."""
    port = find_free_port()
    setup = script_setup(workdir, port, **settings)
    setup = dataclasses.replace(setup, sources=[*setup.sources, *sources],
                                extra_env={**setup.extra_env, **(extra_env or {})})
    obs = ObsHarness(setup, workdir=workdir / "obs")
    obs.start()
    client = ListenerClient(port)
    ok = False
    try:
        obs.wait_for_log(r"TTS queue started", timeout=30)
        # the script creates its media source once OBS has loaded
        if not poll(lambda: MEDIA in {i["inputName"] for i in obs.client.call("GetInputList")["inputs"]}, 10):
            raise HarnessError(f"the script did not create {MEDIA!r}")
        client.subscribe(subscribe_timeout)
        yield Stack("script", obs, client)
        ok = True
    finally:
        client.close()
        obs.stop(check=ok)
