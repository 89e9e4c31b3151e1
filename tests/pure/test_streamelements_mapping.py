"""StreamElements activities and tips -> our events: every type says exactly what it should
through the real event translator; a tip that is not approved is not read (and is read when
it comes again approved); the currency is kept; a tip is read from one topic only; the
config section."""

from __future__ import annotations

import pytest
from fakes.streamelements_payloads import CASES, REWARD, Case, activity, tip
from mapping_support import spoken, translator

from tts_core import TTSConfig
from tts_core.config import ConfigError
from tts_core.config.streamelements import STREAMELEMENTS_EVENTS, StreamElementsConnectorConfig
from tts_core.connectors.actions import Speak
from tts_core.connectors.base import RecentIds
from tts_core.connectors.streamelements.mapping import ACTIVITIES, TIPS, Malformed, translate
from tts_core.ingest.translator import StreamerBotIntegration

SETTINGS = StreamElementsConnectorConfig(enabled=True, token="t", reward_titles=[REWARD.upper()])


@pytest.fixture
def bot() -> StreamerBotIntegration:
    return translator()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_event_type_says_exactly(case: Case, bot: StreamerBotIntegration) -> None:
    tips_topic = case.data.get("type") != "tip"  # tip activities are read when channel.tips is not there
    mapped = translate(case.topic, case.data, SETTINGS, tips_topic=tips_topic)
    assert mapped is not None and mapped.skipped is None
    assert spoken(mapped.actions, bot) == [case.spoken]


def test_every_activity_type_we_read_has_a_fixture():
    assert {c.data["type"] for c in CASES if c.topic == ACTIVITIES} == set(STREAMELEMENTS_EVENTS)


def test_a_tip_keeps_its_currency_and_amount():
    mapped = translate(TIPS, tip("t-9", "Fan", "13.37", "JPY", "hi"), SETTINGS, tips_topic=True)
    assert mapped is not None
    assert mapped.actions == (Speak("donation", {"donor_name": "Fan", "amount": 13.37, "message": "hi",
                                                 "currency": "JPY"}),)
    assert mapped.event_id == "tip:t-9"


@pytest.mark.parametrize("approved, status", [("pending", "success"), ("rejected", "success"),
                                              ("allowed", "failed"), ("allowed", "refunded")])
def test_a_tip_not_approved_or_not_paid_is_not_read_and_not_remembered(approved, status, bot):
    mapped = translate(TIPS, tip("t-3", "Sneaky", 50, message="bad words"), SETTINGS, tips_topic=True)
    assert mapped is not None and mapped.actions  # the same tip, approved, is read ...
    held = translate(TIPS, tip("t-3", "Sneaky", 50, message="bad words", approved=approved, status=status),
                     SETTINGS, tips_topic=True)
    assert held is not None and held.actions == () and held.event_id is None  # ... so its id stays free
    assert approved in held.skipped or status in held.skipped
    assert bot.manager.get_stats()["accepted"] == 0


def test_a_tip_is_read_from_channel_tips_only_while_it_is_subscribed():
    activity_tip = activity("tip", "a-20", username="fan", displayName="Fan", amount=5, currency="USD")
    from_activities = translate(ACTIVITIES, activity_tip, SETTINGS, tips_topic=True)
    assert from_activities is not None and from_activities.actions == ()
    assert from_activities.skipped == "tips are read from channel.tips"
    alone = translate(ACTIVITIES, activity_tip, SETTINGS, tips_topic=False)
    assert alone is not None and alone.actions[0].event_type == "donation"


def test_a_redelivered_activity_has_the_same_id_so_it_is_read_once():
    follow = activity("follow", "a-30", username="ann", displayName="Ann")
    seen = RecentIds()
    ids = [translate(ACTIVITIES, follow, SETTINGS, tips_topic=True).event_id for _ in range(2)]
    assert ids == ["activity:a-30", "activity:a-30"]
    assert [seen.seen(i) for i in ids] == [False, True]
    a_tip = [translate(TIPS, tip("t-30", "Fan", 1), SETTINGS, tips_topic=True).event_id for _ in range(2)]
    assert a_tip[0] == a_tip[1] == "tip:t-30"


def test_gifts_of_a_community_gift_are_not_read_one_by_one(bot):
    one = activity("subscriber", "a-40", username="lucky", amount=1, tier="1000", gifted=True,
                   sender="BigSpender", bulkGifted=False, isCommunityGift=True)
    mapped = translate(ACTIVITIES, one, SETTINGS, tips_topic=True)
    assert mapped is not None and mapped.actions == ()


def test_rewards_not_listed_or_without_input_are_not_read():
    other = activity("channelPointsRedemption", "a-50", username="p", redemption="Hydrate", message="x")
    empty = activity("channelPointsRedemption", "a-51", username="p", redemption=REWARD, message=" ")
    for data in (other, empty):
        mapped = translate(ACTIVITIES, data, SETTINGS, tips_topic=True)
        assert mapped is not None and mapped.actions == ()


def test_events_left_out_of_the_settings_are_not_read():
    only_tips = StreamElementsConnectorConfig(enabled=True, token="t", events=["tip"])
    follow = translate(ACTIVITIES, activity("follow", "a-60", username="ann"), only_tips, tips_topic=True)
    assert follow is not None and follow.actions == () and "events" in (follow.skipped or "")
    paid = translate(TIPS, tip("t-60", "Fan", 2), only_tips, tips_topic=True)
    assert paid is not None and paid.actions


def test_unknown_types_are_none_and_broken_payloads_are_malformed():
    assert translate(ACTIVITIES, activity("merch", "a-70", username="m"), SETTINGS, tips_topic=True) is None
    assert translate("channel.chat.message", {"x": 1}, SETTINGS, tips_topic=True) is None
    with pytest.raises(Malformed, match="no bits"):
        translate(ACTIVITIES, activity("cheer", "a-71", username="c"), SETTINGS, tips_topic=True)
    with pytest.raises(Malformed, match="no amount"):
        translate(TIPS, tip("t-71", "Fan", None), SETTINGS, tips_topic=True)
    with pytest.raises(Malformed, match="user name"):
        translate(ACTIVITIES, activity("follow", "a-72"), SETTINGS, tips_topic=True)
    with pytest.raises(Malformed):
        translate(TIPS, "not an object", SETTINGS, tips_topic=True)


def test_the_config_section_checks_its_keys_and_never_shows_the_token():
    config = TTSConfig.from_dict({"connectors": {"streamelements": {
        "enabled": True, "token": "secret-jwt-123", "token_type": "apikey", "channel_id": "abc"}}})
    section = config.connectors.streamelements
    assert section.url == "wss://astro.streamelements.com/" and section.token_type == "apikey"
    assert "secret-jwt-123" not in repr(section) and "secret-jwt-123" not in repr(config)
    for bad, named in (({"token_type": "bearer"}, "token_type must be one of jwt, oauth2, apikey"),
                       ({"url": "https://astro"}, "url must be a WebSocket address"),
                       ({"events": ["host"]}, "events[0]: unknown event 'host'"),
                       ({"channel_id": "a b"}, "channel_id"),
                       ({"tokne": "x"}, "unknown key connectors.streamelements.tokne")):
        with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
            TTSConfig.from_dict({"connectors": {"streamelements": bad}})
