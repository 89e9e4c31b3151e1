"""A Speaker.bot-compatible server, so Streamer.bot's Speaker.bot sub-actions speak
through this queue (docs/speakerbot.md).

The settings import nothing of the queue, so the config can hold them
(``connectors.speakerbot``); the server is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tts_core.config.speakerbot import SpeakerbotSettings

if TYPE_CHECKING:
    from tts_core.connectors.speakerbot.server import SpeakerbotServer

__all__ = ["SpeakerbotServer", "SpeakerbotSettings"]


def __getattr__(name: str) -> Any:
    if name == "SpeakerbotServer":
        from tts_core.connectors.speakerbot.server import SpeakerbotServer

        return SpeakerbotServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
