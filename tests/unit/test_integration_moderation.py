"""The old streamer_bot moderation keys: bad values name the key, and the manager counts
a refused text as rejected (with a rejected event)."""

from __future__ import annotations

import pytest
from doubles import EventLog, assert_accounting

from tts_core import TTSConfig, TTSQueueManager
from tts_core.config import ConfigError, StreamerBotConfig
from tts_core.integration import StreamerBotIntegration


def test_config_names_the_bad_moderation_setting():
    with pytest.raises(ConfigError, match="url_filter must be one of"):
        StreamerBotConfig(url_filter="maybe").validate()
    with pytest.raises(ConfigError, match="bad_word_action"):
        TTSConfig.from_dict({"streamer_bot": {"bad_word_action": "shout"}})
    with pytest.raises(ConfigError, match="max_words must be >= 0"):
        TTSConfig.from_dict({"streamer_bot": {"max_words": -1}})


def test_manager_counts_moderation_refusals_as_rejected():
    manager = TTSQueueManager(TTSConfig())
    log = EventLog()
    manager.subscribe(log)
    manager.events.start()
    try:
        legacy = StreamerBotConfig(bad_words=["spoiler*"], bad_word_action="reject")
        bot = StreamerBotIntegration(manager, legacy)
        msg_id = bot.submit("tts", {"text": "big spoilers ahead"}).message_id
        only_emotes = bot.submit("tts", {"text": "Kappa Kappa"}).message_id
        refused = log.wait_for("rejected", msg_id)
        assert (refused["reason"], refused["stage"]) == ("bad_word", "bad_words")
        assert log.wait_for("rejected", only_emotes)["stage"] == "nothing_left"
        stats = assert_accounting(manager)
        assert stats["rejected"] == 2 and stats["pending"] == 0
    finally:
        manager.events.stop()
