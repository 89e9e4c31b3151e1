"""The moderation keys of earlier versions (``streamer_bot.url_filter``, ``bad_words``,
...): a JSON config with them loads into the ``moderation`` section and behaves as it
did, bad values still name the old key, and the manager counts a refusal as rejected."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tts_core import TTSConfig
from tts_core.config import LEGACY_MODERATION_KEYS, ConfigError, StreamerBotConfig
from tts_core.ingest.moderation import Memory, Pipeline, Stopped, Words, build_pipeline

EVERY_OLD_KEY = {
    "url_filter": "reject", "bad_words": ["frick*"], "bad_word_action": "replace",
    "bad_word_replacement": "beep", "max_repeated_letters": 2, "max_repeated_words": 1,
    "filter_commands": False, "filter_emotes": False, "emotes": ["myEmote*"], "filter_blobs": False,
    "max_words": 7,
}


def pipeline(**old: object) -> Pipeline:
    config = TTSConfig.from_dict({"streamer_bot": old})
    return build_pipeline(config.moderation, config.streamer_bot, Memory())


def spoken(text: str, **old: object) -> str:
    return pipeline(**old).run(Words(text, "tts")).text


def stopped(text: str, **old: object) -> Stopped:
    with pytest.raises(Stopped) as caught:
        pipeline(**old).run(Words(text, "tts"))
    return caught.value


def test_a_json_file_with_every_old_key_loads_into_the_moderation_section(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"streamer_bot": {"currency": "EUR", **EVERY_OLD_KEY}}))
    config = TTSConfig.load(path)
    mod = config.moderation
    assert (mod.links, mod.bad_words, mod.bad_word_action, mod.censor_word) == (
        "drop", ["frick*"], "censor", "beep")
    assert (mod.max_repeated_letters, mod.max_repeated_words, mod.max_words) == (2, 1, 7)
    assert (mod.commands, mod.emotes, mod.emote_names, mod.blobs) == (False, False, ["myEmote*"], False)
    assert config.streamer_bot.currency == "EUR"
    assert set(LEGACY_MODERATION_KEYS) == set(EVERY_OLD_KEY)
    # Saved again, the file has the new shape only (and loads to the same config).
    config.save(path)
    saved = json.loads(path.read_text())
    assert not set(saved["streamer_bot"]) & set(EVERY_OLD_KEY)
    assert TTSConfig.load(path) == config


def test_an_old_key_is_ignored_where_the_moderation_section_sets_the_new_one():
    config = TTSConfig.from_dict({"streamer_bot": {"max_words": 9, "url_filter": "off"},
                                  "moderation": {"max_words": 4}})
    assert (config.moderation.max_words, config.moderation.links) == (4, "off")


LINKS = [
    "https://evil.example.com/path?q=1", "http://x.co", "HTTPS://SHOUTY.COM", "h t t p s : // evil . com",
    "www.example.org", "bit.ly/abc123", "discord.gg/invite", "192.168.0.1:8080/admin", "bob@example.com",
    "ftp://files.example.net", "evil . com",
]


@pytest.mark.parametrize("link", LINKS)
def test_links_are_never_spelled_out(link):
    said = spoken(f"check {link} now", url_filter="replace")
    assert said == "check link now"
    for piece in ("http", "://", "www", ".com", "slash"):
        assert piece not in said.lower()


def test_link_actions():
    assert spoken("see https://a.com ok", url_filter="remove") == "see ok"
    stop = stopped("see https://a.com", url_filter="reject")
    assert (stop.status, stop.stage, stop.reason) == ("rejected", "links", "link")
    assert spoken("a https://a.com, https://b.com b") == "a link b"
    # Off: read as typed (only the repeated-letters stage would shorten its "//").
    assert spoken("see https://a.com ok", url_filter="off", max_repeated_letters=0) == "see https://a.com ok"


def test_ordinary_dots_are_not_links():
    text = "e.g. version 1.5 is fine. Node.js too. I went home. Co-op later"
    assert spoken(text, url_filter="replace") == text


def test_repeated_letters_and_words():
    assert spoken("sooooooo goooood!!!!!!", max_repeated_letters=3) == "sooo goood!"
    assert spoken("hahahahahaha", max_repeated_letters=3) == "haha"
    assert spoken("I donated 1000000 dollars", max_repeated_letters=3) == "I donated 1000000 dollars"
    assert spoken("spam spam spam spam spam", max_repeated_words=2) == "spam spam"
    assert spoken("hi there hi there hi there", max_repeated_words=2) == "hi there hi there"
    assert spoken("Spam, spam. SPAM spam", max_repeated_words=2) == "Spam, spam."
    assert spoken("sooooooo", max_repeated_letters=0) == "sooooooo"


def test_bad_words_with_wildcards_replace_or_reject():
    bad = ["frick*", "*hole", "bad phrase"]
    assert spoken("Frickin heck you asshole, bad  phrase", bad_words=bad, bad_word_action="replace",
                  bad_word_replacement="beep") == "beep heck you beep, beep"
    assert spoken("holes and fricassee stay", bad_words=bad) == "holes and fricassee stay"
    stop = stopped("well DARN it", bad_words=["darn"], bad_word_action="reject")
    assert (stop.status, stop.stage, stop.reason) == ("rejected", "bad_words", "bad_word")


def test_emotes_commands_and_blobs():
    assert spoken("nice Kappa PogChamp :catJAM: play") == "nice play"
    assert spoken("hi myEmoteWave Kappa", emotes=["myEmote*"], filter_emotes=False) == "hi Kappa"
    assert spoken("nice Kappa play", filter_emotes=False) == "nice Kappa play"
    assert spoken("!drop me now !so @friend") == "me now @friend"
    assert spoken("!drop me now", filter_commands=False) == "!drop me now"
    blobs = "aGVsbG8gd29ybGQgdGhpcyBpcyBhIGJhc2U2NA== hi deadbeefcafebabe12345678"
    assert spoken(blobs) == "hi"
    assert spoken(blobs, filter_blobs=False, max_repeated_letters=0) == blobs
    assert spoken("supercalifragilistic is a word") == "supercalifragilistic is a word"


def test_max_words():
    assert spoken("one two three four five", max_words=3) == "one two three"


def test_the_old_switches_switch_the_stages():
    full = pipeline(bad_words=["x"], max_words=10).names()
    for stage in ("links", "commands", "emotes", "blobs", "repeated_letters", "repeated_words",
                  "bad_words", "max_words"):
        assert stage in full
    bare = pipeline(url_filter="off", filter_commands=False, filter_emotes=False, filter_blobs=False,
                    max_repeated_letters=0, max_repeated_words=0).names()
    for stage in ("links", "commands", "command_lines", "emotes", "blobs", "repeated_letters",
                  "repeated_words", "bad_words", "max_words"):
        assert stage not in bare


@pytest.mark.parametrize(("old", "match"), [
    ({"url_filter": "maybe"}, r"streamer_bot\.url_filter must be one of replace, remove, reject, off, got"),
    ({"bad_word_action": "shout"}, r"streamer_bot\.bad_word_action must be one of replace, reject"),
    ({"bad_word_action": "censor"}, r"streamer_bot\.bad_word_action must be one of"),  # a new word, old key
    ({"max_words": -1}, r"streamer_bot\.max_words must be >= 0"),
    ({"max_repeated_letters": 2.5}, r"streamer_bot\.max_repeated_letters must be int"),
    ({"bad_words": [5]}, r"streamer_bot\.bad_words\[0\] must be str, got int 5"),
    ({"bad_words": "scam"}, r"streamer_bot\.bad_words must be a list"),
    ({"bad_words": ["ok", " * "]}, r"streamer_bot\.bad_words\[1\]: empty entry"),
    ({"filter_emotes": "yes"}, r"streamer_bot\.filter_emotes must be bool"),
    ({"emotes": [None]}, r"streamer_bot\.emotes\[0\] must be str"),
])
def test_a_bad_old_key_is_named(old, match):
    with pytest.raises(ConfigError, match=match):
        TTSConfig.from_dict({"streamer_bot": old})
    # Also where the moderation section's own key wins: the file is still wrong.
    new = LEGACY_MODERATION_KEYS[next(iter(old))].new
    default = TTSConfig().to_dict()["moderation"][new]
    with pytest.raises(ConfigError, match=match):
        TTSConfig.from_dict({"streamer_bot": old, "moderation": {new: default}})


def test_the_streamer_bot_section_no_longer_has_the_old_fields():
    with pytest.raises(TypeError):
        StreamerBotConfig(url_filter="reject")  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match=r"unknown key streamer_bot\.url_filters"):
        TTSConfig.from_dict({"streamer_bot": {"url_filters": "reject"}})


FUZZED = pipeline(bad_words=["bad*"], max_words=50)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300))
def test_fuzz_pipeline_returns_text_or_refuses_cleanly(text):
    try:
        out = FUZZED.run(Words(text, "tts")).text
    except Stopped as stop:
        assert (stop.stage, stop.reason) == ("nothing_left", "filtered")
        return
    assert any(ch.isalnum() for ch in out) and "://" not in out and len(out.split()) <= 50
