"""Every connector of a queue, built once: ``obs-tts serve``, the OBS script and
``obs-tts doctor`` use these instead of naming each connector."""

from __future__ import annotations

from typing import Any, Protocol

from tts_core.config import TTSConfig
from tts_core.connectors.base import CONNECTED, Connector
from tts_core.connectors.speakerbot import SpeakerbotServer
from tts_core.connectors.speakerbot.server import LISTENING
from tts_core.connectors.streamelements import StreamElementsConnector
from tts_core.connectors.streamerbot import StreamerBotConnector
from tts_core.connectors.streamlabs import StreamlabsConnector
from tts_core.connectors.twitch import TwitchConnector
from tts_core.ingest.translator import StreamerBotIntegration
from tts_core.runtime.manager import TTSQueueManager


class Part(Protocol):
    """What serve, the OBS script and doctor use of a connector (a client such as
    StreamerBotConnector, or a server such as SpeakerbotServer)."""

    name: str
    settings: Any  # its config section; ``settings.enabled`` says whether it runs

    def start(self) -> None: ...
    def close(self) -> None: ...
    def report(self) -> dict[str, Any]: ...
    def wait_until_settled(self, timeout: float) -> bool: ...
    @property
    def state(self) -> str: ...
    @property
    def last_error(self) -> str | None: ...


CONNECTOR_CLASSES: tuple[type[Connector] | type[SpeakerbotServer], ...] = (
    StreamerBotConnector,
    SpeakerbotServer,
    TwitchConnector,
    StreamElementsConnector,
    StreamlabsConnector,
)
NAMES = {
    "streamerbot": "Streamer.bot",
    "speakerbot": "Speaker.bot server",
    "twitch": "Twitch",
    "streamelements": "StreamElements",
    "streamlabs": "Streamlabs",
}
WORKING = (CONNECTED, LISTENING)  # a client connected, a server listening (with or without clients)


def build_connectors(manager: TTSQueueManager, integration: StreamerBotIntegration) -> list[Part]:
    """One of each connector on ``manager``, its events through ``integration``; each
    runs once started and while its settings say ``enabled`` (settings apply live)."""
    return [cls(manager, integration) for cls in CONNECTOR_CLASSES]


def status_line(manager: TTSQueueManager) -> str:
    """A short state of the connectors that are on: "Streamer.bot connected" ("" if none)."""
    names = NAMES
    shown = []
    for name, report in list(manager.connector_reports.items()):
        state = report()
        if state["state"] != "disabled":
            missing = f" ({len(state['missing'])} event types missing)" if state.get("missing") else ""
            shown.append(f"{names.get(name, name)} {state['state'].replace('_', ' ')}{missing}")
    return ", ".join(shown)


def probe(config: TTSConfig, timeout: float = 8.0) -> dict[str, str | None]:
    """For ``obs-tts doctor``: connect each enabled connector once (nothing is queued for
    playing: the queue is not started). Name -> None (connected), "off" or the problem."""
    manager = TTSQueueManager(config)
    integration = StreamerBotIntegration(manager)
    results: dict[str, str | None] = {}
    for connector in build_connectors(manager, integration):
        if not connector.settings.enabled:
            results[connector.name] = "off"
            connector.close()
            continue
        connector.start()
        connector.wait_until_settled(timeout)
        report = connector.report()
        connector.close()
        if report["state"] in WORKING and report.get("missing"):
            missing = "; ".join(f"{kind} ({why})" for kind, why in report["missing"].items())
            results[connector.name] = f"{report['address']}: connected, but not receiving {missing}"
        elif report["state"] in WORKING:
            results[connector.name] = None
        else:
            why = report.get("reason") or report["last_error"] or f"no connection within {timeout:.0f} s"
            results[connector.name] = f"{report['address']}: {why}"
    return results
