"""Every moderation stage, table-driven with real-world chat samples.

Each row is (what a viewer typed, what the voice must say). The pipeline is the one
a StreamerBotIntegration builds from config; ``spoken`` runs one chat message through
it the way the listener does (template "{message}" of a ``tts`` event).
"""

from __future__ import annotations

import pytest

from tts_core import TTSConfig, TTSQueueManager
from tts_core.config import ConfigError, ModerationConfig, StreamerBotConfig
from tts_core.domain.moderation import BadWordAction, LinkAction
from tts_core.ingest.moderation import Memory, Stopped, Words, build_pipeline
from tts_core.ingest.moderation.links import find_links
from tts_core.ingest.moderation.normalize import normalize
from tts_core.ingest.translator import StreamerBotIntegration


def pipeline(**moderation: object):
    bot = moderation.pop("streamer_bot", None) or StreamerBotConfig()
    return build_pipeline(ModerationConfig(**moderation), bot, Memory())  # type: ignore[arg-type]


def spoken(text: str, event_type: str = "tts", **moderation: object) -> str:
    return pipeline(**moderation).run(Words(text, event_type)).text


def stopped(text: str, event_type: str = "tts", **moderation: object) -> Stopped:
    with pytest.raises(Stopped) as caught:
        pipeline(**moderation).run(Words(text, event_type))
    return caught.value


# -- links -----------------------------------------------------------------------------

LINKS = [
    "https://evil.example.com/path?q=1", "http://x.co", "HTTPS://SHOUTY.COM", "h t t p s : // evil . com",
    "hxxps://evil[.]com/free", "hxxp://evil.com", "https colon slash slash evil dot com",
    "evil(dot)com", "evil [dot] com", "evil[.]com", "evil (.) com", "evil . com", "evil。com", "evil．com",
    "еvil.соm", "www.example.org", "www3.example.org", "bit.ly/abc123", "discord.gg/invite",
    "192.168.0.1:8080/admin", "bob@example.com", "ftp://files.example.net", "steam://run/570",
    "youtu.be/dQw4w9WgXcQ", "EVIL.COM/free-skins", "free-vbucks.xyz",
]


@pytest.mark.parametrize("link", LINKS)
def test_links_in_every_dodge_shape_say_link(link):
    assert spoken(f"check {link} now") == "check link now"


@pytest.mark.parametrize("text", [
    "e.g. version 1.5 is fine. Node.js too. I went home. Co-op later",
    "the dot com bubble was wild", "see you at 5. me too", "I like it.so what", "3.14 is pi",
    "Mr. T and Dr. Who", "ok. bye.", "a.k.a. the goat",
])
def test_ordinary_dots_are_not_links(text):
    assert find_links(text) == []
    assert spoken(text) == text


def test_link_actions_drop_remove_replace_and_a_custom_word():
    assert spoken("see https://a.com ok", links="remove") == "see ok"
    assert spoken("see evil(dot)com ok", link_word="a website") == "see a website ok"
    assert spoken("a https://a.com, https://b.com b") == "a link b"
    stop = stopped("see evil[.]com", links="drop")
    assert (stop.status, stop.stage, stop.reason) == ("rejected", "links", "link")


# -- look-alike letters, invisible characters, scripts ----------------------------------

NORMALIZE = [
    ("this is a ѕсаm", "this is a scam"),                 # Cyrillic ѕ, с, а inside a Latin word
    ("ｆｕｌｌ ｗｉｄｔｈ", "full width"),
    ("𝐛𝐨𝐥𝐝 𝓈𝒸𝓇𝒾𝓅𝓉", "bold script"),
    ("s\u200bc\u200ca\u200dm\u2060", "scam"),              # zero-width joiners and spaces
    ("s̷c̷a̷m̷ z͎̿a͙̓l͔͗g̤̈o", "scam zalgo"),
    ("café naïve über", "café naïve über"),            # real accents stay
    ("привет мир", "привет мир"),                          # Russian stays Russian
    ("Γειά σου κόσμε", "Γειά σου κόσμε"),
    ("नमस्ते दुनिया", "नमस्ते दुनिया"),                     # Devanagari vowel signs are spelling
    ("مرحبا بالعالم", "مرحبا بالعالم"),                    # right-to-left text as it is
    ("שלום \u202eevil\u202c עולם", "שלום evil עולם"),      # bidi override characters removed
    ("hola amigo, привет, こんにちは, 你好", "hola amigo, привет, こんにちは, 你好"),
]


@pytest.mark.parametrize(("typed", "said"), NORMALIZE)
def test_unicode_is_normalized_but_languages_stay(typed, said):
    assert normalize(typed) == said


@pytest.mark.parametrize("typed", ["this is a ѕсаm", "this is a SCAM", "sc4m alert", "ｓｃａｍ",
                                   "s\u200bcam", "s̷c̷a̷m̷", "ѕсам"])
def test_look_alike_bad_words_are_caught(typed):
    assert "bleep" in spoken(typed, bad_words=["scam"])
    assert "scam" not in spoken(typed, bad_words=["scam"]).lower()


def test_a_genuine_russian_word_is_not_folded_into_a_latin_bad_word():
    assert spoken("сос и мир", bad_words=["coc"]) == "сос и мир"


# -- emoji, emotes, commands, bots --------------------------------------------------------

@pytest.mark.parametrize(("typed", "said"), [
    ("nice 😂😂😂 play", "nice play"),
    ("gg 👍🏽 🇩🇪 ❤️ 👨‍👩‍👧 wp", "gg wp"),
    ("nice Kappa PogChamp :catJAM: play", "nice play"),
    ("LUL that was KEKW", "that was"),
    ("Kappa123 is not an emote", "Kappa123 is not an emote"),
])
def test_emoji_and_emotes_are_not_read(typed, said):
    assert spoken(typed) == said


def test_configured_emotes_and_positions_from_the_platform():
    assert spoken("hi myEmoteWave there", emote_names=["myEmote*"]) == "hi there"
    words = Words("hello ohnoDance world sodaHype", "chat", emotes=[(6, 15), (22, 30)])
    assert pipeline().run(words).text == "hello world"


@pytest.mark.parametrize(("typed", "said"), [
    ("!drop me now !so @friend", "me now @friend"),
    ("wow! great!", "wow! great!"),
])
def test_inline_commands_are_dropped(typed, said):
    assert spoken(typed) == said


def test_a_chat_line_that_is_a_bot_command_is_filtered():
    stop = stopped("!so coolstreamer", "chat")
    assert (stop.status, stop.stage, stop.reason) == ("filtered", "command_lines", "command")
    assert stopped("！so coolstreamer", "chat").reason == "command"  # full-width "!"


def test_bots_and_blocked_users():
    bots = pipeline()
    with pytest.raises(Stopped) as caught:
        bots.run(Words("Use !commands", "chat", username="Nightbot"))
    assert (caught.value.status, caught.value.stage) == ("filtered", "bots")
    blocked = pipeline(blocked_users=["@Troll_1"])
    with pytest.raises(Stopped) as caught:
        blocked.run(Words("hi", "chat", username="troll_1"))
    assert (caught.value.status, caught.value.stage, caught.value.reason) == (
        "rejected", "blocked_users", "blocked_user")


# -- repeats, blobs, length --------------------------------------------------------------

@pytest.mark.parametrize(("typed", "said"), [
    ("sooooooo goooood!!!!!!", "sooo goood!"),
    ("hahahahahaha", "haha"),
    ("I donated 1000000 dollars", "I donated 1000000 dollars"),
    ("spam spam spam spam spam", "spam spam"),
    ("hi there hi there hi there", "hi there hi there"),
    ("raid raid raid raid", "raid raid"),
    ("Spam, spam. SPAM spam", "Spam, spam."),
])
def test_repeated_letters_words_and_phrases_are_collapsed(typed, said):
    assert spoken(typed) == said


@pytest.mark.parametrize(("typed", "said"), [
    ("aGVsbG8gd29ybGQgdGhpcyBpcyBhIGJhc2U2NA== hi", "hi"),
    ("tx deadbeefcafebabe1234567890abcdef ok", "tx ok"),
    ("call 4111111111111111 now", "call now"),
    ("a " + "x" * 60 + " b", "a xxx b"),
    ("a " + "qwertyuiopasdfghjklzxcvbnm" * 3 + " b", "a b"),
    ("Pneumonoultramicroscopicsilicovolcanoconiosis", "Pneumonoultramicroscopicsilicovolcanoconiosis"),
    ("supercalifragilisticexpialidociouuuuuuuuuuuuuuuuuuuuuuuuuuus", "supercalifragilisticexpialidociouuus"),
])
def test_blobs_and_very_long_words(typed, said):
    assert spoken(typed) == said


def test_maximum_words_and_characters_cut_at_a_word_boundary():
    assert spoken("one two three four five six seven", max_words=5) == "one two three four five"
    assert spoken("the quick brown fox jumps", max_chars=13) == "the quick"
    assert spoken("the quick brown fox jumps", max_chars=15) == "the quick brown"
    assert spoken("Donaudampfschifffahrt", max_chars=8) == "Donaudam"


# -- bad words, replacements, pronunciations ------------------------------------------------

def test_bad_word_rules_with_actions_and_wildcards():
    rules = ["frick*", {"pattern": "*hole", "action": "replace", "with": "friend"},
             {"pattern": "bad phrase", "action": "censor"}]
    assert spoken("Frickin heck you asshole, bad  phrase", bad_words=rules) == "bleep heck you friend, bleep"
    assert spoken("holes and fricassee stay", bad_words=rules) == "holes and fricassee stay"
    stop = stopped("well DARN it", bad_words=[{"pattern": "darn", "action": "drop"}])
    assert (stop.status, stop.stage, stop.reason) == ("rejected", "bad_words", "bad_word")
    assert spoken("darn", bad_words=["darn"], censor_word="beep") == "beep"


def test_regex_replacements_and_pronunciations():
    out_of = [{"pattern": r"\b(\d+)/10\b", "with": r"\1 out of 10"}]
    assert spoken("lol that was 10/10", replacements=out_of) == "lol that was 10 out of 10"
    assert spoken("GG xQc, gg", pronunciations={"gg": "good game", "xQc": "ex Q C"}) \
        == "good game ex Q C, good game"


# -- markup is words, not commands ---------------------------------------------------------

@pytest.mark.parametrize("typed", [
    '<speak><prosody rate="x-fast">hi</prosody></speak>',
    '<break time="60s"/> hello',
    "</voice><voice name='evil'>hello",
    "I <3 this & that",
    '"quoted" and \'single\'',
])
def test_markup_reaches_the_engine_layer_as_the_viewer_typed_it(typed):
    # Escaping SSML is the engine layer's job; the filter removes nothing meant to be said.
    assert spoken(typed) == typed


# -- gates that remember -----------------------------------------------------------------------

def test_chat_cooldown_per_user():
    gate = pipeline(chat_cooldown_seconds=30)
    assert gate.run(Words("first", "chat", username="a", now=100.0)).text == "first"
    assert gate.run(Words("other user", "chat", username="b", now=101.0)).text == "other user"
    with pytest.raises(Stopped) as caught:
        gate.run(Words("second", "chat", username="A", now=110.0))
    assert (caught.value.stage, caught.value.reason) == ("chat_cooldown", "cooldown")
    assert gate.run(Words("later", "chat", username="a", now=131.0)).text == "later"
    assert gate.run(Words("donations are never cooled down", "donation", username="a", now=131.5)).text


def test_duplicates_within_the_window():
    gate = pipeline(duplicate_window_seconds=60)
    assert gate.run(Words("copy pasta", "chat", username="a", now=0.0)).text == "copy pasta"
    with pytest.raises(Stopped) as caught:
        gate.run(Words("COPY   pasta", "chat", username="b", now=10.0))
    assert (caught.value.stage, caught.value.reason) == ("duplicates", "duplicate")
    assert gate.run(Words("copy pasta", "chat", username="c", now=61.0)).text == "copy pasta"


def test_minimum_amounts():
    gate = pipeline(streamer_bot=StreamerBotConfig(min_donation_amount=5, min_cheer_bits=100,
                                                   min_raid_viewers=10))
    for event_type, amount in (("donation", 4.99), ("cheer", 99), ("raid", 9)):
        with pytest.raises(Stopped) as caught:
            gate.run(Words("", event_type, amount=amount))
        assert (caught.value.status, caught.value.stage, caught.value.reason) == (
            "filtered", "min_amount", "below_minimum")
    assert gate.run(Words("thanks", "donation", amount=5)).text == "thanks"


def test_approval_rules_set_a_reason():
    gate = pipeline(needs_approval={"donation": {"min_amount": 50}, "chat": {"first_time": True},
                                    "raid": {"always": True}})
    big = gate.run(Words("hi", "donation", amount=75))
    assert big.needs_approval and big.hold_reason == "donation of 75 (approval from 50)"
    assert not gate.run(Words("hi", "donation", amount=10)).needs_approval
    assert gate.run(Words("hello", "chat", first_time=True)).hold_reason == "first-time chatter"
    assert gate.run(Words("", "raid")).needs_approval


# -- through the integration: template words are never filtered ---------------------------------

def test_template_words_are_never_filtered_or_cut():
    cfg = TTSConfig.from_dict({"moderation": {"bad_words": ["dollars", "donated"], "max_words": 2}})
    manager = TTSQueueManager(cfg)
    bot = StreamerBotIntegration(manager)
    msg_id = bot.process_donation("John_Doe", 25, "what a dollars stream donated today")
    assert manager.get_message(msg_id)["text"] == "John Doe donated 25 dollars: what a"


def test_a_paid_event_with_a_dropped_message_is_still_announced():
    manager = TTSQueueManager(TTSConfig.from_dict({"moderation": {"links": "drop"}}))
    result = StreamerBotIntegration(manager).submit(
        "donation", {"donor_name": "Ann", "amount": 10, "message": "visit evil(dot)com"})
    assert result.status == "ok" and result.message_filtered == {"stage": "links", "reason": "link"}
    assert manager.get_message(result.message_id)["text"] == "Ann donated 10 dollars"


def test_display_names_are_filtered_when_switched_on():
    manager = TTSQueueManager(TTSConfig.from_dict({"moderation": {"names": True, "bad_words": ["scam"]}}))
    bot = StreamerBotIntegration(manager)
    assert manager.get_message(bot.process_follow("ѕсаm_bot"))["text"] == "bleep bot just followed"
    assert manager.get_message(bot.process_follow("evil.com"))["text"] == "link just followed"


def test_old_streamer_bot_keys_still_load_into_the_moderation_section():
    cfg = TTSConfig.from_dict({"streamer_bot": {"url_filter": "reject", "bad_words": ["x*"], "max_words": 9}})
    assert (cfg.moderation.links, cfg.moderation.bad_words, cfg.moderation.max_words) == ("drop", ["x*"], 9)
    newer = TTSConfig.from_dict({"streamer_bot": {"max_words": 9}, "moderation": {"max_words": 4}})
    assert newer.moderation.max_words == 4


@pytest.mark.parametrize(("section", "match"), [
    ({"links": "maybe"}, "moderation.links must be one of"),
    ({"max_chars": -1}, "moderation.max_chars must be >= 0, got -1"),
    ({"bad_words": [{"pattern": "x", "action": "shout"}]}, r"moderation.bad_words\[0\].action"),
    ({"bad_words": [""]}, r"moderation.bad_words\[0\]: empty entry"),
    ({"replacements": [{"pattern": "("}]}, r"moderation.replacements\[0\].pattern is not a valid"),
    ({"needs_approval": {"wedding": {"always": True}}}, "unknown event type 'wedding'"),
    ({"needs_approval": {"chat": {"sometimes": True}}}, "unknown rule 'sometimes'"),
    ({"chat_cooldown_seconds": "soon"}, "moderation.chat_cooldown_seconds must be float"),
])
def test_bad_moderation_config_names_the_key(section, match):
    with pytest.raises(ConfigError, match=match):
        TTSConfig.from_dict({"moderation": section})


def test_emote_positions_of_a_tts_command_line_count_from_the_whole_line():
    manager = TTSQueueManager(TTSConfig())
    bot = StreamerBotIntegration(manager)
    line = "!tts hello ohnoDance world"  # Twitch: ohnoDance at 11-19 of the whole line
    msg_id = bot.submit("chat", {"username": "v", "message": line, "emotes": "301:11-19"}).message_id
    assert manager.get_message(msg_id)["text"] == "v says: hello world"


@pytest.mark.parametrize(("rule", "match"), [
    ({"min_amount": True}, "min_amount must be a number"),
    ({"min_amount": -5}, "min_amount must be (a finite number )?>= 0"),
    ({"always": 1}, "always must be true or false"),
])
def test_bad_approval_rules_name_the_key(rule, match):
    with pytest.raises(ConfigError, match=match):
        TTSConfig.from_dict({"moderation": {"needs_approval": {"donation": rule}}})


def test_a_big_donation_with_a_dropped_message_still_waits_for_approval():
    cfg = TTSConfig.from_dict({"moderation": {"bad_words": [{"pattern": "scam", "action": "drop"}],
                                              "needs_approval": {"donation": {"min_amount": 50}}}})
    manager = TTSQueueManager(cfg)
    result = StreamerBotIntegration(manager).submit(
        "donation", {"donor_name": "Ann", "amount": 100, "message": "this is a scam"})
    shown = manager.get_queue()[0]
    assert result.message_filtered == {"stage": "bad_words", "reason": "bad_word"}
    assert (shown["text"], shown["state"], shown["hold_reason"]) == (
        "Ann donated 100 dollars", "held", "donation of 100 (approval from 50)")


# -- one vocabulary: every word the config accepts is one the stages act on ----------------

@pytest.mark.parametrize("action", list(LinkAction))
def test_every_link_action_the_config_accepts_is_built(action):
    if action == LinkAction.DROP:
        assert stopped("see evil.com ok", links=action).reason == "link"
    else:
        said = {"replace": "see link ok", "remove": "see ok", "off": "see evil.com ok"}[action]
        assert spoken("see evil.com ok", links=action) == said


@pytest.mark.parametrize("action", list(BadWordAction))
def test_every_bad_word_action_the_config_accepts_is_built(action):
    ModerationConfig(bad_word_action=action).validate()
    rules = [{"pattern": "heck", "action": action, "with": "gosh"}]
    if action == BadWordAction.DROP:
        assert stopped("oh heck", bad_words=rules).reason == "bad_word"
    else:
        assert spoken("oh heck", bad_words=rules) == {"censor": "oh bleep", "replace": "oh gosh"}[action]
