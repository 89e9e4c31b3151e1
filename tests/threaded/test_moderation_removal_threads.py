"""A ban on a queue whose events are delivered: messages dropped, counted, the viewer blocked."""

from __future__ import annotations

from doubles import EventLog, assert_accounting

from tts_core import TTSConfig, TTSQueueManager
from tts_core.ingest.translator import StreamerBotIntegration

HOLD = 60.0


def build(**moderation: object) -> tuple[TTSQueueManager, StreamerBotIntegration]:
    manager = TTSQueueManager(TTSConfig.from_dict({"streamer_bot": {"chat_command": ""},
                                                   "moderation": moderation}))
    return manager, StreamerBotIntegration(manager)


def chat(bot: StreamerBotIntegration, user: str, text: str, **extra: object) -> str | None:
    return bot.submit("chat", {"username": user, "message": text, "hold_seconds": HOLD, **extra}).message_id


def test_a_ban_drops_that_viewers_messages_counts_them_and_blocks_them():
    manager, bot = build()
    log = EventLog()
    manager.subscribe(log)
    manager.events.start()
    try:
        theirs = [chat(bot, "Troll", f"line {n}") for n in range(2)]
        other = chat(bot, "fine", "stays")
        result = bot.remove("user_banned", {"username": "@troll"})
        assert sorted(result["removed"]) == sorted(theirs) and result["skipped"] is None
        assert [m["message_id"] for m in manager.get_queue()] == [other]
        assert log.wait_for("dropped", theirs[0])["reason"] == "user_banned"
        refused = bot.submit("chat", {"username": "TROLL", "message": "again"})
        assert (refused.status, refused.stage) == ("rejected", "blocked_users")
        stats = assert_accounting(manager)
        assert (stats["dropped"], stats["rejected"], stats["pending"]) == (2, 1, 1)
    finally:
        manager.events.stop()

