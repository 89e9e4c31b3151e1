"""What an event says and at which priority: templates, names, amounts, the chat command.

``SpeechRules`` is built from one ``TTSConfig`` and never changes afterwards; the
event translator swaps in a new one when the settings change, so an event is always
judged by one consistent set of rules. ``rules.build(event_type, fields)`` returns
the ``Speech`` to moderate and queue, or the reason code the event is not spoken.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tts_core.config import (
    DEFAULT_PRIORITIES,
    PLACEHOLDERS,
    ModerationConfig,
    StreamerBotConfig,
    TTSConfig,
)
from tts_core.domain.message import MessagePriority
from tts_core.ingest.amounts import currency_code, plural, spoken_amount
from tts_core.ingest.moderation import (
    Memory,
    Pipeline,
    Stopped,
    VoiceChooser,
    Words,
    build_name_pipeline,
    build_pipeline,
)
from tts_core.ingest.names import nickname_for, plain_name, speakable_name

DEFAULT_TEMPLATES = {
    "donation": "{username} donated {amount}: {message}",
    "subscription": "{username} subscribed for {months_phrase}: {message}",
    "follow": "{username} just followed",
    "raid": "{username} is raiding with {viewers_phrase}",
    "cheer": "{username} cheered {bits_phrase}: {message}",
    "command": "{username} says: {message}",
    "chat": "{username} says: {message}",
    "tts": "{message}",
    "gift_sub": "{username} gifted a sub to {recipient}",
    "gift_bomb": "{username} gifted {subs_phrase}",
    "redemption": "{username} says: {message}",
}
# The message part alone: used instead of the template when the same viewer speaks
# again within streamer_bot.repeat_name_after_seconds (only for templates with {username}).
DEFAULT_FOLLOW_UP_TEMPLATES = {"chat": "{message}", "command": "{message}", "tts": "{message}"}
# Used for gifted subs unless the streamer set their own "subscription" template.
GIFT_TEMPLATE = "{gifter} gifted a subscription to {username}: {message}"
ANONYMOUS_GIFT_TEMPLATE = "{username} received a gifted subscription: {message}"

MOD_BADGES = ("moderator", "broadcaster")
ANONYMOUS_NAME = "someone"

_TRAILING_SEPARATOR = re.compile(r"[\s:;,\-]+$")
_SPACES = re.compile(r"\s+")


@dataclass
class Speech:
    """An event's words before moderation: the template, its values, priority and who."""

    event_type: str
    template: str
    values: dict[str, str]
    priority: MessagePriority
    username: str | None
    metadata: dict[str, Any]
    amount: float | None = None
    offset: int = 0  # characters of the platform's message before the viewer's words ("!tts ")


class SpeechRules:
    """Everything an event is judged and worded by, from one config.

    Parameters: ``config`` (the TTSConfig whose ``streamer_bot``, ``moderation`` and
    ``voices`` sections are used), ``memory`` (bans, cooldowns and recent texts, kept
    across rule changes), ``moderation`` (False: only the gates run, no text filters).
    """

    def __init__(self, config: TTSConfig, memory: Memory, moderation: bool = True) -> None:
        self.bot: StreamerBotConfig = config.streamer_bot
        mod = config.moderation
        self.moderation: ModerationConfig = mod if moderation else dataclasses.replace(mod, enabled=False)
        self.templates = {**DEFAULT_TEMPLATES, **self.bot.templates}
        self.follow_up_templates = {**DEFAULT_FOLLOW_UP_TEMPLATES, **self.bot.follow_up_templates}
        self.pipeline: Pipeline = build_pipeline(self.moderation, self.bot, memory)
        self.name_pipeline: Pipeline = build_name_pipeline(self.moderation)
        self.voices = VoiceChooser(config.voices)
        self._builders: dict[str, Callable[..., Speech | str]] = {
            "donation": self._donation, "subscription": self._subscription, "follow": self._follow,
            "raid": self._raid, "cheer": self._cheer, "chat": self._chat, "tts": self._tts,
            "gift_sub": self._gift_sub, "gift_bomb": self._gift_bomb, "redemption": self._redemption,
        }

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(self._builders)

    def build(self, event_type: str, fields: Mapping[str, Any]) -> Speech | str:
        """The speech for ``event_type``, or the reason code it is not spoken (``muted_event``,
        ``not_a_command``, ``mods_only``). Raises ValueError/TypeError for a bad value."""
        builder = self._builders.get(event_type)
        if builder is None:
            expected = ", ".join(self._builders)
            raise ValueError(f"unknown event type {event_type!r}; expected one of {expected}")
        return builder(**fields)

    def render(self, speech: Speech, message: str, name_again: bool = True) -> str:
        """The template filled in, with the viewer's (moderated) ``message``.

        ``name_again=False`` (the same viewer spoke a moment ago): a chat, command or tts
        template that names the viewer is replaced by its follow-up template ("{message}").
        """
        values = dict(speech.values)
        values["message"] = message
        for key in ("username", "gifter", "recipient"):
            values[key] = self.spoken_name(values[key])
        text = _SPACES.sub(" ", self.template_for(speech, name_again).format_map(values)).strip()
        if not message.strip():
            text = _TRAILING_SEPARATOR.sub("", text)  # "X donated 5 dollars:" without a message
        return text

    def template_for(self, speech: Speech, name_again: bool = True) -> str:
        """The template ``speech`` is read with (see ``render``)."""
        follow_up = self.follow_up_templates.get(speech.event_type)
        if name_again or follow_up is None or "{username}" not in speech.template:
            return speech.template
        return follow_up

    def spoken_name(self, name: str) -> str:
        """A viewer's name as it is said: the streamer's nickname for them, else the name
        after the name filters (moderation.names) made speakable (``speakable_names``)."""
        nickname = nickname_for(name, self.bot.nicknames) if name else None
        if nickname is not None:
            return nickname
        name = plain_name(name) or name.strip()  # "___" stays "___" rather than nothing
        if name and self.name_pipeline.stages:
            try:
                name = self.name_pipeline.run(Words(name, "name")).text.strip() or ANONYMOUS_NAME
            except Stopped:
                return ANONYMOUS_NAME
        return speakable_name(name) if self.bot.speakable_names and name else name

    # -- builders: an event -> what to say, or the reason it is not spoken ---------------

    def _donation(self, donor_name: str, amount: float, message: str = "",
                  currency: str | None = None) -> Speech | str:
        value = _amount(amount, "amount")
        donor_name = _text(donor_name, "donor_name").strip() or "Anonymous"
        code = currency_code(_text(currency or self.bot.currency, "currency"))
        urgent = self.bot.urgent_donation_amount
        priority = MessagePriority.URGENT if urgent > 0 and value >= urgent else self._priority("donation")
        values = {"username": donor_name, "message": message, "amount": spoken_amount(value, code),
                  "currency": code}
        meta = {"amount": value, "currency": code}
        return self._speech("donation", donor_name, values, meta, priority, amount=value)

    def _subscription(self, username: str, months: int = 1, message: str = "",
                      tier: str | int | None = None, gift: bool = False,
                      gifter: str | None = None) -> Speech | str:
        months = _count(months, "months")
        gifter = _text(gifter or "", "gifter")
        template = None
        if gift and "subscription" not in self.bot.templates:
            template = GIFT_TEMPLATE if gifter else ANONYMOUS_GIFT_TEMPLATE
        values = {"username": username, "message": message, "months": str(months),
                  "months_phrase": plural(months, "month"), "tier": "" if tier is None else str(tier),
                  "gift": "gifted" if gift else "", "gifter": gifter}
        meta = {"months": months, "tier": tier, "gift": bool(gift), "gifter": gifter or None}
        return self._speech("subscription", username, values, meta, template=template)

    def _follow(self, username: str) -> Speech | str:
        return self._speech("follow", username, {"username": username}, {})

    def _raid(self, username: str, viewers: int = 0) -> Speech | str:
        viewers = _count(viewers, "viewers")
        values = {"username": username, "viewers": str(viewers), "viewers_phrase": plural(viewers, "viewer")}
        return self._speech("raid", username, values, {"viewers": viewers}, amount=viewers)

    def _cheer(self, username: str, bits: int, message: str = "") -> Speech | str:
        bits = _count(bits, "bits")
        values = {"username": username, "message": message, "bits": str(bits),
                  "bits_phrase": plural(bits, "bit")}
        return self._speech("cheer", username, values, {"bits": bits}, amount=bits)

    def _gift_sub(self, username: str, recipient: str, tier: str | int | None = None,
                  message: str = "") -> Speech | str:
        """"X gifted a sub to Y": ``username`` is the gifter ("Anonymous" when hidden)."""
        recipient = _text(recipient, "recipient")
        values = {"username": username, "recipient": recipient, "message": message,
                  "tier": "" if tier is None else str(tier)}
        return self._speech("gift_sub", username, values, {"recipient": recipient, "tier": tier})

    def _gift_bomb(self, username: str, count: int, tier: str | int | None = None,
                   message: str = "") -> Speech | str:
        """"X gifted N subs" (a gift bomb, a YouTube membership gift)."""
        count = _count(count, "count")
        values = {"username": username, "count": str(count), "subs_phrase": plural(count, "sub"),
                  "message": message, "tier": "" if tier is None else str(tier)}
        return self._speech("gift_bomb", username, values, {"count": count, "tier": tier}, amount=count)

    def _redemption(self, username: str, reward: str, message: str = "") -> Speech | str:
        """A channel point reward whose viewer input is read (the reward's ``reward`` title)."""
        reward = _text(reward, "reward")
        values = {"username": username, "reward": reward, "message": message}
        return self._speech("redemption", username, values, {"reward": reward})

    def _chat(self, username: str, message: str, is_mod: bool = False, is_subscriber: bool = False,
              badges: Iterable[str] = ()) -> Speech | str:
        message = _text(message, "message")
        roles = {str(badge).split("/", 1)[0].strip().casefold() for badge in badges}
        is_mod = bool(is_mod) or bool(roles & set(MOD_BADGES))
        command = self.bot.chat_command.strip()
        event_type, text, offset = "chat", message, 0
        if command:
            head, _, rest = message.strip().partition(" ")
            if head.casefold() != command.casefold() or not rest.strip():
                return "not_a_command"
            offset = len(message) - len(message.lstrip()) + len(head) + 1
            event_type, text = "command", message[offset:]
        if self.bot.chat_mod_only and not is_mod:
            return "mods_only"
        meta = {"is_mod": is_mod, "is_subscriber": bool(is_subscriber)}
        speech = self._speech(event_type, username, {"username": username, "message": text}, meta)
        if isinstance(speech, Speech):
            speech.offset = offset
        return speech

    def _tts(self, text: str, priority: MessagePriority | str | int | None = None,
             username: str | None = None) -> Speech | str:
        text = _text(text, "text")
        prio = self._priority("tts") if priority is None else MessagePriority.parse(priority)
        return self._speech("tts", username, {"username": username or "", "message": text}, {}, prio)

    def _speech(self, event_type: str, username: str | None, values: dict[str, str],
                metadata: dict[str, Any], priority: MessagePriority | None = None,
                template: str | None = None, amount: float | None = None) -> Speech | str:
        if username is not None:
            _text(username, "username", allow_empty=event_type == "tts")
        if event_type in self.bot.muted_events:
            return "muted_event"
        values = {**dict.fromkeys(PLACEHOLDERS, ""), **values}
        values["message"] = _text(values["message"] or "", "message")
        if priority is None:
            priority = self._priority(event_type)
        return Speech(event_type, template or self.templates[event_type], values, priority,
                      username or None, {k: v for k, v in metadata.items() if v is not None}, amount)

    def _priority(self, event_type: str) -> MessagePriority:
        name = self.bot.priorities.get(event_type, DEFAULT_PRIORITIES[event_type])
        return MessagePriority.parse(name)


def _amount(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return float(value)


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def _text(value: object, name: str, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {type(value).__name__}")
    if not allow_empty and not value.strip():
        raise ValueError(f"{name} is empty")
    return value


def optional_text(value: object, name: str) -> str | None:
    """An optional id or name: None, a string, or an integer (as text)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value, name)
