"""Gates: who and what is spoken at all, decided from the event, not the words.

Bots and ignored accounts, blocked users (listed, or banned a moment ago), minimum
amounts, the per-user chat cooldown, duplicate suppression and the approval rules.
The ones that remember (bans, cooldown, duplicates) share a ``Memory``, which is
thread-safe and forgets old entries by itself.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from tts_core.domain.moderation import ApprovalRule
from tts_core.ingest.moderation.base import Words, filtered, rejected

CHAT_EVENTS = ("chat", "command")
MEMORY_LIMIT = 10_000  # remembered users/texts per table; the oldest go first


def user_key(name: str | None) -> str:
    return (name or "").strip().lstrip("@").casefold()


class _Expiring:
    """key -> monotonic deadline, bounded in size."""

    def __init__(self) -> None:
        self._until: OrderedDict[str, float] = OrderedDict()

    def active(self, key: str, now: float) -> bool:
        until = self._until.get(key)
        if until is None:
            return False
        if until <= now:
            del self._until[key]
            return False
        return True

    def set(self, key: str, until: float) -> None:
        self._until[key] = until
        self._until.move_to_end(key)
        while len(self._until) > MEMORY_LIMIT:
            self._until.popitem(last=False)

    def __bool__(self) -> bool:
        return bool(self._until)


class Memory:
    """What the gates remember between events: bans, last chat times, recent texts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.blocked = _Expiring()
        self.cooldown = _Expiring()
        self.recent = _Expiring()

    def block(self, who: Iterable[str | None], until: float) -> None:
        with self.lock:
            for key in {user_key(w) for w in who if w}:
                self.blocked.set(key, until)


class IgnoredUsers:
    """Listed accounts (other bots: Nightbot, StreamElements, ...) are never read."""

    name = "bots"

    def __init__(self, names: Iterable[str]) -> None:
        self.names = {user_key(n) for n in names}

    def apply(self, words: Words) -> None:
        if words.username and user_key(words.username) in self.names:
            raise filtered("ignored_user", f"{words.username} is on the ignored list")


class BlockedUsers:
    """Listed users, and users banned or timed out a moment ago, are refused."""

    name = "blocked_users"

    def __init__(self, names: Iterable[str], memory: Memory) -> None:
        self.names = {user_key(n) for n in names}
        self.memory = memory

    def apply(self, words: Words) -> None:
        keys = [user_key(w) for w in (words.username, words.user_id) if w]
        if any(k in self.names for k in keys):
            raise rejected("blocked_user", f"{words.username or words.user_id} is blocked")
        if keys and self.memory.blocked:  # nobody banned lately: no lock needed
            with self.memory.lock:
                if any(self.memory.blocked.active(k, words.now) for k in keys):
                    who = words.username or words.user_id
                    raise rejected("blocked_user", f"{who} was banned or timed out")


class MinimumAmount:
    """Donations, cheers and raids below their minimum are not read."""

    name = "min_amount"

    def __init__(self, minimums: Mapping[str, float]) -> None:
        self.minimums = {k: v for k, v in minimums.items() if v > 0}

    def apply(self, words: Words) -> None:
        low = self.minimums.get(words.event_type)
        if low is not None and words.amount is not None and words.amount < low:
            raise filtered("below_minimum", f"{words.event_type} of {words.amount:g} is below {low:g}")


class ChatCooldown:
    """One chat message per user every ``seconds``."""

    name = "chat_cooldown"

    def __init__(self, seconds: float, memory: Memory) -> None:
        self.seconds = seconds
        self.memory = memory

    def apply(self, words: Words) -> None:
        if words.event_type not in CHAT_EVENTS or not words.username:
            return
        key = user_key(words.username)
        with self.memory.lock:
            if self.memory.cooldown.active(key, words.now):
                raise filtered("cooldown", f"{words.username} spoke less than {self.seconds:g} s ago")
            self.memory.cooldown.set(key, words.now + self.seconds)


class Duplicates:
    """The same chat text (any user, case ignored) only once every ``seconds``."""

    name = "duplicates"

    def __init__(self, seconds: float, memory: Memory) -> None:
        self.seconds = seconds
        self.memory = memory

    def apply(self, words: Words) -> None:
        if words.event_type not in CHAT_EVENTS:
            return
        key = " ".join(words.text.casefold().split())
        with self.memory.lock:
            if self.memory.recent.active(key, words.now):
                raise filtered("duplicate", f"the same text was read less than {self.seconds:g} s ago")
            self.memory.recent.set(key, words.now + self.seconds)


class ApprovalRules:
    """Per event type: ``always``, ``min_amount`` (donation/cheer/raid amount), ``first_time``
    (the platform says it is the chatter's first message) hold the message for a moderator."""

    name = "needs_approval"

    def __init__(self, rules: Mapping[str, Mapping[str, float | bool]]) -> None:
        self.rules = dict(rules)

    def apply(self, words: Words) -> None:
        rule = self.rules.get(words.event_type)
        if not rule:
            return
        reason = None
        minimum = rule.get(ApprovalRule.MIN_AMOUNT)
        if rule.get(ApprovalRule.ALWAYS):
            reason = f"every {words.event_type} needs approval"
        elif minimum is not None and words.amount is not None and words.amount >= float(minimum):
            reason = f"{words.event_type} of {words.amount:g} (approval from {float(minimum):g})"
        elif rule.get(ApprovalRule.FIRST_TIME) and words.first_time:
            reason = "first-time chatter"
        if reason is not None:
            words.needs_approval, words.hold_reason = True, reason
