"""Streamlabs socket ``event`` frames, one per alert type we read, in the shapes of Streamlabs'
Socket API docs and of published captures (amounts and months as text or as numbers, a
Super Chat's amount in millionths), and what each says with the default templates.
Test data only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Case:
    kind: str
    for_: str | None
    message: dict[str, Any]
    event_id: str | None
    spoken: str

    @property
    def name(self) -> str:
        return f"{self.for_ or 'streamlabs'}.{self.kind}:{self.spoken[:24]}"

    def frame(self) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": self.kind, "message": [self.message]}
        if self.for_ is not None:
            frame["for"] = self.for_
        if self.event_id is not None:
            frame["event_id"] = self.event_id
        return frame


CASES = [
    Case(
        "donation",
        None,
        {
            "id": 90001,
            "name": "Tipper",
            "amount": "5.00",
            "formatted_amount": "$5.00",
            "formattedAmount": "$5.00",
            "message": "love the stream",
            "currency": "USD",
            "emotes": None,
            "iconClassName": "fab paypal",
            "to": {"name": "streamer"},
            "from": "Tipper",
            "from_user_id": None,
            "_id": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
            "priority": 10,
        },
        "evt_donation_0001",
        "Tipper donated 5 dollars: love the stream",
    ),
    Case(
        "donation",
        "streamlabs",
        {
            "name": "Euro_Fan",
            "amount": "12.50",
            "formatted_amount": "12,50 €",
            "message": "",
            "currency": "EUR",
            "from": "Euro_Fan",
            "_id": "b1b2c3d4e5f60718293a4b5c6d7e8f90",
        },
        "evt_donation_0002",
        "Euro Fan donated 12 euros and 50 cents",
    ),
    Case(
        "follow",
        "twitch_account",
        {"_id": "c1b2c3d4e5f60718293a4b5c6d7e8f90", "id": "4242", "name": "newfollower", "priority": 10},
        "evt_follow_0001",
        "newfollower just followed",
    ),
    Case(
        "subscription",
        "twitch_account",
        {
            "name": "loyalviewer",
            "display_name": "LoyalViewer",
            "months": "7",
            "message": "seven already",
            "emotes": None,
            "sub_plan": "1000",
            "sub_plan_name": "Channel Subscription",
            "sub_type": "resub",
            "gifter": None,
            "streak_months": "7",
            "_id": "d1b2c3d4e5f60718293a4b5c6d7e8f90",
        },
        "evt_sub_0001",
        "LoyalViewer subscribed for 7 months: seven already",
    ),
    Case(
        "subscription",
        "twitch_account",
        {
            "message": "",
            "emotes": "",
            "name": "primetime",
            "display_name": "PrimeTime",
            "sub_plan": "Prime",
            "subPlan": "Prime",
            "months": 1,
            "sub_type": "sub",
            "type": "sub",
            "streak_months": None,
            "gifter": None,
            "gifter_display_name": None,
            "_id": "e1b2c3d4e5f60718293a4b5c6d7e8f90",
        },
        "evt_sub_0002",
        "PrimeTime subscribed for 1 month",
    ),
    Case(
        "subscription",
        "twitch_account",
        {
            "message": "",
            "name": "luckyone",
            "display_name": "LuckyOne",
            "sub_plan": "1000",
            "months": 1,
            "sub_type": "subgift",
            "gifter": "generous",
            "gifter_display_name": "Generous",
            "_id": "f1b2c3d4e5f60718293a4b5c6d7e8f90",
        },
        "evt_sub_0003",
        "Generous gifted a sub to LuckyOne",
    ),
    Case(
        "subMysteryGift",
        "twitch_account",
        {
            "sub_plan": "1000",
            "sub_type": "subMysteryGift",
            "gifter": "bigspender",
            "gifter_display_name": "BigSpender",
            "name": "bigspender",
            "amount": 5,
            "_id": "a2b2c3d4e5f60718293a4b5c6d7e8f90",
        },
        "evt_bomb_0001",
        "BigSpender gifted 5 subs",
    ),
    Case(
        "bits",
        "twitch_account",
        {
            "id": "9cb40fb6-0000-4c6f-83b5-a820c27aff9b",
            "name": "cheery",
            "display_name": "Cheery",
            "amount": "100",
            "emotes": None,
            "message": "Cheer100 take my bits",
            "_id": "b2b2c3d4e5f60718293a4b5c6d7e8f90",
        },
        "evt_bits_0001",
        "Cheery cheered 100 bits: take my bits",
    ),
    Case(
        "raid",
        "twitch_account",
        {
            "id": "7a7575e3-0000-46b1-b422-af80711a8bd4",
            "name": "raidleader",
            "display_name": "RaidLeader",
            "raiders": "42",
            "_id": "7a7575e3-0000-46b1-b422-af80711a8bd4",
        },
        "evt_raid_0001",
        "RaidLeader is raiding with 42 viewers",
    ),
    Case(
        "follow",
        "youtube_account",
        {
            "name": "TubeWatcher",
            "channelUrl": "https://www.youtube.com/channel/UC000",
            "_id": "c2b2c3d4e5f60718293a4b5c6d7e8f90",
        },
        "evt_ytfollow_0001",
        "TubeWatcher just followed",
    ),
    Case(
        "subscription",
        "youtube_account",
        {
            "name": "MemberMia",
            "months": 3,
            "membershipLevel": 1,
            "membershipLevelName": "Supporter",
            "sponsorSince": "2026-09-01T10:00:00Z",
            "message": "",
            "_id": "d2b2c3d4e5f60718293a4b5c6d7e8f90",
        },
        "evt_member_0001",
        "MemberMia subscribed for 3 months",
    ),
    Case(
        "superchat",
        "youtube_account",
        {
            "id": "LCC.superchat0001",
            "channelId": "UC111",
            "name": "SuperChatter",
            "comment": "hello from YouTube",
            "amount": "5000000",
            "currency": "EUR",
            "displayString": "€5.00",
            "messageType": "superChatEvent",
            "_id": "e2b2c3d4e5f60718293a4b5c6d7e8f90",
        },
        "evt_superchat_0001",
        "SuperChatter donated 5 euros: hello from YouTube",
    ),
    Case(
        "membershipGift",
        "youtube_account",
        {
            "name": "GiftingGus",
            "amount": 10,
            "giftMembershipsLevel": 1,
            "levelName": "Supporter",
            "membershipMessageId": "gift-0001",
            "_id": "f2b2c3d4e5f60718293a4b5c6d7e8f90",
        },
        "evt_ytgift_0001",
        "GiftingGus gifted 10 subs",
    ),
]
