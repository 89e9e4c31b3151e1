"""Twitch EventSub events -> our events: every subscription type says exactly what it should
through the real event translator; deletions, clears, bans and time-outs remove; the scopes,
conditions and the token file's permissions."""

from __future__ import annotations

import os
import stat
import sys

import pytest
from fakes.twitch_payloads import CASES, REWARD, Case
from mapping_support import spoken, translator

from tts_core import TTSConfig
from tts_core.config import ConfigError
from tts_core.config.sections import TWITCH_EVENTS, TwitchConnectorConfig
from tts_core.connectors.actions import Remove, Speak
from tts_core.connectors.twitch import tokens
from tts_core.connectors.twitch.client import keepalive_grace
from tts_core.connectors.twitch.mapping import SUBSCRIPTIONS, Malformed, condition, scopes_for, translate
from tts_core.ingest.translator import StreamerBotIntegration

SETTINGS = TwitchConnectorConfig(enabled=True, client_id="c", reward_titles=[REWARD.upper()])


@pytest.fixture
def bot() -> StreamerBotIntegration:
    return translator()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_event_type_says_exactly(case: Case, bot: StreamerBotIntegration) -> None:
    assert spoken(translate(case.kind, case.event, SETTINGS), bot) == [case.spoken]


REMOVALS = [
    (
        "channel.chat.message_delete",
        {
            "broadcaster_user_id": "1001",
            "target_user_id": "18",
            "target_user_login": "chatty",
            "target_user_name": "Chatty",
            "message_id": "cm-1",
        },
        Remove("chat_deleted", {"chat_message_id": "cm-1"}),
    ),
    (
        "channel.chat.clear_user_messages",
        {
            "broadcaster_user_id": "1001",
            "target_user_id": "66",
            "target_user_login": "troll",
            "target_user_name": "Troll",
        },
        Remove("user_timeout", {"username": "troll", "user_id": "66"}),
    ),
    (
        "channel.ban",
        {
            "user_id": "66",
            "user_login": "troll",
            "user_name": "Troll",
            "broadcaster_user_id": "1001",
            "moderator_user_login": "mod",
            "reason": "spam",
            "banned_at": "2026-12-02T10:00:00.5Z",
            "ends_at": None,
            "is_permanent": True,
        },
        Remove("user_banned", {"username": "troll", "user_id": "66"}),
    ),
    (
        "channel.ban",
        {
            "user_id": "67",
            "user_login": "hothead",
            "user_name": "Hothead",
            "reason": "",
            "banned_at": "2026-12-02T10:00:00.123456789Z",
            "ends_at": "2026-12-02T10:10:00.123456789Z",
            "is_permanent": False,
        },
        Remove("user_timeout", {"username": "hothead", "user_id": "67", "duration_seconds": 600.0}),
    ),
]


@pytest.mark.parametrize("removal", REMOVALS, ids=lambda r: r[0] + str(r[1].get("is_permanent", "")))
def test_deletions_clears_bans_and_time_outs_remove(removal) -> None:
    kind, event, expected = removal
    assert translate(kind, event, SETTINGS) == (expected,)


def test_every_event_type_has_a_fixture_or_a_removal_and_a_subscription():
    covered = {c.kind for c in CASES} | {r[0] for r in REMOVALS}
    assert sorted(covered) == sorted(TWITCH_EVENTS) == sorted(SUBSCRIPTIONS)


def test_a_chat_message_carries_its_id_the_viewer_id_mod_rights_from_badges_and_emote_positions(bot):
    event = {
        "chatter_user_id": "77",
        "chatter_user_login": "mod",
        "chatter_user_name": "Mod",
        "message_id": "m-5",
        "badges": [{"set_id": "moderator", "id": "1", "info": ""}],
        "message": {
            "text": "!tts hi Kappa there",
            "fragments": [
                {"type": "text", "text": "!tts hi "},
                {"type": "emote", "text": "Kappa"},
                {"type": "text", "text": " there"},
            ],
        },
    }
    (action,) = translate("channel.chat.message", event, SETTINGS) or ()
    assert isinstance(action, Speak)
    assert action.fields["is_mod"] is True and action.fields["badges"] == ["moderator"]
    assert action.fields["chat_message_id"] == "m-5" and action.fields["user_id"] == "77"
    assert action.fields["emotes"] == [{"startIndex": 8, "endIndex": 12}]
    assert spoken((action,), bot) == ["Mod says: hi there"]  # the emote is not read


@pytest.mark.parametrize(
    "badge,mod", [("broadcaster", True), ("moderator", True), ("vip", False), ("subscriber", False)]
)
def test_mod_rights_come_from_the_badges(badge, mod):
    event = {"chatter_user_name": "x", "badges": [{"set_id": badge}], "message": {"text": "!tts a"}}
    (action,) = translate("channel.chat.message", event, SETTINGS) or ()
    assert action.fields["is_mod"] is mod


def test_ordinary_chat_without_the_command_is_not_spoken(bot):
    event = {"chatter_user_name": "x", "message_id": "m", "badges": [], "message": {"text": "just chatting"}}
    (action,) = translate("channel.chat.message", event, SETTINGS) or ()
    assert bot.submit(action.event_type, action.fields).status != "ok"


def test_a_gifted_subscribe_and_other_rewards_say_nothing():
    assert (
        translate("channel.subscribe", {"user_name": "Lucky", "tier": "1000", "is_gift": True}, SETTINGS)
        == ()
    )
    other = {"user_name": "P", "user_input": "hi", "reward": {"title": "Hydrate", "cost": 1}}
    assert translate("channel.channel_points_custom_reward_redemption.add", other, SETTINGS) == ()
    empty = {"user_name": "P", "user_input": "", "reward": {"title": REWARD, "cost": 1}}
    assert translate("channel.channel_points_custom_reward_redemption.add", empty, SETTINGS) == ()


@pytest.mark.parametrize(
    "kind,event",
    [
        ("channel.cheer", {"user_name": "x", "message": "hi"}),
        ("channel.follow", {"user_id": "1"}),
        ("channel.chat.message", {"chatter_user_name": "x"}),
        ("channel.chat.message_delete", {"target_user_login": "x"}),
        ("channel.ban", {"reason": "x"}),
        ("channel.subscription.gift", {"user_name": "x"}),
        ("channel.follow", ["not", "an", "object"]),
    ],
)
def test_events_lacking_what_they_need_are_malformed(kind, event):
    with pytest.raises(Malformed):
        translate(kind, event, SETTINGS)


def test_an_unknown_type_is_not_read():
    assert translate("channel.poll.begin", {}, SETTINGS) is None


def test_scopes_and_conditions_per_event_type():
    assert scopes_for(list(TWITCH_EVENTS)) == [
        "bits:read",
        "channel:moderate",
        "channel:read:redemptions",
        "channel:read:subscriptions",
        "moderator:read:followers",
        "user:read:chat",
    ]
    assert scopes_for(["channel.raid"]) == []
    assert condition("channel.follow", "1001", "7") == {
        "broadcaster_user_id": "1001",
        "moderator_user_id": "7",
    }
    assert condition("channel.raid", "1001", "7") == {"to_broadcaster_user_id": "1001"}
    assert condition("channel.chat.message", "1001", "7") == {"broadcaster_user_id": "1001", "user_id": "7"}
    assert SUBSCRIPTIONS["channel.follow"].version == "2"


def test_the_config_section_checks_its_values():
    config = TTSConfig.from_dict(
        {"connectors": {"twitch": {"enabled": True, "client_id": "abc", "events": ["channel.cheer"]}}}
    )
    assert config.connectors.twitch.takes("channel.cheer") and not config.connectors.twitch.takes(
        "channel.raid"
    )
    assert config.connectors.twitch.eventsub_url == "wss://eventsub.wss.twitch.tv/ws"
    for bad, words in (
        ({"events": ["channel.poll"]}, "unknown event"),
        ({"api_url": "ftp://x"}, "api_url"),
        ({"eventsub_url": "http://x"}, "eventsub_url"),
    ):
        with pytest.raises(ConfigError, match=words):
            TTSConfig.from_dict({"connectors": {"twitch": bad}})


def test_silence_longer_than_the_keepalive_is_a_dead_connection():
    assert keepalive_grace(10) == 12 and keepalive_grace(2) == 3


def test_the_token_file_is_for_the_user_only_and_never_shown(tmp_path):
    path = tmp_path / "data" / tokens.TOKEN_FILE
    saved = tokens.Tokens("secret-access", "secret-refresh", 1e10, ["bits:read"], "cid", "streamer", "1001")
    tokens.save(saved, path)
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert tokens.load(path) == saved
    assert "secret" not in repr(saved)
    assert not saved.expires_soon()
    assert tokens.forget(path) and not tokens.forget(path) and tokens.load(path) is None


@pytest.mark.parametrize(
    "banned,ends,seconds",
    [
        ("2026-12-02T10:00:00.123456789Z", "2026-12-02T10:10:00.123456789Z", 600.0),
        ("2026-12-02T10:00:00Z", "2026-12-02T10:00:30.5Z", 30.5),
        ("2026-12-02T10:00:00+00:00", "2026-12-02T11:00:00+01:00", None),  # the same instant: no length
        ("not a time", "2026-12-02T10:00:00Z", None),
    ],
)
def test_a_time_out_lasts_from_banned_at_to_ends_at_in_any_precision(banned, ends, seconds):
    event = {"user_login": "x", "user_id": "1", "is_permanent": False, "banned_at": banned, "ends_at": ends}
    (action,) = translate("channel.ban", event, SETTINGS) or ()
    assert action.kind == "user_timeout" and action.fields.get("duration_seconds") == seconds


def test_shared_chat_lines_from_another_channel_are_not_read():
    event = {
        "broadcaster_user_id": "1001",
        "chatter_user_name": "Guest",
        "message_id": "s-1",
        "badges": [],
        "message": {"text": "!tts from elsewhere"},
        "source_broadcaster_user_id": "2002",
    }
    assert translate("channel.chat.message", event, SETTINGS) == ()
    ours = {**event, "source_broadcaster_user_id": "1001"}
    assert len(translate("channel.chat.message", ours, SETTINGS) or ()) == 1
