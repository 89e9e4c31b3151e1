"""Twitch EventSub notifications -> our events (pure: no sockets, no threads, no clock).

``SUBSCRIPTIONS`` says, per EventSub type we read, its version, the condition it is
created with and the scope the token needs. ``translate(kind, event, settings)`` turns
one notification's ``payload.event`` into the actions of the event translator:
``Speak(event_type, fields)`` or ``Remove(kind, fields)``; it returns None for a type
we do not read and raises ``Malformed`` for an event that lacks what it needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tts_core.config.sections import TwitchConnectorConfig
from tts_core.connectors.actions import Action, Remove, Speak
from tts_core.connectors.streamerbot.mapping import _CHEERMOTE  # the same cheermotes, in chat and cheers

ANONYMOUS = "Anonymous"
MOD_BADGES = ("moderator", "broadcaster")


class Malformed(ValueError):
    """An event that lacks what it needs (or has it in a shape we do not know)."""


@dataclass(frozen=True)
class Subscription:
    """How one EventSub type is created: ``version``, the ``condition`` keys (each filled
    with the broadcaster's id, or ``user_id`` keys with the logged-in account's) and the
    ``scope`` the token needs (None: none)."""

    version: str
    condition: tuple[str, ...]
    scope: str | None


SUBSCRIPTIONS: dict[str, Subscription] = {
    "channel.follow": Subscription(
        "2", ("broadcaster_user_id", "moderator_user_id"), "moderator:read:followers"
    ),
    "channel.subscribe": Subscription("1", ("broadcaster_user_id",), "channel:read:subscriptions"),
    "channel.subscription.message": Subscription("1", ("broadcaster_user_id",), "channel:read:subscriptions"),
    "channel.subscription.gift": Subscription("1", ("broadcaster_user_id",), "channel:read:subscriptions"),
    "channel.cheer": Subscription("1", ("broadcaster_user_id",), "bits:read"),
    "channel.raid": Subscription("1", ("to_broadcaster_user_id",), None),
    "channel.channel_points_custom_reward_redemption.add": Subscription(
        "1", ("broadcaster_user_id",), "channel:read:redemptions"
    ),
    "channel.chat.message": Subscription("1", ("broadcaster_user_id", "user_id"), "user:read:chat"),
    "channel.chat.message_delete": Subscription("1", ("broadcaster_user_id", "user_id"), "user:read:chat"),
    "channel.chat.clear_user_messages": Subscription(
        "1", ("broadcaster_user_id", "user_id"), "user:read:chat"
    ),
    "channel.ban": Subscription("1", ("broadcaster_user_id",), "channel:moderate"),
}


def scopes_for(kinds: list[str] | tuple[str, ...]) -> list[str]:
    """The scopes the token needs for ``kinds`` (sorted, each once)."""
    return sorted({s.scope for k in kinds if (s := SUBSCRIPTIONS.get(k)) is not None and s.scope})


def condition(kind: str, broadcaster_id: str, user_id: str) -> dict[str, str]:
    """The ``condition`` of a subscription to ``kind`` on the channel ``broadcaster_id``,
    read by the account ``user_id`` (the one logged in)."""
    return {
        key: user_id if key in ("moderator_user_id", "user_id") else broadcaster_id
        for key in SUBSCRIPTIONS[kind].condition
    }


def translate(kind: str, event: object, settings: TwitchConnectorConfig) -> tuple[Action, ...] | None:
    """The actions of one notification (none: read, nothing to say), or None for a type
    we do not read."""
    handler = _HANDLERS.get(kind)
    if handler is None:
        return None
    if not isinstance(event, Mapping):
        raise Malformed(f"event must be an object, got {type(event).__name__}")
    return tuple(handler(event, settings))


# -- reading an event ---------------------------------------------------------------------------


def _text(event: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value: Any = event
        for part in key.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if isinstance(value, str) and value.strip():
            return value
    return None


def _name(event: Mapping[str, Any], *keys: str) -> str:
    name = _text(event, *keys)
    if name is None:
        raise Malformed(f"no user name ({', '.join(keys)})")
    return name


def _count(event: Mapping[str, Any], key: str) -> int | None:
    value = event.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return int(value)


def _tier(event: Mapping[str, Any]) -> str | None:
    return _text(event, "tier")  # "1000", "2000", "3000" as Streamer.bot passes them too


def _with_tier(fields: dict[str, Any], event: Mapping[str, Any]) -> dict[str, Any]:
    tier = _tier(event)
    if tier is not None:
        fields["tier"] = tier
    return fields


# -- the events ---------------------------------------------------------------------------------

Handler = Callable[[Mapping[str, Any], TwitchConnectorConfig], list[Action]]


def _follow(e: Mapping[str, Any], _: TwitchConnectorConfig) -> list[Action]:
    return [Speak("follow", {"username": _name(e, "user_name", "user_login")})]


def _subscribe(e: Mapping[str, Any], _: TwitchConnectorConfig) -> list[Action]:
    if e.get("is_gift") is True:
        return []  # the gift was announced by channel.subscription.gift
    return [
        Speak(
            "subscription",
            _with_tier({"username": _name(e, "user_name", "user_login"), "months": 1, "message": ""}, e),
        )
    ]


def _resub(e: Mapping[str, Any], _: TwitchConnectorConfig) -> list[Action]:
    months = _count(e, "cumulative_months") or _count(e, "duration_months") or 1
    return [
        Speak(
            "subscription",
            _with_tier(
                {
                    "username": _name(e, "user_name", "user_login"),
                    "months": months,
                    "message": _text(e, "message.text") or "",
                },
                e,
            ),
        )
    ]


def _gift(e: Mapping[str, Any], _: TwitchConnectorConfig) -> list[Action]:
    count = _count(e, "total")
    if count is None or count < 1:
        raise Malformed("no total of gifted subs")
    anonymous = e.get("is_anonymous") is True or _text(e, "user_name", "user_login") is None
    gifter = ANONYMOUS if anonymous else _name(e, "user_name", "user_login")
    return [Speak("gift_bomb", _with_tier({"username": gifter, "count": count}, e))]


def _cheer(e: Mapping[str, Any], _: TwitchConnectorConfig) -> list[Action]:
    bits = _count(e, "bits")
    if bits is None:
        raise Malformed("no bits")
    anonymous = e.get("is_anonymous") is True or _text(e, "user_name", "user_login") is None
    name = ANONYMOUS if anonymous else _name(e, "user_name", "user_login")
    text = " ".join(_CHEERMOTE.sub("", _text(e, "message") or "").split())
    return [Speak("cheer", {"username": name, "bits": bits, "message": text})]


def _raid(e: Mapping[str, Any], _: TwitchConnectorConfig) -> list[Action]:
    return [
        Speak(
            "raid",
            {
                "username": _name(e, "from_broadcaster_user_name", "from_broadcaster_user_login"),
                "viewers": _count(e, "viewers") or 0,
            },
        )
    ]


def _redemption(e: Mapping[str, Any], settings: TwitchConnectorConfig) -> list[Action]:
    title = _text(e, "reward.title")
    if title is None:
        raise Malformed("no reward title (reward.title)")
    wanted = {t.strip().casefold() for t in settings.reward_titles}
    text = _text(e, "user_input") or ""
    if title.strip().casefold() not in wanted or not text.strip():
        return []  # not a TTS reward, or nothing to read
    return [
        Speak(
            "redemption", {"username": _name(e, "user_name", "user_login"), "reward": title, "message": text}
        )
    ]


def _chat(e: Mapping[str, Any], _: TwitchConnectorConfig) -> list[Action]:
    source = _text(e, "source_broadcaster_user_id")
    if source is not None and source != _text(e, "broadcaster_user_id"):
        return []  # Shared Chat: a line written in another channel's chat is not read here
    message = e.get("message")
    if not isinstance(message, Mapping) or not isinstance(message.get("text"), str):
        raise Malformed("no message.text")
    badges = [str(b.get("set_id", "")) for b in e.get("badges") or [] if isinstance(b, Mapping)]
    fields: dict[str, Any] = {
        "username": _name(e, "chatter_user_name", "chatter_user_login"),
        "message": message["text"],
        "is_mod": any(b in MOD_BADGES for b in badges),
        "badges": badges,
        "is_subscriber": any(b in ("subscriber", "founder") for b in badges),
    }
    chat_id, user_id = _text(e, "message_id"), _text(e, "chatter_user_id")
    if chat_id is not None:
        fields["chat_message_id"] = chat_id
    if user_id is not None:
        fields["user_id"] = user_id
    emotes = _emote_spans(message.get("fragments"))
    if emotes:
        fields["emotes"] = emotes
    return [Speak("chat", fields)]


def _emote_spans(fragments: object) -> list[dict[str, int]]:
    """Where the emotes (and cheermotes) are in the text, as the chat event's ``emotes``
    (first and last character, counted in code points)."""
    spans, at = [], 0
    for fragment in fragments if isinstance(fragments, list) else []:
        text = fragment.get("text") if isinstance(fragment, Mapping) else None
        if not isinstance(text, str):
            return []  # positions unknown from here on
        if fragment.get("type") in ("emote", "cheermote") and text:
            spans.append({"startIndex": at, "endIndex": at + len(text) - 1})
        at += len(text)
    return spans


def _deleted(e: Mapping[str, Any], _: TwitchConnectorConfig) -> list[Action]:
    chat_id = _text(e, "message_id")
    if chat_id is None:
        raise Malformed("no message_id of the deleted message")
    return [Remove("chat_deleted", {"chat_message_id": chat_id})]


def _target(e: Mapping[str, Any], *prefixes: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for prefix in prefixes:
        name, user_id = _text(e, f"{prefix}user_login"), _text(e, f"{prefix}user_id")
        if name is not None:
            fields["username"] = name
        if user_id is not None:
            fields["user_id"] = user_id
        if fields:
            return fields
    raise Malformed(f"no viewer ({prefixes[0]}user_login, {prefixes[0]}user_id)")


def _cleared(e: Mapping[str, Any], _: TwitchConnectorConfig) -> list[Action]:
    return [Remove("user_timeout", _target(e, "target_"))]


def _ban(e: Mapping[str, Any], _: TwitchConnectorConfig) -> list[Action]:
    fields = _target(e, "")
    if e.get("is_permanent") is not False:
        return [Remove("user_banned", fields)]
    seconds = _seconds_between(_text(e, "banned_at"), _text(e, "ends_at"))
    if seconds is not None and seconds > 0:
        fields["duration_seconds"] = seconds
    return [Remove("user_timeout", fields)]


def _seconds_between(start: str | None, end: str | None) -> float | None:
    if start is None or end is None:
        return None
    try:
        return round((_instant(end) - _instant(start)).total_seconds(), 3)
    except ValueError:
        return None


def _instant(text: str) -> datetime:
    """An RFC 3339 time stamp as Twitch writes it (nanoseconds, ``Z``)."""
    text = text.strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # at most microseconds for fromisoformat before Python 3.11
        digits = rest[: len(rest) - len(rest.lstrip("0123456789"))]
        zone = rest[len(digits) :]
        text = f"{head}.{(digits + '000000')[:6]}{zone}"
    return datetime.fromisoformat(text)


_HANDLERS: dict[str, Handler] = {
    "channel.follow": _follow,
    "channel.subscribe": _subscribe,
    "channel.subscription.message": _resub,
    "channel.subscription.gift": _gift,
    "channel.cheer": _cheer,
    "channel.raid": _raid,
    "channel.channel_points_custom_reward_redemption.add": _redemption,
    "channel.chat.message": _chat,
    "channel.chat.message_delete": _deleted,
    "channel.chat.clear_user_messages": _cleared,
    "channel.ban": _ban,
}
