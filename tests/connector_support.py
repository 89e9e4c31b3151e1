"""What the connector integration tests share: a running queue with one connector, and
its config (no rate limit, every line naming its viewer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from doubles import RecordingSink, wait_until

from tts_core import TTSConfig, TTSQueueManager


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
