"""StreamElements Astro messages -> our events (pure: no sockets, no threads, no clock).

``translate(topic, data, settings, tips_topic)`` turns one message's ``data`` into a
``Mapped``: the actions of the event translator (``Speak(event_type, fields)``), the
id repeats are recognised by, and, when nothing is said, why. It returns None for an
activity type we do not read and raises ``Malformed`` for a payload that lacks what
it needs.

Tips come on both topics: ``channel.tips`` (with StreamElements' moderation verdict,
``approved``) and as a ``tip`` activity on ``channel.activities``. While
``channel.tips`` is subscribed (``tips_topic``) a tip is read from there only, so it
is read once; a tip that is not approved (``pending``, ``rejected``) or whose payment
did not succeed is not read, and its id is not remembered, so the same tip is read
when it comes again approved.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tts_core.config.streamelements import StreamElementsConnectorConfig
from tts_core.connectors.actions import Action, Speak
from tts_core.connectors.streamerbot.mapping import _CHEERMOTE  # the same cheermotes in every cheer

ACTIVITIES, TIPS = "channel.activities", "channel.tips"
TOPICS = (ACTIVITIES, TIPS)
APPROVED = ("allowed", "approved")
PAID = ("success", "succeeded", "completed")


class Malformed(ValueError):
    """A payload that lacks what it needs (or has it in a shape we do not know)."""


@dataclass(frozen=True)
class Mapped:
    """What one message becomes: ``actions`` (none: nothing to say, ``skipped`` says why),
    ``event_id`` (None: not remembered as read), ``label`` (for logs and counts)."""

    actions: tuple[Action, ...]
    event_id: str | None
    label: str
    skipped: str | None = None


def translate(topic: str, data: object, settings: StreamElementsConnectorConfig,
              tips_topic: bool) -> Mapped | None:
    """One message of ``topic``; ``tips_topic``: whether channel.tips is subscribed."""
    if not isinstance(data, Mapping):
        raise Malformed(f"data must be an object, got {type(data).__name__}")
    if topic == TIPS:
        return _tip_message(data, settings)
    if topic != ACTIVITIES:
        return None
    kind = data.get("type")
    handler = _ACTIVITIES.get(kind) if isinstance(kind, str) else None
    if handler is None or not isinstance(kind, str):
        return None
    label = f"activity {kind}"
    activity_id = _text(data, "_id", "activityId")
    event_id = f"activity:{activity_id}" if activity_id else None
    if not settings.takes(kind):
        return Mapped((), event_id, label, f"{kind} is not in connectors.streamelements.events")
    if kind == "tip" and tips_topic:
        return Mapped((), None, label, "tips are read from channel.tips")
    fields = data.get("data")
    if not isinstance(fields, Mapping):
        raise Malformed("no data object in the activity")
    return Mapped(tuple(handler(fields, settings)), event_id, label)


# -- reading a payload ----------------------------------------------------------------------------


def _text(data: Mapping[str, Any], *keys: str) -> str | None:
    """The first non-empty text under ``keys`` (dotted paths)."""
    for key in keys:
        value: Any = data
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _name(data: Mapping[str, Any], *keys: str) -> str:
    name = _text(data, *keys)
    if name is None:
        raise Malformed(f"no user name ({', '.join(keys)})")
    return name


def _number(data: Mapping[str, Any], key: str) -> float | None:
    value: Any = data
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return value


def _count(data: Mapping[str, Any], key: str) -> int | None:
    number = _number(data, key)
    return None if number is None else int(number)


def _flag(data: Mapping[str, Any], *keys: str) -> bool:
    return any(data.get(key) is True for key in keys)


def _tier(data: Mapping[str, Any]) -> str | None:
    tier = _text(data, "tier")
    if tier is not None and tier.lower() == "prime":
        return "Prime"
    return tier  # "1000", "2000", "3000" as Twitch and Streamer.bot pass them


def _with_tier(fields: dict[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    tier = _tier(data)
    if tier is not None:
        fields["tier"] = tier
    return fields


def _viewer(data: Mapping[str, Any]) -> str:
    return _name(data, "displayName", "username", "name")


# -- the tips topic -------------------------------------------------------------------------------


def _tip_message(data: Mapping[str, Any], settings: StreamElementsConnectorConfig) -> Mapped:
    tip_id = _text(data, "_id", "tipId", "transactionId")
    label = "tip"
    if not settings.takes("tip"):
        return Mapped((), None, label, "tip is not in connectors.streamelements.events")
    approved = data.get("approved")
    if approved is not None and approved is not True and str(approved).lower() not in APPROVED:
        return Mapped((), None, label, f"not approved ({approved})")
    status = data.get("status")
    if status is not None and str(status).lower() not in PAID:
        return Mapped((), None, label, f"payment not completed ({status})")
    donation = data.get("donation")
    if not isinstance(donation, Mapping):
        raise Malformed("no donation object in the tip")
    return Mapped((_donation(donation, "user.username", "user.name", "name", "username"),),
                  f"tip:{tip_id}" if tip_id else None, label)


def _donation(data: Mapping[str, Any], *name_keys: str) -> Speak:
    amount = _number(data, "amount")
    if amount is None:
        raise Malformed("no amount")
    fields: dict[str, Any] = {"donor_name": _name(data, *name_keys), "amount": amount,
                              "message": _text(data, "message") or ""}
    currency = _text(data, "currency")
    if currency is not None:
        fields["currency"] = currency
    return Speak("donation", fields)


# -- the activities topic -------------------------------------------------------------------------

Handler = Callable[[Mapping[str, Any], StreamElementsConnectorConfig], list[Action]]


def _tip(d: Mapping[str, Any], _: StreamElementsConnectorConfig) -> list[Action]:
    return [_donation(d, "displayName", "username", "name")]


def _follow(d: Mapping[str, Any], _: StreamElementsConnectorConfig) -> list[Action]:
    return [Speak("follow", {"username": _viewer(d)})]


def _subscriber(d: Mapping[str, Any], _: StreamElementsConnectorConfig) -> list[Action]:
    if _flag(d, "bulkGifted", "isCommunityGift", "communityGifted", "playedAsCommunityGift"):
        return []  # one sub of a community gift: the gift (communityGiftPurchase) was announced
    if _flag(d, "gifted") and _text(d, "sender") is not None:
        return [Speak("gift_sub", _with_tier({"username": _name(d, "sender"), "recipient": _viewer(d)}, d))]
    months = _count(d, "amount") or 1
    return [Speak("subscription", _with_tier(
        {"username": _viewer(d), "months": max(1, months), "message": _text(d, "message") or ""}, d))]


def _community_gift(d: Mapping[str, Any], _: StreamElementsConnectorConfig) -> list[Action]:
    count = _count(d, "amount")
    if count is None or count < 1:
        raise Malformed("no number of gifted subs (amount)")
    return [Speak("gift_bomb", _with_tier({"username": _viewer(d), "count": count}, d))]


def _cheer(d: Mapping[str, Any], _: StreamElementsConnectorConfig) -> list[Action]:
    bits = _count(d, "amount")
    if bits is None:
        raise Malformed("no bits (amount)")
    text = " ".join(_CHEERMOTE.sub("", _text(d, "message") or "").split())
    return [Speak("cheer", {"username": _viewer(d), "bits": bits, "message": text})]


def _raid(d: Mapping[str, Any], _: StreamElementsConnectorConfig) -> list[Action]:
    return [Speak("raid", {"username": _viewer(d), "viewers": _count(d, "amount") or 0})]


def _redemption(d: Mapping[str, Any], settings: StreamElementsConnectorConfig) -> list[Action]:
    title = _text(d, "redemption", "reward.title", "title")
    if title is None:
        raise Malformed("no reward title (redemption)")
    wanted = {t.strip().casefold() for t in settings.reward_titles}
    text = _text(d, "message", "user_input", "input") or ""
    if title.casefold() not in wanted or not text:
        return []  # not a TTS reward, or nothing to read
    return [Speak("redemption", {"username": _viewer(d), "reward": title, "message": text})]


_ACTIVITIES: dict[str, Handler] = {
    "tip": _tip,
    "follow": _follow,
    "subscriber": _subscriber,
    "communityGiftPurchase": _community_gift,
    "cheer": _cheer,
    "raid": _raid,
    "channelPointsRedemption": _redemption,
}
