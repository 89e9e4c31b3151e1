"""Twitch EventSub ``payload.event`` objects, one per subscription type we read (the shapes
of Twitch's reference and the Twitch CLI mock server), and what each says with the default
templates (chat command ``!tts``, reward "Read my message"). Test data only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REWARD = "Read my message"
_CHANNEL = {
    "broadcaster_user_id": "1001",
    "broadcaster_user_login": "streamer",
    "broadcaster_user_name": "Streamer",
}


@dataclass(frozen=True)
class Case:
    kind: str
    event: dict[str, Any]
    spoken: str

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.spoken[:20]}"


def _user(name: str, uid: str) -> dict[str, str]:
    return {"user_id": uid, "user_login": name.lower(), "user_name": name}


CASES = [
    Case(
        "channel.follow",
        {**_user("Ann_Fan", "11"), **_CHANNEL, "followed_at": "2026-12-02T10:00:00.123456789Z"},
        "Ann Fan just followed",
    ),
    Case(
        "channel.subscribe",
        {**_user("NewSub", "12"), **_CHANNEL, "tier": "1000", "is_gift": False},
        "NewSub subscribed for 1 month",
    ),
    Case(
        "channel.subscription.message",
        {
            **_user("Loyal", "13"),
            **_CHANNEL,
            "tier": "1000",
            "message": {"text": "a year already", "emotes": []},
            "cumulative_months": 12,
            "streak_months": 3,
            "duration_months": 1,
        },
        "Loyal subscribed for 12 months: a year already",
    ),
    Case(
        "channel.subscription.gift",
        {
            **_user("Santa", "14"),
            **_CHANNEL,
            "total": 5,
            "tier": "1000",
            "cumulative_total": 25,
            "is_anonymous": False,
        },
        "Santa gifted 5 subs",
    ),
    Case(
        "channel.subscription.gift",
        {
            "user_id": None,
            "user_login": None,
            "user_name": None,
            **_CHANNEL,
            "total": 1,
            "tier": "2000",
            "cumulative_total": None,
            "is_anonymous": True,
        },
        "Anonymous gifted 1 sub",
    ),
    Case(
        "channel.cheer",
        {
            **_user("BitLord", "15"),
            **_CHANNEL,
            "is_anonymous": False,
            "message": "Cheer100 great stream",
            "bits": 100,
        },
        "BitLord cheered 100 bits: great stream",
    ),
    Case(
        "channel.cheer",
        {
            "user_id": None,
            "user_login": None,
            "user_name": None,
            **_CHANNEL,
            "is_anonymous": True,
            "message": "anon1 shh",
            "bits": 1,
        },
        "Anonymous cheered 1 bit: shh",
    ),
    Case(
        "channel.raid",
        {
            "from_broadcaster_user_id": "16",
            "from_broadcaster_user_login": "raider",
            "from_broadcaster_user_name": "Raider",
            "to_broadcaster_user_id": "1001",
            "to_broadcaster_user_login": "streamer",
            "to_broadcaster_user_name": "Streamer",
            "viewers": 42,
        },
        "Raider is raiding with 42 viewers",
    ),
    Case(
        "channel.channel_points_custom_reward_redemption.add",
        {
            "id": "red-1",
            **_user("Pointy", "17"),
            **_CHANNEL,
            "user_input": "points well spent",
            "status": "unfulfilled",
            "reward": {"id": "rw-1", "title": REWARD, "cost": 500, "prompt": "say it"},
            "redeemed_at": "2026-12-02T10:00:00Z",
        },
        "Pointy says: points well spent",
    ),
    Case(
        "channel.chat.message",
        {
            **_CHANNEL,
            "chatter_user_id": "18",
            "chatter_user_login": "chatty",
            "chatter_user_name": "Chatty",
            "message_id": "cm-1",
            "message": {
                "text": "!tts hello world",
                "fragments": [
                    {
                        "type": "text",
                        "text": "!tts hello world",
                        "cheermote": None,
                        "emote": None,
                        "mention": None,
                    }
                ],
            },
            "color": "#00FF7F",
            "badges": [{"set_id": "subscriber", "id": "12", "info": "12"}],
            "message_type": "text",
            "cheer": None,
            "reply": None,
            "channel_points_custom_reward_id": None,
        },
        "Chatty says: hello world",
    ),
]
