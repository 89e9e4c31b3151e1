"""What the connector tests share: a running queue with one connector, and its config (no
rate limit, every line naming its viewer); the OBS script's app on a fake OBS; what
``obs-tts serve`` logged and answers; the log lines of a test."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from doubles import RecordingSink, ToneEngine, wait_until
from obs_fake import FakeFrames, FakeObs
from websockets.sync.client import connect

from tts_core import TTSConfig, TTSQueueManager
from tts_core.connectors.base import CONNECTED
from tts_core.ingest.translator import StreamerBotIntegration
from tts_core.obs.script.api import ObsApi
from tts_core.obs.script.app import ObsTTSApp
from tts_core.obs.script.pump import Pump
from tts_core.obs.script.settings import DEFAULTS


@dataclass
class Running:
    """A started queue, the connector under test on it, and the sink that records plays."""

    manager: TTSQueueManager
    connector: Any
    sink: RecordingSink

    def played(self) -> list[str]:
        return [p.text for p in self.sink.played]

    def state(self) -> dict[str, Any]:
        return self.manager.get_stats()["connectors"][self.connector.name]

    def wait_played(self, text: str, times: int = 1) -> None:
        assert wait_until(lambda: self.played().count(text) >= times), (
            f"{text!r} never played {times}x; played: {self.played()}; state: {self.state()}"
        )

    def wait_state(self, state: str, timeout: float = 20.0) -> dict[str, Any]:
        assert wait_until(lambda: self.state()["state"] == state, timeout), self.state()
        return self.state()

    def assert_played_exactly(self, expected: Iterable[str], last: str) -> None:
        """Once ``last`` (sent after the others) has played and the queue is idle: what played is
        ``expected`` and ``last``, each text as often as it is listed, and nothing else."""
        self.wait_played(last)
        assert self.manager.wait_until_idle(20)
        assert Counter(self.played()) == Counter(expected) + Counter([last])

    def assert_goes_on_after_malformed(self, last: str, not_understood: int) -> None:
        """``last`` (sent after the malformed events) plays, ``not_understood`` events were
        counted as not understood, and the connection is still up."""
        self.wait_played(last)
        state = self.state()
        assert state["not_understood"] == not_understood and state["state"] == CONNECTED, state


def connector_config(name: str, settings: dict[str, Any]) -> TTSConfig:
    """A config with the connector ``name`` set to ``settings``."""
    return TTSConfig.from_dict(
        {
            "tts_queue": {"rate_limit_per_minute": 0, "max_queue_size": 500},
            # every line names its viewer: these tests are about delivery, not "X says"
            "streamer_bot": {"repeat_name_after_seconds": 0},
            "connectors": {name: settings},
        }
    )


@contextmanager
def running_connector(make_manager: Any, config: TTSConfig, connector_type: Any,
                      **connector_args: Any) -> Iterator[Running]:
    """A started queue on ``config`` (1 ms tones, a recording sink playing at once) with a
    started ``connector_type`` connector on it (``connector_args`` passed on), closed at the end."""
    sink = RecordingSink(speed=0.0)
    manager = make_manager(config, engine=ToneEngine(1), sink=sink)
    connector = connector_type(manager, StreamerBotIntegration(manager), **connector_args)
    manager.start()
    connector.start()
    try:
        yield Running(manager, connector, sink)
    finally:
        connector.close()


def connector_config_file(path: Path, name: str, settings: dict[str, Any]) -> Path:
    """Write a JSON config file at ``path`` with the connector ``name`` set to ``settings``; the path."""
    path.write_text(json.dumps({"connectors": {name: settings}}))
    return path


def run_doctor(config_file: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``obs-tts doctor --config config_file`` as a real process (in ``env``, else this
    process's environment); its output as text."""
    return subprocess.run([sys.executable, "-m", "tts_core.cli", "doctor", "--config", str(config_file)],
                          capture_output=True, text=True, timeout=120, env=env)


def log_lines(caplog: pytest.LogCaptureFixture, containing: str) -> list[str]:
    """The messages of the log records caught so far that contain ``containing``."""
    return [r.getMessage() for r in caplog.records if containing in r.getMessage()]


def wait_serve_played(lines: list[str], text: str, timeout: float = 30.0) -> None:
    """Until ``obs-tts serve``'s output ``lines`` say a clip with ``text`` finished playing."""
    assert wait_until(lambda: any("playback_finished" in line and text in line for line in lines),
                      timeout), lines


def serve_stats(url: str) -> dict[str, Any]:
    """The whole reply of ``obs-tts serve`` (its WebSocket at ``url``) to GetStats."""
    with connect(url) as ws:
        ws.send(json.dumps({"request": "GetStats", "id": 1}))
        return dict(json.loads(ws.recv(timeout=10)))


def started_obs_app(settings: dict[str, Any]) -> tuple[ObsTTSApp, FakeFrames]:
    """The OBS script's app on a fake OBS (the panel's defaults with ``settings``, 20 ms tones,
    no listener), started and running, and the frames that play its 0.2 s clips; the caller
    shuts the app down and stops the frames."""
    obs, pump = FakeObs(), Pump()
    app = ObsTTSApp(ObsApi(obs), pump, {**DEFAULTS, **settings}, listener_factory=None, debounce_s=0.05,
                    engine=ToneEngine(20))
    app.media_source.frontend_ready()
    frames = FakeFrames(obs, pump, clip_seconds=0.2)
    app.start()
    if not wait_until(lambda: app.is_running):
        app.shutdown()
        frames.stop()
        raise AssertionError(f"the OBS script's app did not start: {app.status_text()}")
    return app, frames
