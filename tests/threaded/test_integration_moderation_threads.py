"""Moderation refusals on a running queue: counted as rejected, with the accounting intact."""

from __future__ import annotations

from doubles import EventLog, assert_accounting

from tts_core import TTSConfig, TTSQueueManager
from tts_core.ingest.translator import StreamerBotIntegration


def test_manager_counts_moderation_refusals_as_rejected():
    config = TTSConfig.from_dict({"streamer_bot": {"bad_words": ["spoiler*"], "bad_word_action": "reject"}})
    manager = TTSQueueManager(config)
    log = EventLog()
    manager.subscribe(log)
    manager.events.start()
    try:
        bot = StreamerBotIntegration(manager)
        msg_id = bot.submit("tts", {"text": "big spoilers ahead"}).message_id
        only_emotes = bot.submit("tts", {"text": "Kappa Kappa"}).message_id
        refused = log.wait_for("rejected", msg_id)
        assert (refused["reason"], refused["stage"]) == ("bad_word", "bad_words")
        assert log.wait_for("rejected", only_emotes)["stage"] == "nothing_left"
        stats = assert_accounting(manager)
        assert stats["rejected"] == 2 and stats["pending"] == 0
    finally:
        manager.events.stop()

