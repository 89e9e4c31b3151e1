"""Streamlabs socket events -> our events: every alert type says exactly what it should through
the real event translator; string amounts and their currency, Super Chats in millionths, gift
bombs read once, duplicates recognised by event_id; the settings and the token never shown."""

from __future__ import annotations

import logging

import mapping_support
import pytest
from fakes.streamlabs_payloads import CASES, Case
from mapping_support import translator

from tts_core import TTSConfig
from tts_core.config import ConfigError
from tts_core.config.streamlabs import StreamlabsConnectorConfig
from tts_core.connectors.actions import Speak
from tts_core.connectors.base import RecentIds
from tts_core.connectors.streamlabs.client import LIBRARY_LOG, address, hide_token
from tts_core.connectors.streamlabs.mapping import READ, GiftBombs, Malformed, translate
from tts_core.ingest.translator import StreamerBotIntegration


@pytest.fixture
def bot() -> StreamerBotIntegration:
    return translator()


def spoken(frame: object, bot: StreamerBotIntegration, gifts: GiftBombs | None = None) -> list[str]:
    return [text for item in translate(frame, gifts) for text in mapping_support.spoken(item.actions, bot)]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_alert_type_says_exactly(case: Case, bot: StreamerBotIntegration) -> None:
    assert spoken(case.frame(), bot) == [case.spoken]


def test_every_type_read_has_a_fixture():
    covered = {(c.for_ or "*", c.kind) for c in CASES} | {("*", "donation")}
    assert {(p, k) for p, k in READ if k not in ("resub", "loyalty_store_redemption")} <= covered


def test_a_donation_amount_given_as_text_keeps_its_value_and_currency():
    (item,) = translate(
        {
            "type": "donation",
            "message": [{"name": "Ann", "amount": "13.37", "currency": "GBP", "message": "hi"}],
            "event_id": "evt_1",
        }
    )
    assert item.actions == (
        Speak("donation", {"donor_name": "Ann", "amount": 13.37, "message": "hi", "currency": "GBP"}),
    )
    assert item.event_id == "evt_1" and item.label == "streamlabs.donation"


def test_a_super_chat_amount_is_in_millionths_of_its_currency(bot):
    frame = {
        "type": "superchat",
        "for": "youtube_account",
        "message": [{"name": "Yuki", "amount": 1_500_000_000, "currency": "JPY", "comment": "konnichiwa"}],
    }
    (item,) = translate(frame)
    assert item.actions[0].fields["amount"] == 1500.0 and item.actions[0].fields["currency"] == "JPY"
    assert spoken(frame, bot) == ["Yuki donated 1500 yen: konnichiwa"]


def test_bits_and_raids_given_as_numbers_or_text_say_the_same(bot):
    for amount in ("250", 250):
        frame = {
            "type": "bits",
            "for": "twitch_account",
            "message": [{"name": "c", "display_name": "C", "amount": amount, "message": "Cheer250"}],
        }
        assert spoken(frame, bot) == ["C cheered 250 bits"]
    for raiders in ("7", 7):
        frame = {"type": "raid", "for": "twitch_account", "message": [{"name": "r", "raiders": raiders}]}
        assert spoken(frame, bot) == ["r is raiding with 7 viewers"]


def test_types_not_read_give_nothing_and_a_malformed_alert_says_why():
    for kind in ("streamlabels", "alertPlaying", "rollEndCredits", "muteVolume", "host", "donationDelete"):
        assert translate({"type": kind, "for": "twitch_account", "message": [{"name": "x"}]}) == []
    assert translate({"type": "follow", "for": "mixer_account", "message": [{"name": "x"}]}) == []
    with pytest.raises(Malformed, match="no amount"):
        translate({"type": "donation", "message": [{"name": "Ann", "amount": "lots"}]})
    with pytest.raises(Malformed, match="no viewer name"):
        translate({"type": "follow", "for": "twitch_account", "message": [{"_id": "1"}]})
    with pytest.raises(Malformed, match="list"):
        translate({"type": "follow", "for": "twitch_account", "message": "x"})
    with pytest.raises(Malformed, match="no type"):
        translate({"message": []})


def test_a_repeated_event_id_is_spoken_once_and_items_of_one_frame_have_their_own_ids(bot):
    seen, texts = RecentIds(), []  # the connector base's duplicate filter
    twice = {"type": "follow", "for": "twitch_account", "message": [{"name": "Once"}], "event_id": "evt_9"}
    several = {
        "type": "follow",
        "for": "twitch_account",
        "message": [{"name": "A"}, {"name": "B"}],
        "event_id": "evt_10",
    }
    for frame in (twice, twice, several, several):
        for item in translate(frame):
            assert item.event_id is not None
            if not seen.seen(item.event_id):
                texts += [bot.submit(a.event_type, a.fields).text for a in item.actions]
    assert texts == ["Once just followed", "A just followed", "B just followed"]
    assert [i.event_id for i in translate(several)] == ["evt_10#0", "evt_10#1"]
    no_top = translate(
        {
            "type": "bits",
            "for": "twitch_account",
            "message": [{"name": "c", "amount": 1, "event_id": "abc", "_id": "def"}],
        }
    )
    assert no_top[0].event_id == "event_id:abc"


def test_the_subs_of_a_gift_bomb_are_not_read_one_by_one(bot):
    gifts = GiftBombs()

    def gift(gifter: str, to: str) -> list[str]:
        return spoken(
            {
                "type": "subscription",
                "for": "twitch_account",
                "message": [
                    {
                        "name": to.lower(),
                        "display_name": to,
                        "sub_type": "subgift",
                        "gifter": gifter.lower(),
                        "gifter_display_name": gifter,
                        "sub_plan": "1000",
                        "months": 1,
                    }
                ],
            },
            bot,
            gifts,
        )

    bomb = {
        "type": "subMysteryGift",
        "for": "twitch_account",
        "event_id": "evt_b",
        "message": [{"gifter": "santa", "gifter_display_name": "Santa", "name": "santa", "amount": "2"}],
    }
    assert spoken(bomb, bot, gifts) == ["Santa gifted 2 subs"]
    assert translate(bomb, gifts)  # the same bomb delivered again counts its gifts once
    assert gift("Santa", "Elf") == [] and gift("Santa", "Rudolph") == []
    assert gift("Santa", "Third") == ["Santa gifted a sub to Third"]
    assert gift("Other", "Someone") == ["Other gifted a sub to Someone"]
    assert gift("AnAnonymousGifter", "Lucky") == ["Anonymous gifted a sub to Lucky"]


def test_a_received_youtube_membership_is_announced_by_its_gift_not_again():
    received = {
        "type": "membershipGift",
        "for": "youtube_account",
        "message": [{"name": "Receiver", "membershipLevel": 1, "youtubeMembershipGiftId": "g-1"}],
    }
    (item,) = translate(received)
    assert item.actions == ()


def test_a_test_alert_is_marked():
    (item,) = translate(
        {"type": "follow", "for": "twitch_account", "message": [{"name": "T", "isTest": True}]}
    )
    assert item.is_test and item.actions == (Speak("follow", {"username": "T"}),)


# -- settings and the token ------------------------------------------------------------------------


def test_the_section_validates_and_never_shows_the_token():
    settings = StreamlabsConnectorConfig(enabled=True, socket_token="s3cr3t-token")
    assert "s3cr3t" not in repr(settings)
    config = TTSConfig.from_dict({"connectors": {"streamlabs": {"enabled": True, "socket_token": "t0k"}}})
    assert config.connectors.streamlabs.url == "https://sockets.streamlabs.com"
    assert "t0k" not in repr(config.connectors)
    with pytest.raises(ConfigError, match=r"connectors\.streamlabs\.url must be an http\(s\) address"):
        TTSConfig.from_dict({"connectors": {"streamlabs": {"url": "wss://sockets.streamlabs.com"}}})
    with pytest.raises(ConfigError, match=r"must not carry a query"):
        TTSConfig.from_dict({"connectors": {"streamlabs": {"url": "https://x.example?token=abc"}}})
    with pytest.raises(ConfigError, match=r"unknown key connectors\.streamlabs\.token"):
        TTSConfig.from_dict({"connectors": {"streamlabs": {"token": "abc"}}})


def test_the_address_carries_the_token_and_the_library_log_hides_it(caplog):
    settings = StreamlabsConnectorConfig(socket_token=" ab+c/d= ", url="https://sockets.streamlabs.com/")
    assert address(settings) == "https://sockets.streamlabs.com/?token=ab%2Bc%2Fd%3D"
    assert (
        hide_token("wss://h/socket.io/?token=abc&transport=websocket")
        == "wss://h/socket.io/?token=***&transport=websocket"
    )
    caplog.set_level(logging.ERROR, logger=LIBRARY_LOG.name)
    LIBRARY_LOG.error("Attempting WebSocket connection to %s", "wss://h/socket.io/?token=ab%2Bc&EIO=4")
    LIBRARY_LOG.info("Received packet MESSAGE data %s", "token=abc")  # below the library's level
    assert [r.getMessage() for r in caplog.records] == [
        "Attempting WebSocket connection to wss://h/socket.io/?token=***&EIO=4"
    ]


# -- Cloudbot loyalty store redemptions, and the alert types left out on purpose --------------------

def loyalty(product: str, text: str, event_id: str = "evt_loyalty_1") -> dict:
    """A loyalty store redemption as Streamlabs Desktop and independent clients read it."""
    item = {"_id": "5f1e0c3a9d2b4a0017c0ffee", "name": "Ann", "from": "Ann", "to": {"name": "streamer"},
            "product": product, "message": text, "imageHref": "https://example.invalid/item.png",
            "isTest": False, "priority": 10}
    return {"type": "loyalty_store_redemption", "for": "streamlabs", "message": [item], "event_id": event_id}


def said(frame: dict, bot: StreamerBotIntegration, titles: list[str]) -> list[str]:
    """What the items of ``frame`` say when ``titles`` are the loyalty store items read."""
    actions = [action for item in translate(frame, None, titles) for action in item.actions]
    return [bot.submit(a.event_type, a.fields).text for a in actions if isinstance(a, Speak)]


def test_a_loyalty_store_item_listed_in_reward_titles_reads_the_viewers_message(bot):
    frame = loyalty("TTS Message", "hello chat")
    assert said(frame, bot, ["tts message "]) == ["Ann says: hello chat"]  # upper or lower case alike
    (item,) = translate(frame, None, ["TTS Message"])
    assert item.event_id == "evt_loyalty_1" and item.label == "streamlabs.loyalty_store_redemption"
    assert item.actions == (Speak("redemption", {"username": "Ann", "reward": "TTS Message",
                                                 "message": "hello chat"}),)


def test_a_loyalty_store_item_not_listed_or_without_a_message_says_nothing(bot):
    assert said(loyalty("Hydrate", "drink water"), bot, ["TTS Message"]) == []
    assert said(loyalty("TTS Message", "hello"), bot, []) == []  # nothing listed: nothing read
    assert said(loyalty("TTS Message", ""), bot, ["TTS Message"]) == []
    with pytest.raises(Malformed, match="product"):
        translate({**loyalty("x", "y"), "message": [{"from": "Ann", "message": "y"}]}, None, ["x"])


def test_the_alert_types_left_out_on_purpose_give_nothing_to_read():
    from tts_core.connectors.streamlabs.mapping import NOT_READ

    assert {"merch", "host", "streamlabels", "alertPlaying"} <= set(NOT_READ)
    item = {"name": "Ann", "from": "Ann", "amount": "5.00", "currency": "USD", "message": "hi",
            "product": "Hoodie"}
    for kind in NOT_READ:
        for where in ("streamlabs", "twitch_account", "youtube_account"):
            assert translate({"type": kind, "for": where, "message": [item]}, None, ["Hoodie"]) == [], kind
    assert all(k not in NOT_READ for _, k in READ)
