"""Streamer.bot events -> our events (pure: no sockets, no threads, no clock).

``translate(source, kind, data, settings, timestamp)`` turns one Streamer.bot event
into the actions the event translator takes: ``Speak(event_type, fields)`` (fields as
``StreamerBotIntegration.submit`` takes them, the listener's event format) or
``Remove(kind, fields)`` (``chat_deleted``, ``user_banned``, ``user_timeout``). It
returns None for an event it does not read, and raises ``Malformed`` for a payload it
cannot make sense of.

Streamer.bot's payloads come in three generations (the current documented schemas,
the 0.1.x shapes with the text at ``message.message``, and EventSub-style names such
as ``from_broadcaster_user_name``); every field is looked up under each spelling, the
first one present wins. Test events (``isTest``) are read like real ones.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tts_core.config import STREAMERBOT_EVENTS, StreamerBotConnectorConfig
from tts_core.connectors.actions import Action, Remove, Speak
from tts_core.listener.protocol import REMOVAL_SCHEMAS, ProtocolError, parse_frame

ANONYMOUS = "Anonymous"
MOD_ROLE = 3  # Streamer.bot's user roles: 1 viewer, 2 VIP, 3 moderator, 4 broadcaster
# Cheermotes at the start of words ("Cheer100 great stream") are not read.
_CHEERMOTE = re.compile(
    r"(?i)(?<!\S)(?:cheer|anon|biblethump|cheerwhal|corgo|uni|showlove|party|seemsgood|pride|kappa|"
    r"frankerz|heyguys|dansgame|elegiggle|trihard|kreygasm|4head|swiftrage|notlikethis|failfish|vohiyo|"
    r"pjsalt|mrdestructoid|bday|ripcheer|shamrock|doodlecheer)\d+(?!\S)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


class Malformed(ValueError):
    """A payload that lacks what its event needs (or has it in a shape we do not know)."""




@dataclass(frozen=True)
class Mapped:
    """What one Streamer.bot event becomes: ``actions`` (none: read, nothing to say), the
    ``event_id`` duplicates are recognised by (None: no id), ``is_test`` (a test button)."""

    actions: tuple[Action, ...]
    event_id: str | None
    is_test: bool = False


def canonical_source(source: object) -> str | None:
    """``Twitch`` for ``twitch`` (old servers list lowerCamel sources); None if unknown."""
    if not isinstance(source, str):
        return None
    for name in STREAMERBOT_EVENTS:
        if name.casefold() == source.casefold():
            return name
    return None


def supported(source: object, kind: object) -> bool:
    name = canonical_source(source)
    return name is not None and kind in STREAMERBOT_EVENTS[name]


def translate(source: object, kind: object, data: object, settings: StreamerBotConnectorConfig,
              timestamp: object = None) -> Mapped | None:
    """The actions of one event, or None for an event type we do not read."""
    name = canonical_source(source)
    if name is None or not isinstance(kind, str):
        return None
    handler = _HANDLERS.get((name, kind))
    if handler is None:
        return None
    if name == "General" and isinstance(data, str):
        actions = _custom_text(data)
        return Mapped(tuple(actions), _event_id("General", str(kind), {"text": data}, timestamp))
    if not isinstance(data, dict):
        raise Malformed(f"data must be an object, got {type(data).__name__}")
    payload = Payload(data)
    actions = handler(payload, settings)
    return Mapped(tuple(actions), _event_id(name, kind, data, timestamp), payload.is_test)


# -- reading a payload ---------------------------------------------------------------------


class Payload:
    """An event's ``data``: values by dotted path, the first path present wins."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data

    def get(self, *paths: str) -> Any:
        for path in paths:
            value: Any = self.data
            for part in path.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            if value is not None and value != "":
                return value
        return None

    def text(self, *paths: str) -> str | None:
        for path in paths:
            value = self.get(path)
            if isinstance(value, str):
                return value
            if isinstance(value, int) and not isinstance(value, bool):
                return str(value)
        return None

    def number(self, *paths: str) -> float | None:
        for path in paths:
            value = _number(self.get(path))
            if value is not None:
                return value
        return None

    def count(self, *paths: str) -> int | None:
        value = self.number(*paths)
        return None if value is None else int(value)

    def flag(self, *paths: str) -> bool:
        value = self.get(*paths)
        if isinstance(value, str):
            return value.strip().lower() in ("true", "1", "yes")
        return bool(value)

    @property
    def is_test(self) -> bool:
        return self.flag("isTest", "meta.isTest", "is_test")

    # the names and words most events carry

    def viewer(self) -> str:
        """Who did it: the display name before the login, in every generation's spelling."""
        name = self.text("user.name", "user.display_name", "user.displayName", "displayName", "display_name",
                         "userName", "user_name", "user.login", "user.username", "username", "user_login",
                         "message.displayName", "message.username", "from_broadcaster_user_name",
                         "from", "fromName", "from_name", "name", "user")
        if name is None:
            raise Malformed("no user name (user.name, displayName, userName, user_name, username)")
        return name

    def words(self) -> str:
        """The viewer's own text (current ``text``, legacy ``message.message``, or ``message``)."""
        return self.text("text", "message.message", "message.text", "message", "rawInput") or ""

    def currency(self) -> str | None:
        return self.text("currency", "currencyCode", "currency_code")


def _number(value: object) -> float | None:
    """A number, or a number written as text ("13.37", "$5.00", "1,234.50")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        match = _NUMBER.search(value)
        if match is None:
            return None
        digits = match.group(0)
        if "." in digits:
            digits = digits.replace(",", "")
        elif digits.count(",") == 1 and len(digits.split(",")[1]) <= 2:
            digits = digits.replace(",", ".")  # "5,00" (a decimal comma)
        else:
            digits = digits.replace(",", "")
        return float(digits)
    return None


def _event_id(source: str, kind: str, data: Mapping[str, Any], timestamp: object) -> str | None:
    """``Source.Type:<the platform's id>``; else the time stamp and the payload's digest
    (the same frame delivered twice); None when there is neither."""
    payload = Payload(data)
    platform_id = payload.text("id", "eventId", "event_id", "messageId", "message_id", "msgId",
                               "message.msgId", "message.id", "meta.id", "redemptionId", "redemption.id",
                               "txnId", "transactionId", "kofiTransactionId")
    if platform_id is not None:
        return f"{source}.{kind}:{platform_id}"
    if timestamp is None:
        return None
    digest = hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]
    return f"{source}.{kind}@{timestamp}:{digest}"


# -- the events ----------------------------------------------------------------------------

Handler = Callable[[Payload, StreamerBotConnectorConfig], list[Action]]


def _chat(p: Payload, _: StreamerBotConnectorConfig) -> list[Action]:
    role = p.number("user.role", "message.role", "role")
    badges = p.get("user.badges", "message.badges", "badges")
    names = [str(b.get("name", "")) if isinstance(b, Mapping) else str(b)
             for b in (badges if isinstance(badges, list) else [])]
    is_mod = ((role is not None and role >= MOD_ROLE)
              or p.flag("user.isModerator", "user.moderator", "user.isBroadcaster", "user.isOwner",
                        "message.isModerator", "message.isBroadcaster", "isModerator", "isBroadcaster"))
    fields: dict[str, Any] = {
        "username": p.viewer(), "message": p.words(), "is_mod": bool(is_mod), "badges": names,
        "is_subscriber": p.flag("user.subscribed", "user.isSubscribed", "user.isSponsor",
                                "message.subscriber", "isSubscribed"),
    }
    chat_id = p.text("messageId", "message.msgId", "msgId", "message.id", "eventId", "id")
    user_id = p.text("user.id", "message.userId", "userId", "user_id")
    emotes = p.get("emotes", "message.emotes")
    if chat_id is not None:
        fields["chat_message_id"] = chat_id
    if user_id is not None:
        fields["user_id"] = user_id
    if isinstance(emotes, list):
        spans = [e for e in emotes if isinstance(e, Mapping) and "startIndex" in e and "endIndex" in e]
        if spans:
            fields["emotes"] = [{"startIndex": e["startIndex"], "endIndex": e["endIndex"]} for e in spans]
    if p.flag("isFirstMessage", "firstMessage", "message.firstMessage", "user.firstMessage"):
        fields["first_time"] = True
    return [Speak("chat", fields)]


def _follow(p: Payload, _: StreamerBotConnectorConfig) -> list[Action]:
    return [Speak("follow", {"username": p.viewer()})]


def _cheer(p: Payload, _: StreamerBotConnectorConfig) -> list[Action]:
    bits = p.count("bits", "message.bits", "cheer.bits")
    if bits is None:
        raise Malformed("no bits")
    name = ANONYMOUS if p.flag("isAnonymous", "is_anonymous", "anonymous") else p.viewer()
    text = " ".join(_CHEERMOTE.sub("", p.words()).split())
    return [Speak("cheer", {"username": name, "bits": bits, "message": text})]


def _tier(p: Payload) -> str | None:
    if p.flag("is_prime", "isPrime", "subPlan.isPrime"):
        return "Prime"
    return p.text("sub_tier", "subTier", "tier", "subPlan", "sub_plan", "levelName", "level")


def _sub(p: Payload, _: StreamerBotConnectorConfig) -> list[Action]:
    months = p.count("cumulativeMonths", "cumulative_months", "cumulative", "months", "duration_months",
                     "monthsSubscribed", "message.cumulativeMonths") or 1
    fields: dict[str, Any] = {"username": p.viewer(), "months": months, "message": p.words()}
    tier = _tier(p)
    if tier is not None:
        fields["tier"] = tier
    return [Speak("subscription", fields)]


def _gift_sub(p: Payload, _: StreamerBotConnectorConfig) -> list[Action]:
    if p.flag("fromSubBomb", "fromGiftBomb", "from_sub_bomb", "isFromMassGift"):
        return []  # the gift bomb itself was announced
    recipient = p.text("recipient.name", "recipient.display_name", "recipient.login", "recipientDisplayName",
                       "recipientUserName", "recipient_user_name", "recipientName", "recipient")
    if recipient is None:
        recipients = p.get("recipients")
        if isinstance(recipients, list) and len(recipients) == 1:
            only = Payload({"r": recipients[0]})
            recipient = only.text("r.name", "r.display_name", "r.login", "r.username", "r")
    if recipient is None:
        raise Malformed("no recipient (recipient.name, recipientDisplayName, recipientUserName)")
    gifter = ANONYMOUS if p.flag("anonymous", "isAnonymous", "user.anonymous") else p.viewer()
    fields: dict[str, Any] = {"username": gifter, "recipient": recipient}
    tier = _tier(p)
    if tier is not None:
        fields["tier"] = tier
    return [Speak("gift_sub", fields)]


def _gift_bomb(p: Payload, _: StreamerBotConnectorConfig) -> list[Action]:
    count = p.count("total", "gifts", "count", "giftCount", "gift_count", "amount")
    if count is None:
        recipients = p.get("recipients")
        count = len(recipients) if isinstance(recipients, list) else None
    if count is None:
        raise Malformed("no count (total, gifts, count, recipients)")
    gifter = ANONYMOUS if p.flag("anonymous", "isAnonymous", "user.anonymous") else p.viewer()
    fields: dict[str, Any] = {"username": gifter, "count": count}
    tier = _tier(p)
    if tier is not None:
        fields["tier"] = tier
    return [Speak("gift_bomb", fields)]


def _raid(p: Payload, _: StreamerBotConnectorConfig) -> list[Action]:
    name = p.text("from_broadcaster_user_name", "fromBroadcasterUserName", "from_broadcaster_user_login")
    viewers = p.count("viewers", "viewerCount", "viewer_count", "viewersCount")
    return [Speak("raid", {"username": name or p.viewer(), "viewers": viewers or 0})]


def _deleted(p: Payload, _: StreamerBotConnectorConfig) -> list[Action]:
    chat_id = p.text("targetMessageId", "target_message_id", "messageId", "message_id", "msgId", "id")
    if chat_id is None:
        raise Malformed("no id of the deleted message (targetMessageId, messageId)")
    return [Remove("chat_deleted", {"chat_message_id": chat_id})]


def _target(p: Payload) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    name = p.text("target_user_login", "targetUser.login", "target.login", "targetUserName",
                  "target_user_name", "target_user_display", "targetUser.name", "target.name", "user_login",
                  "user.login", "userName", "user_name", "user.name", "username", "bannedUser.username")
    user_id = p.text("target_user_id", "targetUser.id", "target.id", "targetUserId", "user_id", "user.id",
                     "userId", "bannedUser.id")
    if name is not None:
        fields["username"] = name
    if user_id is not None:
        fields["user_id"] = user_id
    if not fields:
        raise Malformed("no banned viewer (target_user_login, user.login, user.id)")
    return fields


def _banned(p: Payload, _: StreamerBotConnectorConfig) -> list[Action]:
    return [Remove("user_banned", _target(p))]


def _timed_out(p: Payload, _: StreamerBotConnectorConfig) -> list[Action]:
    fields = _target(p)
    seconds = p.number("duration", "timeout_duration", "durationSeconds", "duration_seconds")
    if seconds is not None and seconds > 0:
        fields["duration_seconds"] = seconds
    return [Remove("user_timeout", fields)]


def _redemption(p: Payload, settings: StreamerBotConnectorConfig) -> list[Action]:
    title = p.text("reward.title", "rewardName", "reward_title", "reward.name", "title")
    if title is None:
        raise Malformed("no reward title (reward.title, rewardName)")
    wanted = {t.strip().casefold() for t in settings.reward_titles}
    text = p.text("user_input", "userInput", "input", "rawInput", "text") or ""
    if title.strip().casefold() not in wanted or not text.strip():
        return []  # not a TTS reward, or nothing to read
    return [Speak("redemption", {"username": p.viewer(), "reward": title, "message": text})]


def _donation(p: Payload, _: StreamerBotConnectorConfig) -> list[Action]:
    amount = p.number("amount", "formattedAmount", "formatted_amount", "donation.amount")
    if amount is None:
        micros = p.number("microAmount", "micro_amount")
        amount = None if micros is None else micros / 1_000_000
    if amount is None:
        raise Malformed("no amount")
    private = p.get("isPublic", "is_public")
    shown = not (private is False or (isinstance(private, str) and private.lower() == "false"))
    fields: dict[str, Any] = {"donor_name": p.viewer(), "amount": amount,
                              "message": p.words() if shown else ""}
    currency = p.currency()
    if currency is not None:
        fields["currency"] = currency
    return [Speak("donation", fields)]


def _custom(p: Payload, _: StreamerBotConnectorConfig) -> list[Action]:
    return _custom_text(json.dumps(p.data))


def _custom_text(text: str) -> list[Action]:
    """General.Custom: a frame in the listener's own format (docs/listener.md)."""
    try:
        frame = parse_frame(text)
    except ProtocolError as exc:
        raise Malformed(f"not a listener event frame: {exc}") from None
    if frame.kind != "event":
        raise Malformed(f"not a listener event frame: {frame.name!r} is a request")
    if frame.name in REMOVAL_SCHEMAS:
        return [Remove(frame.name, frame.fields)]
    return [Speak(frame.name, frame.fields)]


_HANDLERS: dict[tuple[str, str], Handler] = {
    ("Twitch", "Follow"): _follow, ("Twitch", "Cheer"): _cheer, ("Twitch", "Sub"): _sub,
    ("Twitch", "ReSub"): _sub, ("Twitch", "GiftSub"): _gift_sub, ("Twitch", "GiftBomb"): _gift_bomb,
    ("Twitch", "Raid"): _raid, ("Twitch", "ChatMessage"): _chat, ("Twitch", "ChatMessageDeleted"): _deleted,
    ("Twitch", "UserBanned"): _banned, ("Twitch", "UserTimedOut"): _timed_out,
    ("Twitch", "RewardRedemption"): _redemption,
    ("YouTube", "Message"): _chat, ("YouTube", "SuperChat"): _donation, ("YouTube", "NewSponsor"): _sub,
    ("YouTube", "MemberMileStone"): _sub, ("YouTube", "MembershipGift"): _gift_bomb,
    ("Kick", "ChatMessage"): _chat, ("Kick", "Follow"): _follow, ("Kick", "Subscription"): _sub,
    ("Kick", "GiftSubscription"): _gift_sub, ("Kick", "MassGiftSubscription"): _gift_bomb,
    ("Kick", "UserBanned"): _banned, ("Kick", "UserTimedOut"): _timed_out,
    ("StreamElements", "Tip"): _donation, ("Streamlabs", "Donation"): _donation,
    ("Kofi", "Donation"): _donation, ("Kofi", "Subscription"): _donation,
    ("Kofi", "Resubscription"): _donation,
    ("General", "Custom"): _custom,
}
