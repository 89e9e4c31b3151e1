"""Streamer.bot events -> our events: every event type in each payload generation says
exactly what it should through the real event translator (templates, names, amounts)."""

from __future__ import annotations

import mapping_support
import pytest
from fakes.streamerbot_payloads import CASES, REMOVALS, REWARD, Case
from mapping_support import translator

from tts_core import TTSConfig
from tts_core.config import STREAMERBOT_EVENTS, ConfigError, StreamerBotConnectorConfig
from tts_core.connectors.actions import Remove, Speak
from tts_core.connectors.streamerbot.client import authentication, subscription
from tts_core.connectors.streamerbot.mapping import Malformed, supported, translate
from tts_core.ingest.translator import StreamerBotIntegration

SETTINGS = StreamerBotConnectorConfig(enabled=True, reward_titles=[REWARD.upper()])


def spoken(case_or_actions: Case | tuple, bot: StreamerBotIntegration) -> list[str]:
    if isinstance(case_or_actions, Case):
        mapped = translate(case_or_actions.source, case_or_actions.kind, case_or_actions.data, SETTINGS, "t1")
        assert mapped is not None
        actions = mapped.actions
    else:
        actions = case_or_actions
    return mapping_support.spoken(actions, bot)


@pytest.fixture
def bot() -> StreamerBotIntegration:
    return translator()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_event_in_each_generation_says_exactly(case: Case, bot: StreamerBotIntegration) -> None:
    assert spoken(case, bot) == [case.spoken]


def test_every_offered_event_type_has_a_fixture_or_a_removal():
    covered = {(c.source, c.kind) for c in CASES} | {(r[0], r[1]) for r in REMOVALS}
    missing = [f"{s}.{k}" for s, kinds in STREAMERBOT_EVENTS.items() for k in kinds if (s, k) not in covered]
    assert missing == []


@pytest.mark.parametrize("removal", REMOVALS, ids=lambda r: f"{r[0]}.{r[1]}")
def test_deletions_bans_and_time_outs_remove(removal) -> None:
    source, kind, data, removal_kind, fields = removal
    mapped = translate(source, kind, data, SETTINGS)
    assert mapped is not None and mapped.actions == (Remove(removal_kind, fields),)


def test_a_chat_message_carries_its_id_the_viewer_id_mod_rights_and_emote_positions(bot):
    data = {"user": {"id": "77", "login": "mod", "name": "Mod", "role": 3}, "text": "!tts hi Kappa there",
            "messageId": "m-5", "emotes": [{"id": "25", "name": "Kappa", "startIndex": 8, "endIndex": 12}]}
    mapped = translate("Twitch", "ChatMessage", data, SETTINGS)
    assert mapped is not None
    (action,) = mapped.actions
    assert isinstance(action, Speak)
    assert action.fields["is_mod"] is True
    assert action.fields["chat_message_id"] == "m-5" and action.fields["user_id"] == "77"
    assert spoken(mapped.actions, bot) == ["Mod says: hi there"]  # the emote is not read


def test_a_viewer_role_below_moderator_is_not_a_mod():
    for role, mod in ((1, False), (2, False), (3, True), (4, True)):
        data = {"user": {"name": "x", "role": role}, "text": "!tts a"}
        mapped = translate("Twitch", "ChatMessage", data, SETTINGS)
        assert mapped is not None and mapped.actions[0].fields["is_mod"] is mod


def test_ordinary_chat_without_the_command_is_not_spoken(bot):
    mapped = translate("Twitch", "ChatMessage", {"user": {"name": "x"}, "text": "just chatting"}, SETTINGS)
    assert mapped is not None
    (action,) = mapped.actions
    assert isinstance(action, Speak)
    assert bot.submit(action.event_type, action.fields).filtered == "not_a_command"


def test_only_listed_rewards_with_input_are_read():
    other = {"user": {"name": "x"}, "reward": {"title": "Hydrate"}, "user_input": "drink"}
    empty = {"user": {"name": "x"}, "reward": {"title": REWARD}, "user_input": "  "}
    for data in (other, empty):
        mapped = translate("Twitch", "RewardRedemption", data, SETTINGS)
        assert mapped is not None and mapped.actions == ()
    assert translate("Twitch", "RewardRedemption", {**other, "reward": {"title": REWARD}},
                     StreamerBotConnectorConfig()).actions == ()  # type: ignore[union-attr]


def test_a_gift_sub_of_a_gift_bomb_is_not_announced_twice():
    data = {"user": {"name": "Santa"}, "recipient": {"name": "Lucky"}, "fromSubBomb": True}
    assert translate("Twitch", "GiftSub", data, SETTINGS).actions == ()  # type: ignore[union-attr]


def test_anonymous_gifts_and_cheers(bot):
    gift = translate("Twitch", "GiftSub", {"user": {"name": "AnAnonymousGifter"}, "anonymous": True,
                                           "recipient": {"name": "Lucky"}}, SETTINGS)
    assert spoken(gift.actions, bot) == ["Anonymous gifted a sub to Lucky"]  # type: ignore[union-attr]
    cheer = translate("Twitch", "Cheer", {"user_name": "x", "is_anonymous": True, "bits": 5, "message": ""},
                      SETTINGS)
    assert spoken(cheer.actions, bot) == ["Anonymous cheered 5 bits"]  # type: ignore[union-attr]


def test_test_events_are_marked_and_spoken(bot):
    mapped = translate("Twitch", "Follow", {"user": {"name": "Tester"}, "isTest": True}, SETTINGS, "t")
    assert mapped is not None and mapped.is_test
    assert spoken(mapped.actions, bot) == ["Tester just followed"]
    meta = translate("Twitch", "Follow", {"user": {"name": "T"}, "meta": {"isTest": True}}, SETTINGS)
    assert meta is not None and meta.is_test


def test_general_custom_carries_the_listener_format():
    removal = translate("General", "Custom", {"type": "chat_deleted", "chat_message_id": "x1"}, SETTINGS)
    assert removal is not None and removal.actions == (Remove("chat_deleted", {"chat_message_id": "x1"}),)
    text = translate("General", "Custom", '{"type":"follow","username":"Str"}', SETTINGS)
    assert text is not None and text.actions == (Speak("follow", {"username": "Str"}),)
    for bad in ({"request": "Skip"}, {"type": "nonsense"}, {"type": "donation"}):
        with pytest.raises(Malformed):
            translate("General", "Custom", bad, SETTINGS)


def test_malformed_payloads_raise_malformed_and_unknown_types_give_none():
    with pytest.raises(Malformed):
        translate("Twitch", "Cheer", {"user": {"name": "x"}}, SETTINGS)  # no bits
    with pytest.raises(Malformed):
        translate("Twitch", "Follow", {"nobody": 1}, SETTINGS)
    with pytest.raises(Malformed):
        translate("Twitch", "Follow", ["not", "an", "object"], SETTINGS)
    with pytest.raises(Malformed):
        translate("Twitch", "ChatMessageDeleted", {}, SETTINGS)
    assert translate("Twitch", "PresentViewers", {}, SETTINGS) is None
    assert translate("Elsewhere", "Follow", {}, SETTINGS) is None


def test_event_ids_name_the_event_and_fall_back_to_time_and_payload():
    chat = translate("Twitch", "ChatMessage", {"user": {"name": "a"}, "text": "x", "messageId": "m1"},
                     SETTINGS)
    deleted = translate("Twitch", "ChatMessageDeleted", {"messageId": "m1"}, SETTINGS)
    assert chat is not None and deleted is not None and chat.event_id != deleted.event_id
    follow = {"user": {"name": "a"}}
    first, again = (translate("Twitch", "Follow", follow, SETTINGS, "t1") for _ in range(2))
    later = translate("Twitch", "Follow", follow, SETTINGS, "t2")
    assert first is not None and again is not None and later is not None
    assert first.event_id == again.event_id != later.event_id
    assert translate("Twitch", "Follow", follow, SETTINGS).event_id is None  # type: ignore[union-attr]


def test_old_servers_lower_camel_sources_are_understood():
    mapped = translate("twitch", "Follow", {"user": {"name": "Low"}}, SETTINGS)
    assert mapped is not None and mapped.actions == (Speak("follow", {"username": "Low"}),)
    assert supported("youTube", "SuperChat") and not supported("twitch", "PresentViewers")


def test_subscription_follows_get_events_and_the_settings():
    offered = {"twitch": ["Follow", "Cheer", "PresentViewers"], "Kick": ["Follow"], "Obs": ["Scene"]}
    assert subscription(offered, SETTINGS) == {"twitch": ["Follow", "Cheer"], "Kick": ["Follow"]}
    only = StreamerBotConnectorConfig(events=["Twitch.Cheer", "Kick"])
    assert subscription(offered, only) == {"twitch": ["Cheer"], "Kick": ["Follow"]}
    assert subscription(None, only) == {"Twitch": ["Cheer"], "Kick": list(STREAMERBOT_EVENTS["Kick"])}


def test_the_authentication_answer_is_the_documented_double_hash():
    # b64(sha256(b64(sha256("secret" + "salt")) + "challenge")), computed independently
    import base64
    import hashlib

    secret = base64.b64encode(hashlib.sha256(b"secretsalt").digest())
    expected = base64.b64encode(hashlib.sha256(secret + b"challenge").digest()).decode()
    assert authentication("secret", "salt", "challenge") == expected


def test_connector_settings_are_checked_and_the_password_never_shown():
    cfg = TTSConfig.from_dict({"connectors": {"streamerbot": {"enabled": True, "password": "hunter2",
                                                              "events": ["Twitch", "Kofi.Donation"]}}})
    assert "hunter2" not in repr(cfg.connectors) and "hunter2" not in repr(cfg)
    assert TTSConfig.from_dict(cfg.to_dict()).connectors.streamerbot.password == "hunter2"
    for bad, key in (({"streamerbot": {"url": "http://x"}}, "connectors.streamerbot.url"),
                     ({"streamerbot": {"events": ["Twitch.Nope"]}}, "connectors.streamerbot.events[0]"),
                     ({"streamerbot": {"enabled": "yes"}}, "connectors.streamerbot.enabled"),
                     ({"streamerbot": {"reward_titles": [" "]}}, "connectors.streamerbot.reward_titles[0]"),
                     ({"elsewhere": {}}, "connectors.elsewhere")):
        with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
            TTSConfig.from_dict({"connectors": bad})
    assert StreamerBotConnectorConfig().enabled is False
    assert StreamerBotConnectorConfig().url == "ws://127.0.0.1:8080/"
