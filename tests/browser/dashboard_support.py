"""What the dashboard's browser tests share: a real queue (espeak-ng through the wav-dir
sink, whose timeline.jsonl says what played) with a listener, a bot's WebSocket, and a
logged-in dashboard page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from doubles import wait_until
from listener_support import ask
from websockets.sync.client import ClientConnection, connect

from tts_core import TTSConfig, TTSQueueManager
from tts_core.listener import ListenerServer
from tts_core.sinks import WavDirSink

TOKEN = "dashboard-test-token"
DEADLINE_MS = 20_000  # page conditions: generous, only ever reached when a test fails


@dataclass
class Stage:
    """A running queue + listener; ``bot`` is a program's WebSocket (it sends the events)."""

    manager: TTSQueueManager
    server: ListenerServer
    out: Path
    bot: ClientConnection
    token: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}/"

    def send(self, frame: dict[str, Any]) -> dict[str, Any]:
        return ask(self.bot, frame)

    def timeline(self) -> list[dict[str, Any]]:
        """The clips the sink played so far (timeline.jsonl rows)."""
        path = self.out / "timeline.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def played(self, message_id: str) -> dict[str, Any] | None:
        return next((row for row in self.timeline() if row["message_id"] == message_id), None)

    def wait_played(self, message_id: str, timeout: float = 30.0) -> dict[str, Any]:
        assert wait_until(lambda: self.played(message_id) is not None, timeout), \
            f"{message_id} never played; timeline: {self.timeline()}"
        row = self.played(message_id)
        assert row is not None
        return row


@contextmanager
def stage(tmp_path: Path, token: str = TOKEN, paused: bool = False, speed: float = 1.0,
          **listener: Any) -> Iterator[Stage]:
    """espeak-ng (the default engine) -> wav-dir sink at ``speed`` (1.0: real time);
    ``listener``: ListenerConfig fields."""
    config = TTSConfig(rate_limit_per_minute=0, max_queue_size=1000)
    config.listener.port = 0
    config.listener.token = token
    for key, value in listener.items():
        setattr(config.listener, key, value)
    out = tmp_path / "out"
    manager = TTSQueueManager(config, sink=WavDirSink(out, speed=speed))
    if paused:
        manager.pause()
    manager.start()
    server = ListenerServer(manager)
    server.start()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with connect(f"ws://127.0.0.1:{server.port}/", additional_headers=headers, open_timeout=5) as bot:
            yield Stage(manager, server, out, bot, token)
    finally:
        server.stop()
        manager.stop()


def log_in(page: Any, where: Stage) -> None:
    """Open the dashboard and log in with the token through its form."""
    page.goto(where.url)
    if where.token:
        page.get_by_label("Token").fill(where.token)
        page.get_by_role("button", name="Log in").click()
    page.locator("#main").wait_for(state="visible", timeout=DEADLINE_MS)
    page.locator("#connection", has_text="Live").wait_for(timeout=DEADLINE_MS)


def row(page: Any, list_id: str, message_id: str) -> Any:
    """The row of ``message_id`` in the list ``list_id`` (queue, held, history)."""
    return page.locator(f'#{list_id} > li[data-message-id="{message_id}"]')
