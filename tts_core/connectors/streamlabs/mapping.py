"""Streamlabs socket events -> our events (pure: no sockets, no threads, no clock).

Streamlabs sends one socket.io event, ``event``, for every alert:
``{"type": "donation", "for": "streamlabs", "message": [{...}, ...], "event_id": "evt_..."}``.
``for`` names the platform (``streamlabs`` or empty for tips, ``twitch_account``,
``youtube_account``); ``message`` is a list of items, each one alert. Numbers come as
text or as numbers ("13.37", "100", 100); a YouTube Super Chat's ``amount`` is in
millionths of the currency.

``translate(frame, gifts, reward_titles)`` turns one such frame into ``Item``s: the
actions of the event translator (``Speak(event_type, fields)``), the id duplicates are
recognised by, and a label for log lines. A type we do not read gives no items (the
caller logs it at debug level: Streamlabs also sends widget and stream-label updates on
the same event; ``NOT_READ`` says why each known one is left out); a frame or an item
that lacks what it needs raises ``Malformed``. A Cloudbot loyalty store redemption is
read only for the items named in ``reward_titles`` (its fields, ``from``, ``product`` and
``message``, come from Streamlabs Desktop's source and independent clients, not from
Streamlabs' API docs).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from tts_core.connectors.actions import Action, Speak
from tts_core.connectors.streamerbot.mapping import _CHEERMOTE  # the same cheermotes everywhere

ANONYMOUS = "Anonymous"
ANONYMOUS_GIFTERS = frozenset({"anonymous", "anonymousgifter", "ananonymousgifter"})
STREAMLABS, TWITCH, YOUTUBE = "streamlabs", "twitch_account", "youtube_account"
MICROS = 1_000_000  # a Super Chat's amount is in millionths of its currency
REMEMBERED_GIFTERS = 100


class Malformed(ValueError):
    """A frame or an item that lacks what its event needs (or has it in a shape we do not know)."""


@dataclass(frozen=True)
class Item:
    """One alert of a frame: ``actions`` (none: read, nothing to say), the ``event_id``
    duplicates are recognised by (None: no id), a ``label`` for log lines, ``is_test``
    (sent by a test button of the Streamlabs dashboard)."""

    actions: tuple[Action, ...]
    event_id: str | None
    label: str
    is_test: bool = False


class GiftBombs:
    """The gifted subs a gift bomb has announced already: after "Ann gifted 5 subs", the
    five single gifts that Streamlabs sends next are not read one by one."""

    def __init__(self, limit: int = REMEMBERED_GIFTERS) -> None:
        self.limit = limit
        self._left: OrderedDict[str, int] = OrderedDict()
        self._bombs: OrderedDict[str, None] = OrderedDict()  # the ids of gift bombs counted

    def announced(self, gifter: str, count: int, event_id: str | None = None) -> None:
        """``gifter`` gifted ``count`` subs at once (a repeat of ``event_id`` counts once)."""
        if event_id is not None:
            if event_id in self._bombs:
                return
            self._bombs[event_id] = None
            while len(self._bombs) > self.limit:
                self._bombs.popitem(last=False)
        key = gifter.casefold()
        self._left[key] = self._left.get(key, 0) + max(0, count)
        self._left.move_to_end(key)
        while len(self._left) > self.limit:
            self._left.popitem(last=False)

    def covers(self, gifter: str) -> bool:
        """True (and one fewer left) if a gift bomb of ``gifter`` announced this gift."""
        key = gifter.casefold()
        left = self._left.get(key, 0)
        if left <= 0:
            return False
        if left == 1:
            del self._left[key]
        else:
            self._left[key] = left - 1
        return True


def platform(frame: Mapping[str, Any]) -> str:
    """``streamlabs`` (tips: ``for`` missing, empty or "streamlabs"), ``twitch_account``, ..."""
    value = frame.get("for")
    return value if isinstance(value, str) and value.strip() else STREAMLABS


def translate(frame: object, gifts: GiftBombs | None = None, reward_titles: Iterable[str] = ()) -> list[Item]:
    """The items of one ``event`` frame; [] for a type we do not read. ``reward_titles``:
    the loyalty store items whose viewer message is read (upper or lower case alike)."""
    if not isinstance(frame, Mapping):
        raise Malformed(f"an event must be an object, got {type(frame).__name__}")
    kind = frame.get("type")
    if not isinstance(kind, str):
        raise Malformed("no type")
    where = platform(frame)
    handler = _HANDLERS.get((where, kind)) or _HANDLERS.get(("*", kind))
    if handler is _loyalty_redemption:
        handler = partial(_loyalty_redemption, wanted={t.strip().casefold() for t in reward_titles})
    if handler is None:
        return []
    messages = frame.get("message")
    if isinstance(messages, Mapping):
        messages = [messages]  # documented as always a list; one object is read as one item
    if not isinstance(messages, list):
        raise Malformed("message must be a list of alerts")
    label = f"{where}.{kind}"
    given = frame.get("event_id")
    top_id = given if isinstance(given, str) and given else None
    gifts = gifts if gifts is not None else GiftBombs()
    items = []
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise Malformed(f"message[{index}] must be an object, got {type(message).__name__}")
        event_id = _event_id(top_id, message, index, len(messages))
        actions = handler(message, gifts, event_id)
        items.append(Item(tuple(actions), event_id, label, _flag(message.get("isTest"))))
    return items


def _event_id(top_id: str | None, message: Mapping[str, Any], index: int, count: int) -> str | None:
    """The frame's ``event_id`` (per item when it carries several); else the item's own id."""
    if top_id is not None:
        return top_id if count == 1 else f"{top_id}#{index}"
    for key in ("event_id", "_id", "id"):
        value = message.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            return f"{key}:{value}"
    return None


# -- reading an item ----------------------------------------------------------------------------


def _text(message: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = message.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _name(message: Mapping[str, Any], *keys: str) -> str:
    keys = keys or ("display_name", "name", "from")
    name = _text(message, *keys)
    if name is None:
        raise Malformed(f"no viewer name ({', '.join(keys)})")
    return name


def _number(value: object) -> float | None:
    """A number, or a number written as text ("13.37", "100"); None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", ""))
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value) and value >= 0:
        return float(value)
    return None


def _count(message: Mapping[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = _number(message.get(key))
        if value is not None:
            return int(value)
    return None


def _flag(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "1"))


def _words(message: Mapping[str, Any], *keys: str) -> str:
    return _text(message, *(keys or ("message",))) or ""


def _with(fields: dict[str, Any], key: str, value: object) -> dict[str, Any]:
    if value is not None:
        fields[key] = value
    return fields


def _gifter(message: Mapping[str, Any]) -> tuple[str, str] | None:
    """(who to name, the key gift bombs are counted by), or None when nobody gifted."""
    login = _text(message, "gifter", "gifter_name")
    shown = _text(message, "gifter_display_name") or login
    if shown is None:
        return None
    if (login or shown).casefold() in ANONYMOUS_GIFTERS or shown.casefold() in ANONYMOUS_GIFTERS:
        return ANONYMOUS, ANONYMOUS
    return shown, login or shown


# -- the events ---------------------------------------------------------------------------------

Handler = Callable[[Mapping[str, Any], GiftBombs, str | None], list[Action]]


def _donation(m: Mapping[str, Any], _: GiftBombs, __: str | None) -> list[Action]:
    amount = _number(m.get("amount"))
    if amount is None:
        raise Malformed("no amount")
    fields: dict[str, Any] = {"donor_name": _name(m, "from", "name", "display_name"), "amount": amount,
                              "message": _words(m)}
    return [Speak("donation", _with(fields, "currency", _text(m, "currency", "donation_currency")))]


def _superchat(m: Mapping[str, Any], _: GiftBombs, __: str | None) -> list[Action]:
    micros = _number(m.get("amount"))
    if micros is None:
        raise Malformed("no amount (in millionths of the currency)")
    fields: dict[str, Any] = {"donor_name": _name(m, "name", "display_name", "from"),
                              "amount": round(micros / MICROS, 2), "message": _words(m, "comment", "message")}
    return [Speak("donation", _with(fields, "currency", _text(m, "currency")))]


def _follow(m: Mapping[str, Any], _: GiftBombs, __: str | None) -> list[Action]:
    return [Speak("follow", {"username": _name(m)})]


def _twitch_sub(m: Mapping[str, Any], gifts: GiftBombs, __: str | None) -> list[Action]:
    gifter = _gifter(m)
    if gifter is not None or _text(m, "sub_type", "type") == "subgift":
        shown, key = gifter or (ANONYMOUS, ANONYMOUS)
        if gifts.covers(key):
            return []  # the gift bomb that holds this gift was read
        fields: dict[str, Any] = {"username": shown, "recipient": _name(m)}
        return [Speak("gift_sub", _with(fields, "tier", _text(m, "sub_plan", "subPlan")))]
    fields = {"username": _name(m), "months": _count(m, "months") or 1, "message": _words(m)}
    return [Speak("subscription", _with(fields, "tier", _text(m, "sub_plan", "subPlan")))]


def _gift_bomb(m: Mapping[str, Any], gifts: GiftBombs, event_id: str | None) -> list[Action]:
    count = _count(m, "amount", "gift_count", "count")
    if count is None or count < 1:
        raise Malformed("no number of gifted subs (amount)")
    shown, key = _gifter(m) or (_name(m), _name(m, "name", "display_name"))
    gifts.announced(key, count, event_id)
    return [Speak("gift_bomb", _with({"username": shown, "count": count}, "tier",
                                     _text(m, "sub_plan", "subPlan")))]


def _cheer(m: Mapping[str, Any], _: GiftBombs, __: str | None) -> list[Action]:
    bits = _count(m, "amount", "bits")
    if bits is None:
        raise Malformed("no number of bits (amount)")
    text = " ".join(_CHEERMOTE.sub("", _words(m)).split())
    return [Speak("cheer", {"username": _name(m), "bits": bits, "message": text})]


def _raid(m: Mapping[str, Any], _: GiftBombs, __: str | None) -> list[Action]:
    return [Speak("raid", {"username": _name(m), "viewers": _count(m, "raiders", "viewers", "amount") or 0})]


def _member(m: Mapping[str, Any], _: GiftBombs, __: str | None) -> list[Action]:
    fields: dict[str, Any] = {"username": _name(m), "months": _count(m, "months") or 1, "message": _words(m)}
    return [Speak("subscription", _with(fields, "tier", _text(m, "membershipLevelName", "levelName")))]


def _membership_gift(m: Mapping[str, Any], _: GiftBombs, __: str | None) -> list[Action]:
    count = _count(m, "amount", "giftMembershipsCount")
    if count is None:
        return []  # a viewer who received a gifted membership: the gift itself was read
    if count < 1:
        raise Malformed("no number of gifted memberships (amount)")
    fields: dict[str, Any] = {"username": _name(m), "count": count}
    return [Speak("gift_bomb", _with(fields, "tier", _text(m, "levelName", "giftMembershipsLevelName")))]


def _loyalty_redemption(m: Mapping[str, Any], _: GiftBombs, __: str | None,
                        wanted: frozenset[str] | set[str] = frozenset()) -> list[Action]:
    product = _text(m, "product")
    if product is None:
        raise Malformed("no loyalty store item (product)")
    text = _words(m)
    if product.strip().casefold() not in wanted or not text:
        return []  # not a TTS item (connectors.streamlabs.reward_titles), or nothing to read
    return [Speak("redemption", {"username": _name(m, "from", "display_name", "name"), "reward": product,
                                 "message": text})]


_HANDLERS: dict[tuple[str, str], Handler] = {
    ("*", "donation"): _donation, (STREAMLABS, "loyalty_store_redemption"): _loyalty_redemption,
    (TWITCH, "follow"): _follow, (TWITCH, "subscription"): _twitch_sub, (TWITCH, "resub"): _twitch_sub,
    (TWITCH, "subMysteryGift"): _gift_bomb, (TWITCH, "bits"): _cheer, (TWITCH, "raid"): _raid,
    (YOUTUBE, "follow"): _follow, (YOUTUBE, "subscription"): _member, (YOUTUBE, "superchat"): _superchat,
    (YOUTUBE, "membershipGift"): _membership_gift,
}
# Every (platform, type) read, for the docs and the tests.
READ = tuple(_HANDLERS)
# The alert types Streamlabs is known to send that are left out on purpose, and why
# (docs/connectors.md lists them; each one is a debug line in the log).
NOT_READ = {
    "host": "Twitch ended hosting in 2022 (and Mixer closed in 2020)",
    "merch": "a store purchase: none of our events says what was bought",
    "prime_sub_gift": "a Prime gift to the streamer, not a viewer's alert",
    "streamlabels": "a stream label update (totals, top donors), not an alert",
    "streamlabels.underlying": "a stream label update, not an alert",
    "alertPlaying": "Streamlabs' alert box playing an alert it already sent (it would be read twice)",
    "streamlabscharitydonation": "its payload is not documented",
    "pledge": "a Patreon pledge; its payload is not documented",
    "eldonation": "an Extra Life donation; its payload is not documented",
    "tiltifydonation": "a Tiltify donation; its payload is not documented",
    "donordrivedonation": "a DonorDrive donation; its payload is not documented",
    "justgivingdonation": "a JustGiving donation; its payload is not documented",
    "treat": "a TreatStream treat; its payload is not documented",
}
