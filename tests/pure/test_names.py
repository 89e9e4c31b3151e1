"""Names read like a person would: speakable usernames, nicknames, and "X says" only when
the speaker changes or after a pause (through the real SpeechRules and translator)."""

from __future__ import annotations

from typing import Any

import pytest

from tts_core import TTSConfig, TTSQueueManager
from tts_core.config import ConfigError
from tts_core.ingest.names import Speakers, speakable_name
from tts_core.ingest.translator import StreamerBotIntegration

# (what the platform sends, what the voice says)
NAMES = [
    ("xX_Gamer_1337_Xx", "Gamer"),
    ("xXGamerXx", "Gamer"),
    ("xXGamer_99", "Gamer"),
    ("Xxavier", "Xxavier"),
    ("xXx_Sniper_xXx", "Sniper"),
    ("DarkLord_99", "Dark Lord"),
    ("i_am_bob", "i am bob"),
    ("MrBeast6000", "Mr Beast"),
    ("ninja", "ninja"),
    ("TTV_Streamer", "Streamer"),
    ("shroud_ttv", "shroud"),
    ("lowercase_with_underscores", "lowercase with underscores"),
    ("CamelCase_Name", "Camel Case Name"),
    ("JohnDoe", "JohnDoe"),  # a plain word is read as written (the seed's examples)
    ("VIP_User", "VIP User"),
    ("ALLCAPS", "ALLCAPS"),
    ("XMLHttpFan_2", "XML Http Fan"),
    ("1234567", "1234567"),  # digits only: nothing speakable, kept
    ("___", "___"),
    ("@Some_Viewer", "Some Viewer"),
    ("player.one-42", "player one"),
    ("2Pac_Fan", "2 Pac Fan"),
    ("Agent47", "Agent"),
    ("🔥FireStarter🔥", "Fire Starter"),
    ("🔥🔥🔥", "🔥🔥🔥"),
    ("Café_Lover_88", "Café Lover"),
    ("さくら_chan", "さくら chan"),
    ("Zoë", "Zoë"),
    ("O'Brien_Gaming", "O'Brien Gaming"),
    ("Maxx", "Maxx"),
    ("Xavier_01", "Xavier"),
    ("the--real--dave", "the real dave"),
]


@pytest.mark.parametrize(("raw", "spoken"), NAMES)
def test_speakable_name(raw: str, spoken: str) -> None:
    assert speakable_name(raw) == spoken


def _bot(clock: list[float], **streamer_bot: Any) -> tuple[TTSQueueManager, StreamerBotIntegration]:
    config = TTSConfig.from_dict({"streamer_bot": {"chat_command": "", **streamer_bot}})
    manager = TTSQueueManager(config)
    return manager, StreamerBotIntegration(manager, clock=lambda: clock[0])


@pytest.mark.parametrize(("raw", "spoken"), NAMES)
def test_every_template_that_names_a_viewer_uses_the_speakable_name(raw: str, spoken: str) -> None:
    manager, bot = _bot([0.0])
    assert bot.submit("follow", {"username": raw}).text == f"{spoken} just followed"
    result = bot.submit("gift_sub", {"username": raw, "recipient": raw})
    assert result.text == f"{spoken} gifted a sub to {spoken}"
    assert manager.get_message(result.message_id)["text"] == result.text


# Lines in order: (seconds since start, event, viewer, words) -> what is spoken.
CONVERSATIONS: list[tuple[str, float, list[tuple[float, str, str, str, str]]]] = [
    ("same viewer keeps talking", 30, [
        (0, "chat", "DarkLord_99", "hi", "Dark Lord says: hi"),
        (5, "chat", "DarkLord_99", "how are you", "how are you"),
        (20, "chat", "darklord_99", "any case", "any case"),
    ]),
    ("pause measured from the viewer's last line", 30, [
        (0, "chat", "bob", "one", "bob says: one"),
        (25, "chat", "bob", "two", "two"),
        (50, "chat", "bob", "three", "three"),
        (80, "chat", "bob", "four", "bob says: four"),
        (109.9, "chat", "bob", "five", "five"),
    ]),
    ("speaker changes", 30, [
        (0, "chat", "bob", "a", "bob says: a"),
        (1, "chat", "alice", "b", "alice says: b"),
        (2, "chat", "bob", "c", "bob says: c"),
        (3, "chat", "bob", "d", "d"),
    ]),
    ("a paid event always names the viewer and counts as a change", 30, [
        (0, "chat", "bob", "a", "bob says: a"),
        (1, "cheer", "bob", "b", "bob cheered 100 bits: b"),
        (2, "cheer", "bob", "c", "bob cheered 100 bits: c"),
        (3, "chat", "bob", "d", "d"),
        (4, "donation", "alice", "e", "alice donated 5 dollars: e"),
        (5, "chat", "bob", "f", "bob says: f"),
    ]),
    ("a line without a viewer is a change", 30, [
        (0, "chat", "bob", "a", "bob says: a"),
        (1, "tts", "", "announcement", "announcement"),
        (2, "chat", "bob", "b", "bob says: b"),
    ]),
    ("0 always says the name", 0, [
        (0, "chat", "bob", "a", "bob says: a"),
        (0, "chat", "bob", "b", "bob says: b"),
    ]),
]


def _send(bot: StreamerBotIntegration, event: str, viewer: str, words: str) -> Any:
    if event == "chat":
        return bot.submit("chat", {"username": viewer, "message": words})
    if event == "cheer":
        return bot.submit("cheer", {"username": viewer, "bits": 100, "message": words})
    if event == "donation":
        return bot.submit("donation", {"donor_name": viewer, "amount": 5.0, "message": words})
    return bot.submit("tts", {"text": words, "username": viewer or None})


@pytest.mark.parametrize(("pause", "lines"), [(p, lines) for _, p, lines in CONVERSATIONS],
                         ids=[name for name, _, _ in CONVERSATIONS])
def test_x_says_only_when_the_speaker_changes_or_after_the_pause(
        pause: float, lines: list[tuple[float, str, str, str, str]]) -> None:
    clock = [0.0]
    manager, bot = _bot(clock, repeat_name_after_seconds=pause)
    for at, event, viewer, words, spoken in lines:
        clock[0] = at
        result = _send(bot, event, viewer, words)
        assert (at, result.text) == (at, spoken)
        assert manager.get_message(result.message_id)["text"] == spoken  # the reply's text is true


def test_command_lines_and_custom_templates() -> None:
    clock = [0.0]
    config = {"chat_command": "!tts", "templates": {"command": "{username} schreibt: {message}",
                                                    "tts": "{username}: {message}"},
              "follow_up_templates": {"command": "und: {message}"}}
    _, bot = _bot(clock, **config)
    def chat(words: str) -> str | None:
        return bot.submit("chat", {"username": "i_am_bob", "message": words}).text

    assert chat("!tts hallo") == "i am bob schreibt: hallo"
    assert chat("!tts wie geht's") == "und: wie geht's"
    assert bot.submit("tts", {"text": "hi", "username": "i_am_bob"}).text == "hi"  # tts follow-up: {message}


def test_a_template_without_the_name_is_never_replaced() -> None:
    _, bot = _bot([0.0], templates={"chat": "Chat: {message}"})
    assert bot.submit("chat", {"username": "bob", "message": "a"}).text == "Chat: a"
    assert bot.submit("chat", {"username": "bob", "message": "b"}).text == "Chat: b"


def test_nicknames_win_over_speakable_and_raw_names() -> None:
    _, bot = _bot([0.0], nicknames={"xX_Gamer_1337_Xx": "the champion", "@DarkLord_99": "Lordy"})
    assert bot.submit("follow", {"username": "XX_GAMER_1337_XX"}).text == "the champion just followed"
    result = bot.submit("donation", {"donor_name": "darklord_99", "amount": 5.0})
    assert result.text == "Lordy donated 5 dollars"
    result = bot.submit("gift_sub", {"username": "xx_gamer_1337_xx", "recipient": "DarkLord_99"})
    assert result.text == "the champion gifted a sub to Lordy"


def test_speakable_names_off_keeps_the_earlier_clean_up() -> None:
    _, bot = _bot([0.0], speakable_names=False)
    assert bot.submit("follow", {"username": "xX_Gamer_1337_Xx"}).text == "xX Gamer 1337 Xx just followed"


def test_settings_apply_live_and_the_speaker_memory_survives_a_reload() -> None:
    clock = [0.0]
    manager, bot = _bot(clock)
    assert bot.submit("chat", {"username": "bob", "message": "a"}).text == "bob says: a"
    manager.reconfigure(TTSConfig.from_dict({"streamer_bot": {
        "chat_command": "", "nicknames": {"bob": "Robert"}, "repeat_name_after_seconds": 10}}))
    clock[0] = 5
    assert bot.submit("chat", {"username": "bob", "message": "b"}).text == "b"  # still the same speaker
    clock[0] = 16
    assert bot.submit("chat", {"username": "bob", "message": "c"}).text == "Robert says: c"


def test_speakers_memory_with_a_fake_clock() -> None:
    now = [100.0]
    speakers = Speakers(lambda: now[0])
    assert speakers.needs_name("bob", 30)
    speakers.heard("bob")
    now[0] = 129.9
    assert not speakers.needs_name("@BOB", 30)
    now[0] = 130.0
    assert speakers.needs_name("bob", 30)
    speakers.reset()
    assert speakers.needs_name("bob", 30)


@pytest.mark.parametrize(("section", "message"), [
    ({"repeat_name_after_seconds": -1}, "streamer_bot.repeat_name_after_seconds"),
    ({"repeat_name_after_seconds": "30"}, "streamer_bot.repeat_name_after_seconds"),
    ({"speakable_names": "yes"}, "streamer_bot.speakable_names"),
    ({"nicknames": {"bob": ""}}, "streamer_bot.nicknames"),
    ({"nicknames": {"bob": 3}}, "streamer_bot.nicknames"),
    ({"follow_up_templates": {"donation": "{message}"}}, "streamer_bot.follow_up_templates"),
    ({"follow_up_templates": {"chat": "{nope}"}}, "streamer_bot.follow_up_templates.chat"),
])
def test_bad_name_settings_are_refused_naming_the_key(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        TTSConfig.from_dict({"streamer_bot": section})


def test_a_held_line_does_not_count_as_heard() -> None:
    _, bot = _bot([0.0])
    held = bot.submit("chat", {"username": "bob", "message": "wait", "hold_seconds": 60})
    assert (held.state, held.text) == ("held", "bob says: wait")
    assert bot.submit("chat", {"username": "bob", "message": "now"}).text == "bob says: now"
    assert bot.submit("chat", {"username": "bob", "message": "again"}).text == "again"


def test_after_a_removed_line_the_next_line_names_its_viewer() -> None:
    _, bot = _bot([0.0])
    first = bot.submit("chat", {"username": "bob", "message": "oops", "chat_message_id": "m-1"})
    assert first.text == "bob says: oops"
    assert bot.remove("chat_deleted", {"chat_message_id": "m-1"})["removed"] == [first.message_id]
    assert bot.submit("chat", {"username": "bob", "message": "sorry"}).text == "bob says: sorry"
    assert bot.remove("chat_deleted", {"chat_message_id": "unknown"})["removed"] == []
    assert bot.submit("chat", {"username": "bob", "message": "more"}).text == "more"


def test_the_obs_panel_fields_reach_the_config_and_apply_live() -> None:
    from tts_core.obs.script.settings import config_from_settings, plan_changes

    config = config_from_settings({"speakable_names": False, "repeat_name_after_seconds": 10.0,
                                   "nicknames": "xX_Gamer_1337_Xx = the champion\n\n@bob=Robert"})
    bot = config.streamer_bot
    assert (bot.speakable_names, bot.repeat_name_after_seconds) == (False, 10.0)
    assert bot.nicknames == {"xX_Gamer_1337_Xx": "the champion", "@bob": "Robert"}
    assert config_from_settings({}).streamer_bot.speakable_names is True
    with pytest.raises(ConfigError, match="nicknames: 'bob' must look like viewer=name"):
        config_from_settings({"nicknames": "bob"})
    changes = plan_changes({"nicknames": ""}, {"nicknames": "bob=Robert"})
    assert changes.live and not changes.listener and not changes.reload
