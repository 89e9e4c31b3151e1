"""What the removal tests share: a queue whose translator reads every chat line, held long."""

from __future__ import annotations

from tts_core import TTSConfig, TTSQueueManager
from tts_core.ingest.translator import StreamerBotIntegration

HOLD = 60.0


def build(**moderation: object) -> tuple[TTSQueueManager, StreamerBotIntegration]:
    manager = TTSQueueManager(TTSConfig.from_dict({"streamer_bot": {"chat_command": ""},
                                                   "moderation": moderation}))
    return manager, StreamerBotIntegration(manager)


def chat(bot: StreamerBotIntegration, user: str, text: str, **extra: object) -> str | None:
    return bot.submit("chat", {"username": user, "message": text, "hold_seconds": HOLD, **extra}).message_id
