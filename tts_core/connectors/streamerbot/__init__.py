"""The Streamer.bot connector: ``client`` (the WebSocket client), ``mapping`` (its events -> ours)."""

from tts_core.connectors.streamerbot.client import StreamerBotConnector

__all__ = ["StreamerBotConnector"]
