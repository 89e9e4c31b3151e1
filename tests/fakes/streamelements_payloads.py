"""StreamElements Astro message ``data`` objects, one per activity type we read and the
``channel.tips`` shape (as StreamElements' websocket docs show them), and what each says
with the default templates (reward "Read my message"). Test data only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REWARD = "Read my message"
CHANNEL = "5ad23dcc18fff500d78c5348"
ACT, TIPS = "channel.activities", "channel.tips"


@dataclass(frozen=True)
class Case:
    topic: str
    data: dict[str, Any]
    spoken: str

    @property
    def name(self) -> str:
        kind = self.data.get("type", "tip")
        return f"{kind}:{self.spoken[:20]}"


def activity(kind: str, activity_id: str, provider: str = "twitch", **fields: Any) -> dict[str, Any]:
    """A ``channel.activities`` message's data."""
    return {
        "type": kind,
        "provider": provider,
        "channel": CHANNEL,
        "data": {"avatar": "https://example.invalid/a.png", **fields},
        "_id": activity_id,
        "createdAt": "2026-12-02T10:00:00.000Z",
        "updatedAt": "2026-12-02T10:00:00.000Z",
        "activityId": activity_id,
        "sessionEventsCount": 6,
    }


def tip(tip_id: str, username: str, amount: Any, currency: str = "USD", message: str = "",
        approved: str = "allowed", status: str = "success") -> dict[str, Any]:
    """A ``channel.tips`` message's data."""
    return {
        "donation": {
            "user": {"username": username, "geo": "ZZ", "email": "fan@example.invalid", "channel": CHANNEL},
            "message": message,
            "amount": amount,
            "currency": currency,
            "paymentMethod": "scheme",
        },
        "_id": tip_id,
        "channel": CHANNEL,
        "provider": "paypal",
        "approved": approved,
        "status": status,
        "createdAt": "2026-12-02T10:00:00.000Z",
        "updatedAt": "2026-12-02T10:00:05.000Z",
        "transactionId": f"tx-{tip_id}",
    }


CASES = [
    Case(TIPS, tip("t-1", "Styler", 4.2, "USD", "love the stream"),
         "Styler donated 4 dollars and 20 cents: love the stream"),
    Case(TIPS, tip("t-2", "Ronja", 10, "EUR", "grüße"), "Ronja donated 10 euros: grüße"),
    Case(ACT, activity("follow", "a-1", username="ann_fan", displayName="Ann_Fan",
                       providerId="14027"), "Ann Fan just followed"),
    Case(ACT, activity("subscriber", "a-2", username="loyal", displayName="Loyal", amount=12,
                       tier="1000", message="a year already"),
         "Loyal subscribed for 12 months: a year already"),
    Case(ACT, activity("subscriber", "a-3", username="newbie", displayName="Newbie", amount=1,
                       tier="prime", message=""), "Newbie subscribed for 1 month"),
    Case(ACT, activity("subscriber", "a-4", username="lucky", displayName="Lucky", amount=1,
                       tier="1000", gifted=True, sender="Generous"),
         "Generous gifted a sub to Lucky"),
    Case(ACT, activity("communityGiftPurchase", "a-5", username="bigspender",
                       displayName="BigSpender", amount=5, tier="1000"),
         "BigSpender gifted 5 subs"),
    Case(ACT, activity("cheer", "a-6", username="bitsy", displayName="Bitsy", amount=100,
                       message="Cheer100 great stream"), "Bitsy cheered 100 bits: great stream"),
    Case(ACT, activity("raid", "a-7", username="raider", displayName="Raider", amount=42),
         "Raider is raiding with 42 viewers"),
    Case(ACT, activity("channelPointsRedemption", "a-8", username="pointy",
                       displayName="Pointy", redemption=REWARD, amount=500, quantity=1,
                       message="read this please"), "Pointy says: read this please"),
    Case(ACT, activity("tip", "a-9", provider="kick", username="kicker", displayName="Kicker",
                       amount=3, currency="GBP", message="cheers"),
         "Kicker donated 3 pounds: cheers"),
]
