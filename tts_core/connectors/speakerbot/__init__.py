"""A Speaker.bot-compatible server, so Streamer.bot's Speaker.bot sub-actions speak
through this queue (docs/speakerbot.md). Its settings live in the config
(``connectors.speakerbot``, tts_core/config/speakerbot.py)."""

from tts_core.config.speakerbot import SpeakerbotSettings
from tts_core.connectors.speakerbot.server import SpeakerbotServer

__all__ = ["SpeakerbotServer", "SpeakerbotSettings"]
