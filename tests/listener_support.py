"""Helpers for the listener tests: a running queue + listener on a free loopback port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doubles import RecordingSink, ToneEngine, wait_until
from websockets.sync.client import ClientConnection, connect

from tts_core import StreamerBotIntegration, TTSConfig, TTSQueueManager
from tts_core.listener import ListenerServer
from tts_core.listener.dispatcher import Dispatcher
from tts_core.listener.session import Outcome, Session


@dataclass
class Running:
    manager: TTSQueueManager
    server: ListenerServer
    sink: RecordingSink

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def ws(self, path: str = "/", **kwargs: Any) -> ClientConnection:
        return connect(f"ws://127.0.0.1:{self.server.port}{path}", open_timeout=5, **kwargs)


class Served:
    """A Session and a Dispatcher on ``manager``, without sockets or threads: ``outcome``
    runs a frame the way the transports do, the command at once."""

    def __init__(self, manager: TTSQueueManager, **session: Any) -> None:
        self.manager = manager
        self.dispatcher = Dispatcher(manager, StreamerBotIntegration(manager))
        self.session = Session(**session)

    def outcome(self, frame: dict[str, Any] | str | bytes) -> Outcome:
        data = json.dumps(frame) if isinstance(frame, dict) else frame
        outcome = self.session.receive(data)
        if outcome.command is not None:
            outcome = self.session.complete(outcome, self.dispatcher.run(outcome.command))
        return self.session.settle(outcome)

    def reply(self, frame: dict[str, Any] | str | bytes) -> dict[str, Any]:
        reply = self.outcome(frame).reply
        assert reply is not None
        return reply


def start_listener(make_manager: Callable[..., TTSQueueManager], *, duration_ms: int = 5,
                   sink_speed: float = 0.0, config: TTSConfig | None = None,
                   **listener: Any) -> Running:
    """A started manager (fast tone engine, recording sink) with a listener on a free port."""
    cfg = config or TTSConfig(rate_limit_per_minute=0, max_queue_size=1000)
    cfg.listener.port = 0
    for key, value in listener.items():
        setattr(cfg.listener, key, value)
    sink = RecordingSink(speed=sink_speed)
    manager = make_manager(cfg, engine=ToneEngine(duration_ms), sink=sink)
    manager.start()
    server = ListenerServer(manager)
    server.start()
    return Running(manager, server, sink)


@contextmanager
def listening(make_manager: Callable[..., TTSQueueManager], **kwargs: Any) -> Iterator[Running]:
    running = start_listener(make_manager, **kwargs)
    try:
        yield running
    finally:
        running.server.stop()


def ask(ws: ClientConnection, frame: dict[str, Any] | str | bytes, timeout: float = 5.0) -> dict[str, Any]:
    """Send a frame and return the next reply (skipping pushed events)."""
    ws.send(json.dumps(frame) if isinstance(frame, dict) else frame)
    while True:
        data = json.loads(ws.recv(timeout=timeout))
        if "status" in data:
            return dict(data)


def post(base: str, body: bytes | str | dict[str, Any], path: str = "/event",
         headers: dict[str, str] | None = None, method: str = "POST") -> tuple[int, dict[str, Any]]:
    """HTTP request with urllib; returns (status, decoded JSON body)."""
    if isinstance(body, dict):
        body = json.dumps(body)
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(base + path, data=data if method != "GET" else None,
                                     headers={"Content-Type": "application/json", **(headers or {})},
                                     method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def raw_http(port: int, payload: bytes, timeout: float = 5.0) -> bytes:
    """Send raw bytes, return everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(payload)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def serving(folder: Path, config: Path, start_timeout: float = 20.0, sink: Sequence[str] = (),
            env: Mapping[str, str] | None = None,
            sigint_ignored: bool = False) -> Iterator[tuple[str, list[str], subprocess.Popen[str]]]:
    """``obs-tts serve --config CONFIG`` as a real process (a free port, journal in
    ``folder/data``; ``sink``: its --sink flags, default wav-dir into ``folder/clips``;
    ``env``: more environment; ``sigint_ignored``: started as a shell starts a background
    job, SIGINT ignored): yields its WebSocket URL, the live list of its output lines and
    the process; stops it with Ctrl+C (SIGINT) and asserts a clean exit."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "OBS_TTS_TOKEN": "", **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "tts_core.cli", "serve", "--config", str(config), "--port", "0",
         *(sink or ("--sink", "wav-dir", "--out", str(folder / "clips"))),
         "--data-dir", str(folder / "data")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=folder,
        preexec_fn=_ignore_sigint if sigint_ignored else None,
    )
    assert process.stdout is not None and process.stderr is not None
    out, lines = process.stdout, []
    reader = threading.Thread(target=lambda: lines.extend(iter(out.readline, "")), daemon=True)
    reader.start()
    try:
        started = wait_until(lambda: lines, start_timeout)
        assert started, process.stderr.read() if process.poll() is not None else "no output"
        yield lines[0].split("listening on ", 1)[1].split()[0], lines, process
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0
        reader.join(5)
