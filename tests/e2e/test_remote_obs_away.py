"""`obs-tts serve --sink obs` while OBS is away: nothing accepted is lost.

One real OBS (under Xvfb) and one `obs-tts serve` process, as a streamer runs them,
shared by the tests of this module, in this order:

1. serve starts before OBS: it waits ("waiting for OBS", with what to check) and plays
   once OBS is up;
2. OBS is killed (SIGKILL) while one clip plays and 8 wait, then started again on the
   same configuration (XDG config folder, websocket port): all 9 play, in order, the
   cut one first, none fails;
3. the same when only obs-websocket goes away: Tools > WebSocket Server Settings >
   "Enable WebSocket server" off, Apply, then on, Apply, with OBS running;
4. a wrong password: a clear "waiting for OBS" reason, nothing failed.

Observed through the listener (GetStats over HTTP, events on a subscribed WebSocket),
obs-websocket's own MediaInputPlaybackStarted events and serve's log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from obs_harness import ObsSetup, find_free_port
from obs_restart import FixedPortObs, WebSocketSettings
from obs_ui import ObsUi
from tts_stack import MEDIA, PASSWORD, REPO, ListenerClient, poll

from tts_core import TTSConfig, TTSQueueManager
from tts_core.obs.remote.sink import RemoteObsSink

LONG = "this first message is long enough to be cut in the middle"  # about 3 s
MESSAGES = 9  # one plays when OBS goes away, 8 wait


@dataclass
class Remote:
    obs: FixedPortObs
    serve: subprocess.Popen[str]
    client: ListenerClient
    log_path: Path

    def stats(self) -> dict[str, Any]:
        return self.client.stats(retry_for=5)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def media_started(self, after: float) -> list[float]:
        return [e.t for e in self.obs.client.events_named("MediaInputPlaybackStarted", after=after)
                if e.data.get("inputName") == MEDIA]


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    workdir = tmp_path_factory.mktemp("remote-away")
    obs_port, listener_port = find_free_port(), find_free_port()
    log_path = workdir / "serve.log"
    env = {**os.environ, "OBS_WEBSOCKET_PASSWORD": PASSWORD, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "tts_core.cli", "-v", "serve", "--sink", "obs", "--obs-port",
               str(obs_port), "--port", str(listener_port), "--no-persist"]
    with log_path.open("w") as out:
        serve = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    obs = FixedPortObs(ObsSetup(password=PASSWORD, extra_scenes=["Other"]), workdir / "obs", obs_port)
    client = ListenerClient(listener_port)
    ok = False
    try:
        client.subscribe(timeout=20)
        yield Remote(obs, serve, client, log_path)
        ok = True
    finally:
        client.close()
        serve.send_signal(signal.SIGINT)
        try:
            serve.wait(15)
        except subprocess.TimeoutExpired:
            serve.kill()
        obs.stop(check=ok)
    assert serve.returncode == 0, log_path.read_text()


def _queue(remote: Remote, count: int, first: str = LONG) -> list[str]:
    texts = [first, *(f"number {i}" for i in range(1, count))]
    return [remote.client.queue({"type": "tts", "text": text, "user": "alice"}) for text in texts]


def _wait_waiting_for_obs(remote: Remote, why: str, timeout: float = 20.0) -> dict[str, Any]:
    def waiting() -> bool:
        stats = remote.stats()
        return stats["player_state"] == "waiting for OBS" and why in (stats["waiting_for_sink"] or "")

    assert poll(waiting, timeout, interval=0.2), remote.stats()
    return remote.stats()


def _assert_all_played_in_order(remote: Remote, ids: list[str], since: float) -> None:
    stats = remote.client.wait_idle(timeout=120)
    finished = [e["message_id"] for e in remote.client.named("playback_finished", after=since)]
    assert finished == ids, "every message played once, in order"
    started = [e["message_id"] for e in remote.client.named("playback_started", after=since)]
    assert started[:2] == [ids[0], ids[0]] and started[2:] == ids[1:], "the cut clip plays again, first"
    assert not remote.client.named("failed", "dropped", after=since)
    assert stats["failed"] == 0 and stats["player_state"] == "idle" and stats["waiting_for_sink"] is None
    total = stats["played"] + stats["failed"] + stats["dropped"] + stats["rejected"] + stats["pending"]
    assert stats["accepted"] == total + stats["in_flight"]


def test_serve_starts_before_obs_waits_for_it_then_plays(remote: Remote) -> None:
    since = time.monotonic()
    ids = _queue(remote, 2, first="hello before OBS runs")
    stats = _wait_waiting_for_obs(remote, "not reachable")
    assert "Tools > WebSocket Server Settings" in stats["waiting_for_sink"]
    assert stats["failed"] == 0 and stats["played"] == 0
    remote.obs.start()
    remote.client.wait_idle(timeout=60)
    assert [e["message_id"] for e in remote.client.named("playback_finished", after=since)] == ids
    assert not remote.client.named("failed", after=since)
    lines = [line for line in remote.log().splitlines() if "waiting for OBS" in line]
    assert 1 <= len(lines) <= 2, lines  # one line per state change, not one per retry
    assert "OBS is back" in remote.log()


def test_obs_killed_mid_clip_and_started_again_plays_everything(remote: Remote) -> None:
    since, before = time.monotonic(), remote.stats()
    ids = _queue(remote, MESSAGES)
    remote.client.wait_event("playback_started", ids[0], timeout=30, after=since)
    assert poll(lambda: len(remote.media_started(since)) >= 1, 15)  # OBS really plays it
    remote.obs.kill()
    stats = _wait_waiting_for_obs(remote, "not reachable")
    assert stats["pending"] == MESSAGES and stats["failed"] == 0 and stats["played"] == before["played"]
    restarted = time.monotonic()
    remote.obs.start_again()
    _assert_all_played_in_order(remote, ids, since)
    assert len(remote.media_started(restarted)) >= MESSAGES - 1  # OBS played them (the first may
    # have started before this harness's own client was back)


def test_obs_websocket_switched_off_and_on_plays_everything(remote: Remote) -> None:
    settings = WebSocketSettings(remote.obs)
    ObsUi(remote.obs).window(f"OBS {remote.obs.client.call('GetVersion')['obsVersion']}", timeout=10,
                             prefix=True)
    settings.open()
    since, before = time.monotonic(), remote.stats()
    ids = _queue(remote, MESSAGES)
    remote.client.wait_event("playback_started", ids[0], timeout=30, after=since)
    settings.set_server_enabled(False)
    assert remote.obs.pid is not None and remote.obs.port_open() is False  # OBS runs, its server is off
    stats = _wait_waiting_for_obs(remote, "not reachable")
    assert stats["pending"] == MESSAGES and stats["failed"] == 0 and stats["played"] == before["played"]
    settings.set_server_enabled(True)
    settings.close()
    back = time.monotonic()
    remote.obs.reconnect_client()
    _assert_all_played_in_order(remote, ids, since)
    assert len(remote.media_started(back)) >= MESSAGES - 1


def test_wrong_password_is_a_clear_status_and_fails_nothing(remote: Remote) -> None:
    sink = RemoteObsSink.from_options(port=remote.obs.port, password="not-the-password", media_source=MEDIA)
    manager = TTSQueueManager(TTSConfig(persist=False, rate_limit_per_minute=0), sink=sink)
    manager.start()
    try:
        manager.add_message("this waits for the right password")
        assert poll(lambda: "refused the password" in (manager.get_stats()["waiting_for_sink"] or ""), 20)
        stats = manager.get_stats()
        assert stats["player_state"] == "waiting for OBS"
        assert "OBS_WEBSOCKET_PASSWORD" in stats["waiting_for_sink"]
        assert stats["failed"] == 0 and stats["pending"] == 1
    finally:
        manager.stop()
        sink.close()
