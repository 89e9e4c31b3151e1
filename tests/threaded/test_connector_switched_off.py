"""A connector switched off while its connection is being made stays "disabled": a session
that reports itself connected a moment after the switch does not bring the state back."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from doubles import wait_until

from tts_core import TTSConfig
from tts_core.config.streamelements import StreamElementsConnectorConfig
from tts_core.connectors.base import CONNECTED, CONNECTING, DISABLED, Connector
from tts_core.ingest.translator import StreamerBotIntegration


class Hanging(Connector):
    """Connects for ever (its session waits until cancelled)."""

    name = "hanging"

    @classmethod
    def section(cls, config: TTSConfig) -> StreamElementsConnectorConfig:
        return config.connectors.streamelements

    async def session(self, settings: Any) -> None:
        await asyncio.Event().wait()


def test_a_late_connected_after_switching_off_leaves_the_state_disabled(make_manager):
    on = TTSConfig(connectors=dataclasses.replace(
        TTSConfig().connectors, streamelements=StreamElementsConnectorConfig(enabled=True)))
    manager = make_manager(on)
    connector = Hanging(manager, StreamerBotIntegration(manager))
    connector.start()
    try:
        assert wait_until(lambda: connector.state == CONNECTING and connector.is_running)
        manager.reconfigure(TTSConfig())  # switched off in the settings
        connector.connected()  # the session's answer, already on its way
        assert connector.state == DISABLED and connector.report()["state"] == DISABLED
        assert wait_until(lambda: not connector.is_running)
        manager.reconfigure(on)
        connector.connected()
        assert connector.state == CONNECTED
    finally:
        connector.close()
