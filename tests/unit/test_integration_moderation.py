"""Moderation stages: each alone, the pipeline built from config, and how the manager
counts a refused text (rejected, with a rejected event)."""

from __future__ import annotations

import pytest
from doubles import EventLog, assert_accounting
from hypothesis import given, settings
from hypothesis import strategies as st

from tts_core import TTSConfig, TTSQueueManager
from tts_core.config import ConfigError, StreamerBotConfig
from tts_core.integration import StreamerBotIntegration
from tts_core.text import (
    TextRejected,
    filter_bad_words,
    filter_emotes,
    filter_urls,
    limit_repeated_letters,
    limit_repeated_words,
    limit_words,
    moderation_pipeline,
    remove_blobs,
    remove_commands,
)

LINKS = [
    "https://evil.example.com/path?q=1", "http://x.co", "HTTPS://SHOUTY.COM", "h t t p s : // evil . com",
    "www.example.org", "bit.ly/abc123", "discord.gg/invite", "192.168.0.1:8080/admin", "bob@example.com",
    "ftp://files.example.net", "evil . com",
]


@pytest.mark.parametrize("link", LINKS)
def test_links_are_never_spelled_out(link):
    cleaned = filter_urls("replace")(f"check {link} now")
    assert cleaned == "check link now"
    spoken = moderation_pipeline(StreamerBotConfig()).clean(f"check {link} now").lower()
    for piece in ("http", "://", "www", ".com", "slash"):
        assert piece not in spoken


def test_link_actions():
    assert filter_urls("remove")("see https://a.com ok").split() == ["see", "ok"]
    with pytest.raises(TextRejected) as caught:
        filter_urls("reject")("see https://a.com")
    assert caught.value.code == "url"
    assert filter_urls("replace")("a https://a.com, https://b.com b") == "a link b"


def test_ordinary_dots_are_not_links():
    text = "e.g. version 1.5 is fine. Node.js too. I went home. Co-op later"
    assert filter_urls("replace")(text) == text


def test_repeated_letters_and_words():
    letters = limit_repeated_letters(3)
    assert letters("sooooooo goooood!!!!!!") == "sooo goood!"
    assert letters("hahahahahaha") == "haha"
    assert letters("I donated 1000000 dollars") == "I donated 1000000 dollars"
    words = limit_repeated_words(2)
    assert words("spam spam spam spam spam") == "spam spam"
    assert words("hi there hi there hi there") == "hi there hi there"
    assert words("Spam, spam. SPAM spam") == "Spam, spam."


def test_bad_words_with_wildcards_replace_or_reject():
    replace = filter_bad_words(["frick*", "*hole", "bad phrase"], "replace", "beep")
    assert replace("Frickin heck you asshole, bad  phrase") == "beep heck you beep, beep"
    assert replace("holes and fricassee stay") == "holes and fricassee stay"
    with pytest.raises(TextRejected) as caught:
        filter_bad_words(["darn"], "reject")("well DARN it")
    assert caught.value.code == "bad_word"


def test_emotes_commands_and_blobs():
    assert filter_emotes()("nice Kappa PogChamp :catJAM: play").split() == ["nice", "play"]
    assert filter_emotes(["myEmote*"], defaults=False)("hi myEmoteWave Kappa").split() == ["hi", "Kappa"]
    assert remove_commands("!drop me now !so @friend").split() == ["me", "now", "@friend"]
    assert remove_blobs("aGVsbG8gd29ybGQgdGhpcyBpcyBhIGJhc2U2NA== hi deadbeefcafebabe12345678") == "hi"
    assert remove_blobs("supercalifragilistic is a word") == "supercalifragilistic is a word"


def test_max_words():
    assert limit_words(3)("one two three four five") == "one two three"


def test_pipeline_from_config_switches_stages():
    full = moderation_pipeline(StreamerBotConfig(bad_words=["x"], max_words=10))
    assert full.names() == [
        "control_characters", "whitespace", "urls", "commands", "emotes", "blobs", "repeated_letters",
        "repeated_words", "bad_words", "whitespace_again", "max_words", "max_length", "nothing_left",
    ]
    bare = moderation_pipeline(StreamerBotConfig(url_filter="off", filter_commands=False, filter_emotes=False,
                                                 filter_blobs=False, max_repeated_letters=0,
                                                 max_repeated_words=0))
    assert bare.names() == [
        "control_characters", "whitespace", "whitespace_again", "max_length", "nothing_left",
    ]


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


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300))
def test_fuzz_pipeline_returns_text_or_refuses_cleanly(text):
    pipeline = moderation_pipeline(StreamerBotConfig(bad_words=["bad*"], max_words=50))
    try:
        out = pipeline.clean(text)
    except TextRejected as exc:
        assert exc.code in ("empty", "filtered")
        return
    assert out.strip() and "://" not in out and len(out) <= 500
