"""A Speaker.bot-compatible server, so Streamer.bot's Speaker.bot sub-actions speak
through this queue (docs/speakerbot.md)."""

from tts_core.connectors.speakerbot.server import SpeakerbotServer
from tts_core.connectors.speakerbot.settings import SpeakerbotSettings

__all__ = ["SpeakerbotServer", "SpeakerbotSettings"]
