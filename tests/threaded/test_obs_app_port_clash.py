"""The script's listener survives a port clash: a message that names the panel's Port,
one warning, and it comes up by itself once the port is free (real sockets)."""

from __future__ import annotations

import logging
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from doubles import ToneEngine, wait_until
from obs_fake import FakeFrames, FakeObs

from tts_core.obs.script.api import ObsApi
from tts_core.obs.script.app import ObsTTSApp
from tts_core.obs.script.pump import Pump
from tts_core.obs.script.settings import DEFAULTS


def taken_port() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def health(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
        return int(response.status)


@pytest.fixture
def rig(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[FakeObs, Pump]]:
    monkeypatch.setenv("OBS_TTS_DATA_DIR", str(tmp_path))
    obs, pump = FakeObs(), Pump()
    frames = FakeFrames(obs, pump)
    yield obs, pump
    frames.stop()


def start_app(rig: tuple[FakeObs, Pump], port: int) -> ObsTTSApp:
    obs, pump = rig
    app = ObsTTSApp(ObsApi(obs), pump, {**DEFAULTS, "listener_port": port}, debounce_s=0.1,
                    engine=ToneEngine(20))
    app.media_source.frontend_ready()
    app.start()
    assert wait_until(lambda: app.is_running)
    return app


def test_a_taken_port_is_named_and_the_listener_comes_up_once_it_is_free(
        rig: tuple[FakeObs, Pump], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tts_core.obs.script.app")
    blocker = taken_port()
    port = blocker.getsockname()[1]
    app = start_app(rig, port)
    try:
        assert wait_until(lambda: "listener" in app.errors)
        status = app.status_text()
        assert f"Port {port} is in use" in status and "pick another Port under Listener" in status, status
        assert "listener.port" not in status
        assert wait_until(lambda: app._listener_retries >= 2)  # it keeps trying
        blocker.close()
        assert wait_until(lambda: app.listener is not None, timeout=30)
        assert health(port) == 200
        assert "listener" not in app.errors and f"listening on ws://127.0.0.1:{port}/" in app.status_text()
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1 and "Port" in warnings[0].getMessage(), [r.getMessage() for r in warnings]
        assert "is free again" in caplog.text
    finally:
        blocker.close()
        assert app.shutdown()


def test_a_new_port_applies_live_and_a_taken_one_is_retried(rig: tuple[FakeObs, Pump]) -> None:
    first = taken_port()
    port = first.getsockname()[1]
    first.close()
    app = start_app(rig, port)
    blocker = taken_port()
    try:
        assert wait_until(lambda: app.listener is not None)
        new_port = blocker.getsockname()[1]
        app.settings_changed({**app.applied, "listener_port": new_port})
        assert wait_until(lambda: f"Port {new_port} is in use" in app.status_text())
        blocker.close()
        assert wait_until(lambda: app.listener is not None and app.listener.port == new_port, timeout=30)
        assert health(new_port) == 200
    finally:
        blocker.close()
        assert app.shutdown()
