"""Streamer.bot event payloads, one per event type and payload generation, and what each
says with the default templates (config: chat command ``!tts``, reward "Read my message").

Generations: ``current`` (the schemas on Streamer.bot's docs site: ``user{}``, ``text``,
``messageId``), ``legacy`` (0.1.x: the text at ``message.message``, ``user_name``,
``viewerCount``, ``user_input``) and ``eventsub`` (EventSub-style names, as the
official JS client types some events). Where no primary source shows a shape, it is
the nearest documented one. Test data only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REWARD = "Read my message"


@dataclass(frozen=True)
class Case:
    generation: str
    source: str
    kind: str
    data: dict[str, Any]
    spoken: str

    @property
    def name(self) -> str:
        return f"{self.generation}-{self.source}.{self.kind}"


def _user(name: str, uid: str = "1", role: int = 1, **extra: Any) -> dict[str, Any]:
    return {"id": uid, "login": name.lower(), "name": name, "type": "twitch", "role": role, **extra}


CURRENT = [
    Case("current", "Twitch", "Follow", {"user": _user("Ann_Fan")}, "Ann Fan just followed"),
    Case("current", "Twitch", "Cheer", {"user": _user("BitLord"), "text": "Cheer100 great stream",
                                        "bits": 100, "messageId": "c-1", "parts": [], "emotes": []},
         "BitLord cheered 100 bits: great stream"),
    Case("current", "Twitch", "Sub", {"user": _user("NewSub"), "sub_tier": "1000", "is_prime": False,
                                      "duration_months": 1}, "NewSub subscribed for 1 month"),
    Case("current", "Twitch", "ReSub", {"user": _user("Loyal"), "cumulativeMonths": 12, "streakMonths": 3,
                                        "subTier": "1000", "text": "a year already"},
         "Loyal subscribed for 12 months: a year already"),
    Case("current", "Twitch", "GiftSub", {"user": _user("Santa"), "recipient": _user("Lucky", "2"),
                                          "subTier": "1000", "cumlativeTotal": 5},
         "Santa gifted a sub to Lucky"),
    Case("current", "Twitch", "GiftBomb", {"user": _user("Santa"), "total": 5, "sub_tier": "1000",
                                           "recipients": [_user(f"R{n}", str(n)) for n in range(5)]},
         "Santa gifted 5 subs"),
    Case("current", "Twitch", "Raid", {"user": _user("Raider"), "viewers": 42},
         "Raider is raiding with 42 viewers"),
    Case("current", "Twitch", "ChatMessage", {"user": _user("Chatty", "77"), "text": "!tts hello world",
                                              "messageId": "m-1", "parts": [], "emotes": [],
                                              "meta": {"isTest": False}},
         "Chatty says: hello world"),
    Case("current", "Twitch", "RewardRedemption", {"user": _user("Pointy"), "user_input": "points well spent",
                                                   "reward": {"id": "r1", "title": REWARD, "cost": 500}},
         "Pointy says: points well spent"),
    Case("current", "YouTube", "Message", {"user": {"id": "yt1", "name": "TubeFan", "isModerator": False},
                                           "message": "!tts from youtube", "eventId": "yt-m1"},
         "TubeFan says: from youtube"),
    Case("current", "YouTube", "SuperChat", {"user": {"id": "yt2", "name": "Rich"}, "amount": "$5.00",
                                             "microAmount": 5_000_000, "currencyCode": "USD",
                                             "message": "love it"},
         "Rich donated 5 dollars: love it"),
    Case("current", "YouTube", "NewSponsor", {"user": {"id": "yt3", "name": "Member"}, "levelName": "Gold"},
         "Member subscribed for 1 month"),
    Case("current", "YouTube", "MemberMileStone", {"user": {"id": "yt5", "name": "OldMember"}, "months": 6,
                                                   "message": "half a year"},
         "OldMember subscribed for 6 months: half a year"),
    Case("current", "YouTube", "MembershipGift", {"user": {"id": "yt4", "name": "Giver"}, "count": 3},
         "Giver gifted 3 subs"),
    Case("current", "Kick", "ChatMessage", {"user": {"id": "k1", "login": "kicker", "name": "Kicker"},
                                            "text": "!tts kick it", "messageId": "k-m1"},
         "Kicker says: kick it"),
    Case("current", "Kick", "Follow", {"user": {"id": "k2", "login": "kickfan", "name": "KickFan"},
                                       "timestamp": "2026-01-01T00:00:00Z"}, "KickFan just followed"),
    Case("current", "Kick", "Subscription", {"user": {"id": "k3", "name": "KickSub"}, "months": 3},
         "KickSub subscribed for 3 months"),
    Case("current", "Kick", "GiftSubscription", {"user": {"id": "k4", "name": "KickSanta"},
                                                 "recipients": [{"id": "k5", "name": "KickLucky"}]},
         "KickSanta gifted a sub to KickLucky"),
    Case("current", "Kick", "MassGiftSubscription", {"user": {"id": "k4", "name": "KickSanta"}, "total": 10},
         "KickSanta gifted 10 subs"),
    Case("current", "StreamElements", "Tip", {"username": "Tipper", "amount": 10, "currency": "EUR",
                                              "message": "for coffee"},
         "Tipper donated 10 euros: for coffee"),
    Case("current", "Streamlabs", "Donation", {"from": "Labber", "amount": "13.37", "currency": "USD",
                                               "message": "nice"},
         "Labber donated 13 dollars and 37 cents: nice"),
    Case("current", "Kofi", "Donation", {"from": "Kofer", "amount": "3.00", "currency": "GBP",
                                         "message": "a secret", "isPublic": False},
         "Kofer donated 3 pounds"),
    Case("current", "Kofi", "Subscription", {"from": "KofiMember", "amount": "5.00", "currency": "USD",
                                             "message": "monthly", "isPublic": True},
         "KofiMember donated 5 dollars: monthly"),
    Case("current", "Kofi", "Resubscription", {"fromName": "KofiLoyal", "amount": "5,00", "currency": "EUR",
                                               "message": "again", "is_public": True},
         "KofiLoyal donated 5 euros: again"),
    Case("current", "General", "Custom", {"type": "tts", "text": "custom hello"}, "custom hello"),
]

LEGACY = [
    Case("legacy", "Twitch", "Follow", {"user_id": "3", "user_login": "oldfan", "user_name": "OldFan",
                                        "followed_at": "2023-01-01T00:00:00Z"}, "OldFan just followed"),
    Case("legacy", "Twitch", "Raid", {"viewerCount": 7, "userName": "oldraider", "displayName": "OldRaider"},
         "OldRaider is raiding with 7 viewers"),
    Case("legacy", "Twitch", "ChatMessage", {"message": {"msgId": "lm-1", "userId": "55",
                                                         "username": "oldchat", "displayName": "OldChat",
                                                         "role": 1,
                                                         "message": "!tts legacy hello", "emotes": []}},
         "OldChat says: legacy hello"),
    Case("legacy", "Twitch", "Cheer", {"message": {"msgId": "lc-1", "displayName": "OldBits",
                                                   "message": "Cheer50 hi there", "bits": 50}},
         "OldBits cheered 50 bits: hi there"),
    Case("legacy", "Twitch", "RewardRedemption", {"user_input": "legacy points", "user_login": "oldpoints",
                                                  "user_name": "OldPoints",
                                                  "reward": {"id": "r1", "title": REWARD, "cost": 100,
                                                             "prompt": ""}},
         "OldPoints says: legacy points"),
    Case("legacy", "YouTube", "Message", {"message": "!tts legacy tube", "eventId": "ly-1",
                                          "user": {"id": "u9", "name": "OldTube", "isOwner": False,
                                                   "isModerator": False, "isSponsor": True}},
         "OldTube says: legacy tube"),
    Case("legacy", "StreamElements", "Tip", {"username": "OldTipper", "amount": 2.5, "currency": "USD",
                                             "message": "legacy tip"},
         "OldTipper donated 2 dollars and 50 cents: legacy tip"),
]

EVENTSUB = [
    Case("eventsub", "Twitch", "Raid", {"from_broadcaster_user_id": "9",
                                        "from_broadcaster_user_login": "subraider",
                                        "from_broadcaster_user_name": "SubRaider", "viewers": 100},
         "SubRaider is raiding with 100 viewers"),
    Case("eventsub", "Twitch", "Follow", {"user_id": "2", "user_login": "esfan", "user_name": "EsFan",
                                          "followed_at": "2025-01-01T00:00:00Z"}, "EsFan just followed"),
    Case("eventsub", "Twitch", "Cheer", {"user_name": "EsBits", "is_anonymous": False,
                                         "message": "Cheer10 yo", "bits": 10},
         "EsBits cheered 10 bits: yo"),
    Case("eventsub", "Twitch", "ReSub", {"user_name": "EsSub", "cumulative_months": 5, "tier": "1000",
                                         "message": {"text": "five", "emotes": []}},
         "EsSub subscribed for 5 months: five"),
    Case("eventsub", "Twitch", "GiftBomb", {"user_name": "EsSanta", "total": 3, "tier": "1000",
                                            "is_anonymous": False}, "EsSanta gifted 3 subs"),
    Case("eventsub", "Twitch", "RewardRedemption", {"user_name": "EsPoints", "user_input": "eventsub input",
                                                    "reward": {"title": REWARD, "cost": 1}},
         "EsPoints says: eventsub input"),
]

CASES = CURRENT + LEGACY + EVENTSUB

# Removals, each generation: (source, type, data, the Remove action's kind and fields).
REMOVALS = [
    ("Twitch", "ChatMessageDeleted", {"targetMessageId": "m-9", "message": "bad words", "userName": "troll"},
     "chat_deleted", {"chat_message_id": "m-9"}),
    ("Twitch", "UserBanned", {"target_user_login": "troll", "target_user_display": "Troll",
                              "target_user_id": "666", "moderation_action": "ban", "reason": "spam"},
     "user_banned", {"username": "troll", "user_id": "666"}),
    ("Twitch", "UserTimedOut", {"target_user_login": "loud", "target_user_id": "5", "duration": 600,
                                "moderation_action": "timeout"},
     "user_timeout", {"username": "loud", "user_id": "5", "duration_seconds": 600.0}),
    ("Twitch", "UserBanned", {"user": _user("Troll2", "667")}, "user_banned",
     {"username": "troll2", "user_id": "667"}),
    ("Kick", "UserBanned", {"user": {"id": "k9", "login": "kicktroll", "name": "KickTroll"}}, "user_banned",
     {"username": "kicktroll", "user_id": "k9"}),
    ("Kick", "UserTimedOut", {"user": {"id": "k8", "login": "kickloud"}, "duration": 60}, "user_timeout",
     {"username": "kickloud", "user_id": "k8", "duration_seconds": 60.0}),
]
