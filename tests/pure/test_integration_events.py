"""StreamerBotIntegration: what each platform event says, at which priority, and when
it is filtered out by design."""

from __future__ import annotations

import pytest

from tts_core import MessagePriority, TTSConfig, TTSQueueManager
from tts_core.config import ConfigError, StreamerBotConfig
from tts_core.ingest.amounts import currency_code, spoken_amount
from tts_core.ingest.speech import speakable_name
from tts_core.ingest.translator import StreamerBotIntegration


def build(**bot: object) -> tuple[TTSQueueManager, StreamerBotIntegration]:
    manager = TTSQueueManager(TTSConfig(max_queue_size=100))
    return manager, StreamerBotIntegration(manager, StreamerBotConfig(**bot))  # type: ignore[arg-type]


def said(manager: TTSQueueManager, message_id: str | None) -> tuple[str, str, str]:
    assert message_id is not None, "the event was filtered out"
    msg = manager.get_message(message_id)
    assert msg is not None
    return msg["text"], msg["priority"], msg["event_type"]


def test_the_seed_example_events():
    manager, bot = build()
    assert said(manager, bot.process_donation("JohnDoe", 25.0, "Great stream!")) == (
        "JohnDoe donated 25 dollars: Great stream!", "HIGH", "donation")
    assert said(manager, bot.process_donation("VIP_User", 150.0, "Keep up the great work!"))[:2] == (
        "VIP User donated 150 dollars: Keep up the great work!", "URGENT")
    assert said(manager, bot.process_subscription("NewSub", 1, "First time subscribing!"))[:2] == (
        "NewSub subscribed for 1 month: First time subscribing!", "HIGH")
    assert said(manager, bot.process_follow("NewFollower"))[:2] == ("NewFollower just followed", "HIGH")
    assert said(manager, bot.process_chat_message("Moderator", "!tts Welcome everyone!", is_mod=True)) == (
        "Moderator says: Welcome everyone!", "NORMAL", "command")


def test_raids_cheers_and_gift_subs():
    manager, bot = build()
    raid = bot.process_raid("FriendlyStreamer", 42)
    assert said(manager, raid)[0] == "FriendlyStreamer is raiding with 42 viewers"
    assert said(manager, bot.process_cheer("BitsFan", 1))[0] == "BitsFan cheered 1 bit"
    assert said(manager, bot.process_subscription("lucky", gift=True, gifter="santa_claus"))[0] == (
        "santa claus gifted a subscription to lucky")


@pytest.mark.parametrize(("amount", "currency", "words"), [
    (25.0, "USD", "25 dollars"), (1, "usd", "1 dollar"), (0.5, "$", "50 cents"),
    (25.5, "EUR", "25 euros and 50 cents"), (1.01, "€", "1 euro and 1 cent"), (3, "GBP", "3 pounds"),
    (1000, "JPY", "1000 yen"), (12.5, "XYZ", "12.50 XYZ"), (99.999, "USD", "100 dollars"),
])
def test_amounts_are_spoken_with_their_currency(amount, currency, words):
    assert spoken_amount(amount, currency) == words


def test_donation_currency_defaults_to_the_config_and_can_be_per_event():
    manager, bot = build(currency="EUR")
    assert said(manager, bot.process_donation("Jo", 5))[0] == "Jo donated 5 euros"
    assert said(manager, bot.process_donation("Jo", 5, currency="GBP"))[0] == "Jo donated 5 pounds"
    assert currency_code("R$") == "BRL" and currency_code("cad") == "CAD"


def test_priorities_come_from_config():
    manager, bot = build(priorities={"donation": "URGENT", "follow": "LOW", "chat": "HIGH"},
                         urgent_donation_amount=0, chat_command="")
    assert said(manager, bot.process_donation("a", 1))[1] == "URGENT"
    assert said(manager, bot.process_follow("b"))[1] == "LOW"
    assert said(manager, bot.process_chat_message("c", "plain chat"))[1:] == ("HIGH", "chat")
    assert said(manager, bot.process_tts("announcement", priority=MessagePriority.URGENT))[1] == "URGENT"


def test_chat_needs_the_command_and_optionally_a_mod():
    _, bot = build()
    assert bot.process_chat_message("viewer", "hello there") is None
    assert bot.submit("chat", {"username": "v", "message": "!tts"}).filtered == "not_a_command"
    assert bot.submit("chat", {"username": "v", "message": "!TTS hi"}).message_id is not None
    _, mods = build(chat_mod_only=True)
    assert mods.submit("chat", {"username": "v", "message": "!tts hi"}).filtered == "mods_only"
    assert mods.process_chat_message("m", "!tts hi", badges=["moderator/1"]) is not None
    assert mods.process_chat_message("b", "!tts hi", badges=["broadcaster"]) is not None


def test_filters_by_design_say_why():
    manager, bot = build(min_donation_amount=5, min_cheer_bits=100, min_raid_viewers=10,
                         muted_events=["follow"])
    assert bot.submit("donation", {"donor_name": "a", "amount": 4.99}).filtered == "below_minimum"
    assert bot.submit("cheer", {"username": "a", "bits": 99}).filtered == "below_minimum"
    assert bot.submit("raid", {"username": "a", "viewers": 9}).filtered == "below_minimum"
    assert bot.submit("follow", {"username": "a"}).filtered == "muted_event"
    other_bot = {"username": "Nightbot", "message": "!tts buy stuff"}
    assert bot.submit("chat", other_bot).filtered == "ignored_user"
    assert len(manager.queue) == 0


def test_templates_are_configurable_and_checked():
    manager, bot = build(templates={"follow": "Welcome {username}!", "donation": "{amount} from {username}"})
    assert said(manager, bot.process_follow("neo"))[0] == "Welcome neo!"
    assert said(manager, bot.process_donation("neo", 2))[0] == "2 dollars from neo"
    with pytest.raises(ValueError, match=r"streamer_bot.templates.follow: unknown placeholder \{name\}"):
        build(templates={"follow": "Hi {name}"})
    with pytest.raises(ConfigError, match="templates: unknown event type"):
        build(templates={"wedding": "x"})


def test_anonymous_donations_and_empty_messages_read_cleanly():
    manager, bot = build()
    assert said(manager, bot.process_donation("", 3, ""))[0] == "Anonymous donated 3 dollars"
    assert said(manager, bot.process_cheer("x", 5, "   "))[0] == "x cheered 5 bits"


def test_bad_values_raise_like_add_message():
    _, bot = build()
    with pytest.raises(TypeError):
        bot.process_donation("a", "lots")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        bot.process_donation("a", -5)
    with pytest.raises(ValueError):
        bot.process_follow("  ")
    with pytest.raises(ValueError, match="unknown event type"):
        bot.submit("wedding", {})


def test_options_reach_the_queue():
    manager, bot = build()
    msg_id = bot.process_donation("a", 1, voice="en-gb", needs_approval=True)
    msg = manager.get_message(msg_id)
    assert msg["voice"] == "en-gb" and msg["state"] == "held"


def test_the_integration_owns_its_moderation_and_leaves_the_manager_alone():
    manager = TTSQueueManager(TTSConfig())
    bot = StreamerBotIntegration(manager)
    assert "links" in bot.pipeline.names()
    assert "links" not in manager.text_pipeline.names()
    direct = manager.add_message("visit example.com now")
    assert manager.get_message(direct)["text"] == "visit example.com now"
    plain = StreamerBotIntegration(TTSQueueManager(TTSConfig()), moderation=False)
    assert "links" not in plain.pipeline.names() and "bots" in plain.pipeline.names()


def test_speakable_names():
    assert speakable_name("@The_Real_Bob") == "The Real Bob"


