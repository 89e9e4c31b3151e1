"""Removal: a deleted chat line, a banned or timed-out viewer, a moderator's Remove.

The matching pending and held messages are dropped (``dropped`` events with the
reason), the clip playing now is skipped if it matches (``skip_playing_on_removal``),
and a banned or timed-out viewer is blocked for a while so that what they send next
is refused too (``ban_block_seconds``; a time-out's own duration when it has one).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from tts_core.config import ModerationConfig
from tts_core.ingest.moderation.gates import Memory, user_key

log = logging.getLogger(__name__)

REMOVAL_EVENTS = ("chat_deleted", "user_banned", "user_timeout")
MAX_EMOTE_SPANS = 500


class _Queue(Protocol):
    def remove_where(self, predicate: Callable[[Any], bool], reason: str,
                     skip_playing: bool = False) -> tuple[list[str], str | None]: ...


class Removal:
    """Parameters: ``manager`` (has ``remove_where``), ``config`` (ModerationConfig),
    ``memory`` (where blocks are kept), ``clock`` (monotonic seconds, the clock of the
    ``now`` the gates are given)."""

    def __init__(self, manager: _Queue, config: ModerationConfig, memory: Memory,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.manager = manager
        self.config = config
        self.memory = memory
        self.clock = clock

    def handle(self, kind: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """``kind``: chat_deleted (``chat_message_id``), user_banned / user_timeout
        (``username`` or ``user_id``; ``duration_seconds`` for a time-out), or remove
        (a moderator: ``message_id``, ``chat_message_id``, ``username`` or ``user_id``).
        Returns ``{"removed": [ids], "skipped": id or None}``; raises ValueError when
        nothing identifies what to remove."""
        if kind not in (*REMOVAL_EVENTS, "remove"):
            raise ValueError(f"unknown removal {kind!r}; expected one of {', '.join(REMOVAL_EVENTS)}, remove")
        matches = _predicate(fields)
        seen: set[str] = set()  # the banned viewer's other name or id, learnt from their messages

        def predicate(msg: Any) -> bool:
            if not matches(msg):
                return False
            seen.update(w for w in (msg.username, (msg.metadata or {}).get("user_id")) if w)
            return True

        if kind == "chat_deleted" and not self.config.remove_on_delete:
            return {"removed": [], "skipped": None, "off": "remove_on_delete"}
        banned = kind in ("user_banned", "user_timeout")
        if banned and not self.config.remove_on_ban:
            return {"removed": [], "skipped": None, "off": "remove_on_ban",
                    "blocked_seconds": self._block(kind, fields, seen)}
        skip = self.config.skip_playing_on_removal if fields.get("skip_playing") is None \
            else bool(fields["skip_playing"])
        reason = kind if kind != "remove" else "moderator"
        removed, skipped = self.manager.remove_where(predicate, reason, skip)
        log.info("%s: removed %d message(s)%s", kind, len(removed), f", skipped {skipped}" if skipped else "")
        if banned:
            blocked = self._block(kind, fields, seen)
            return {"removed": removed, "skipped": skipped, "blocked_seconds": blocked}
        return {"removed": removed, "skipped": skipped}

    def _block(self, kind: str, fields: Mapping[str, Any], also: set[str]) -> float:
        """Block the viewer; returns for how many seconds (0: not blocked)."""
        seconds = self.config.ban_block_seconds
        if kind == "user_timeout" and fields.get("duration_seconds"):
            seconds = float(fields["duration_seconds"])
        if seconds > 0:
            who = {fields.get("username"), _str(fields.get("user_id")), *also}
            self.memory.block(who, self.clock() + seconds)
        return max(0.0, seconds)


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _predicate(fields: Mapping[str, Any]) -> Callable[[Any], bool]:
    message_id = fields.get("message_id")
    chat_id = _str(fields.get("chat_message_id"))
    name = user_key(fields["username"]) if fields.get("username") else None
    user_id = _str(fields.get("user_id"))
    if not (message_id or chat_id or name or user_id):
        raise ValueError("say what to remove: message_id, chat_message_id, username or user_id")

    def matches(msg: Any) -> bool:
        meta = msg.metadata or {}
        return bool(
            (message_id and msg.id == message_id)
            or (chat_id and meta.get("chat_message_id") == chat_id)
            or (name and msg.username and user_key(msg.username) == name)
            or (user_id and meta.get("user_id") == user_id)
        )

    return matches


def emote_spans(value: object) -> list[tuple[int, int]]:
    """Emote positions as the platforms send them -> [start, end) pairs.

    Accepts Twitch IRC's ``"25:0-4,12-16/1902:6-10"`` (inclusive ends), a list of
    ``{"start", "end"}`` / ``{"startIndex", "endIndex"}`` objects (inclusive ends, as
    Streamer.bot sends them) or ``[start, end]`` pairs (inclusive). None: no positions.
    """
    if value is None:
        return []
    spans: list[tuple[int, int]] = []
    if isinstance(value, str):
        for group in filter(None, value.split("/")):
            _, _, ranges = group.partition(":")
            for item in filter(None, ranges.split(",")):
                start, _, end = item.partition("-")
                spans.append(_span(start, end))
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                start = item.get("start", item.get("startIndex"))
                end = item.get("end", item.get("endIndex"))
            elif isinstance(item, list | tuple) and len(item) == 2:
                start, end = item
            else:
                raise ValueError(f"emotes: expected {{start, end}} objects or [start, end] pairs, "
                                 f"got {item!r}")
            spans.append(_span(start, end))
    else:
        raise ValueError("emotes must be a list of positions or a Twitch emotes tag, "
                         f"got {type(value).__name__}")
    if len(spans) > MAX_EMOTE_SPANS:
        raise ValueError(f"emotes: more than {MAX_EMOTE_SPANS} positions")
    return spans


def _span(start: object, end: object) -> tuple[int, int]:
    try:
        first, last = int(str(start)), int(str(end))
    except ValueError:
        raise ValueError(f"emotes: positions must be whole numbers, got {start!r}-{end!r}") from None
    if first < 0 or last < first:
        raise ValueError(f"emotes: bad position {first}-{last}")
    return first, last + 1
