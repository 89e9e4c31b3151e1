"""StreamerBotIntegration: platform events (donations, subs, follows, ...) become messages.

It decides *whether* an event is spoken (muted event types, ignored users, minimum
amounts, the chat ``!tts`` command), *what* is said (templates, currency-aware
amounts) and *at which priority* (``config.streamer_bot``), then queues it on the
manager. Moderation (tts_core.moderation: links, spam, bad words, cooldowns, ...)
runs on the viewer's own words only, never on the template around them, and belongs
to this integration: the manager's own text pipeline is left alone.

Every ``process_*`` method returns the message id, or None when the event is
filtered out by design (``submit`` says why); the seed's method names and arguments
are kept.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import string
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tts_core.config import DEFAULT_PRIORITIES, StreamerBotConfig, TTSConfig, moderation_from_streamer_bot
from tts_core.manager import TTSQueueManager
from tts_core.message import MessagePriority
from tts_core.moderation import (
    FILTERED,
    REJECTED,
    Memory,
    Stopped,
    VoiceChooser,
    Words,
    build_name_pipeline,
    build_pipeline,
)
from tts_core.moderation.build import WHOLE_MESSAGE_EVENTS
from tts_core.moderation.removal import Removal
from tts_core.moderation.removal import emote_spans as _emote_spans

log = logging.getLogger(__name__)

DEFAULT_TEMPLATES = {
    "donation": "{username} donated {amount}: {message}",
    "subscription": "{username} subscribed for {months_phrase}: {message}",
    "follow": "{username} just followed",
    "raid": "{username} is raiding with {viewers_phrase}",
    "cheer": "{username} cheered {bits_phrase}: {message}",
    "command": "{username} says: {message}",
    "chat": "{username} says: {message}",
    "tts": "{message}",
}
# Used for gifted subs unless the streamer set their own "subscription" template.
GIFT_TEMPLATE = "{gifter} gifted a subscription to {username}: {message}"
ANONYMOUS_GIFT_TEMPLATE = "{username} received a gifted subscription: {message}"

PLACEHOLDERS = (
    "username", "message", "amount", "currency", "months", "months_phrase", "tier", "gift",
    "gifter", "viewers", "viewers_phrase", "bits", "bits_phrase",
)

# Why an event was not queued (EventResult.filtered); the moderation stages add theirs.
FILTER_REASONS = ("muted_event", "ignored_user", "below_minimum", "not_a_command", "mods_only",
                  "command", "cooldown", "duplicate")

MOD_BADGES = ("moderator", "broadcaster")

# Spoken names per ISO code: (one, many, one minor unit, many minor units or None).
CURRENCIES: dict[str, tuple[str, str, str | None, str | None]] = {
    "USD": ("dollar", "dollars", "cent", "cents"),
    "CAD": ("Canadian dollar", "Canadian dollars", "cent", "cents"),
    "AUD": ("Australian dollar", "Australian dollars", "cent", "cents"),
    "NZD": ("New Zealand dollar", "New Zealand dollars", "cent", "cents"),
    "EUR": ("euro", "euros", "cent", "cents"),
    "GBP": ("pound", "pounds", "penny", "pence"),
    "CHF": ("Swiss franc", "Swiss francs", "centime", "centimes"),
    "JPY": ("yen", "yen", None, None),
    "KRW": ("won", "won", None, None),
    "BRL": ("real", "reais", "centavo", "centavos"),
    "MXN": ("peso", "pesos", "centavo", "centavos"),
    "INR": ("rupee", "rupees", "paisa", "paise"),
    "RUB": ("ruble", "rubles", "kopek", "kopeks"),
    "PLN": ("zloty", "zlotys", "grosz", "groszy"),
    "SEK": ("Swedish krona", "Swedish kronor", "ore", "ore"),
    "NOK": ("Norwegian krone", "Norwegian kroner", "ore", "ore"),
    "DKK": ("Danish krone", "Danish kroner", "ore", "ore"),
}
CURRENCY_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "R$": "BRL",
                    "₹": "INR", "C$": "CAD", "CA$": "CAD", "A$": "AUD", "₽": "RUB", "zł": "PLN", "₩": "KRW"}

_TRAILING_SEPARATOR = re.compile(r"[\s:;,\-]+$")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class EventResult:
    """What became of an event.

    ``status``: ``ok`` (queued as ``message_id``), ``filtered`` (not spoken by design) or
    ``rejected`` (refused by moderation; counted, so it has a ``message_id`` too);
    ``stage`` the pipeline stage that stopped it, ``reason`` its code (``filtered`` keeps
    the reason for callers of earlier versions), ``detail`` one sentence for people.
    ``message_filtered``: a paid event was announced without the viewer's message.
    A queued event also says what will be spoken: ``priority`` (its name), ``state``
    (``queued``, ``held`` with the ``hold_reason``, or ``rejected`` when TTS is
    disabled) and ``text`` (after templates, moderation and clean-up).
    """

    message_id: str | None
    filtered: str | None = None
    status: str = "ok"
    stage: str | None = None
    detail: str | None = None
    voice: str | None = None
    message_filtered: dict[str, str] | None = None
    priority: str | None = None
    state: str | None = None
    hold_reason: str | None = None
    text: str | None = None

    @property
    def reason(self) -> str | None:
        return self.filtered


@dataclass
class _Speech:
    event_type: str
    template: str
    values: dict[str, str]
    priority: MessagePriority
    username: str | None
    metadata: dict[str, Any]
    amount: float | None = None
    offset: int = 0  # characters of the platform's message before the viewer's words ("!tts ")


# The reason codes of the builders -> the stage name replies carry.
_BUILDER_STAGES = {"not_a_command": "chat_command", "mods_only": "mods_only", "muted_event": "muted_events"}
# Options every event may carry that describe it for moderation and removal.
EVENT_OPTIONS = ("voice", "hold_seconds", "needs_approval", "chat_message_id", "user_id", "emotes",
                 "first_time")
ANONYMOUS_NAME = "someone"


class StreamerBotIntegration:
    """Turns stream events into queued messages; owns the moderation of the viewer's words.

    Parameters: ``manager`` (the TTSQueueManager to queue on), ``config`` (a
    StreamerBotConfig, or a TTSConfig whose ``streamer_bot``, ``moderation`` and
    ``voices`` sections are used; default: the manager's), ``moderation`` (False: only
    the gates run, no text filters). The manager's own text pipeline is never touched:
    ``manager.add_message`` from Python is not moderated by these rules.
    """

    def __init__(
        self,
        manager: TTSQueueManager,
        config: StreamerBotConfig | TTSConfig | None = None,
        *,
        moderation: bool = True,
    ) -> None:
        full = config if isinstance(config, TTSConfig) else manager.config
        if isinstance(config, TTSConfig):
            config = config.streamer_bot
        self.manager = manager
        self.config = config or manager.config.streamer_bot
        self.config.validate()
        self.templates = {**DEFAULT_TEMPLATES, **self.config.templates}
        for event_type, template in self.config.templates.items():
            _check_template(template, f"streamer_bot.templates.{event_type}")
        self.memory = Memory()
        self._filters_on = moderation
        self._builders: dict[str, Callable[..., _Speech | str]] = {
            "donation": self._donation, "subscription": self._subscription, "follow": self._follow,
            "raid": self._raid, "cheer": self._cheer, "chat": self._chat, "tts": self._tts,
        }
        self.reconfigure(full)

    def reconfigure(self, config: TTSConfig) -> None:
        """Rebuild the pipeline and voices from ``config``'s ``moderation`` and ``voices``
        sections (e.g. after the OBS panel changed). Bans and cooldowns are remembered."""
        moderation = moderation_from_streamer_bot(self.config, config.moderation)
        if not self._filters_on:
            moderation = dataclasses.replace(moderation, enabled=False)
        self.moderation_config = moderation
        self.pipeline = build_pipeline(moderation, self.config, self.memory)
        self.name_pipeline = build_name_pipeline(moderation)
        self.voices = VoiceChooser(config.voices)
        self.removal = Removal(self.manager, moderation, self.memory)

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(self._builders)

    # -- the seed's API --------------------------------------------------------------

    def process_donation(self, donor_name: str, amount: float, message: str = "",
                         currency: str | None = None, **options: Any) -> str | None:
        """"JohnDoe donated 25 dollars: Great stream!"; URGENT from ``urgent_donation_amount``."""
        fields = {"donor_name": donor_name, "amount": amount, "message": message, "currency": currency}
        return self.submit("donation", {**fields, **options}).message_id

    def process_subscription(self, username: str, months: int = 1, message: str = "",
                             tier: str | int | None = None, gift: bool = False,
                             gifter: str | None = None, **options: Any) -> str | None:
        fields = {"username": username, "months": months, "message": message, "tier": tier,
                  "gift": gift, "gifter": gifter}
        return self.submit("subscription", {**fields, **options}).message_id

    def process_follow(self, username: str, **options: Any) -> str | None:
        return self.submit("follow", {"username": username, **options}).message_id

    def process_raid(self, username: str, viewers: int = 0, **options: Any) -> str | None:
        return self.submit("raid", {"username": username, "viewers": viewers, **options}).message_id

    def process_cheer(self, username: str, bits: int, message: str = "", **options: Any) -> str | None:
        return self.submit("cheer", {"username": username, "bits": bits, "message": message,
                                     **options}).message_id

    def process_chat_message(self, username: str, message: str, is_mod: bool = False,
                             is_subscriber: bool = False, badges: Iterable[str] | None = None,
                             **options: Any) -> str | None:
        """Speak ``!tts <text>`` (config ``chat_command``; "" reads every chat line)."""
        fields = {"username": username, "message": message, "is_mod": is_mod,
                  "is_subscriber": is_subscriber, "badges": list(badges or ())}
        return self.submit("chat", {**fields, **options}).message_id

    def process_tts(self, text: str, priority: MessagePriority | str | int | None = None,
                    voice: str | None = None, username: str | None = None, **options: Any) -> str | None:
        """Direct text (a bot's own announcement, Speaker.bot's Speak)."""
        fields = {"text": text, "priority": priority, "voice": voice, "username": username}
        return self.submit("tts", {**fields, **options}).message_id

    # -- one entry point for every event ------------------------------------------------

    def submit(self, event_type: str, fields: Mapping[str, Any]) -> EventResult:
        """Queue the event ``event_type`` described by ``fields``; say what became of it.

        ``fields`` are the ``process_*`` arguments plus the EVENT_OPTIONS (``voice``,
        ``hold_seconds``, ``needs_approval``, ``chat_message_id``, ``user_id``, ``emotes``
        as [start, end) pairs, ``first_time``). Raises ValueError/TypeError for a bad
        value, RuntimeError (QueueFull) when the queue is full.
        """
        builder = self._builders.get(event_type)
        if builder is None:
            expected = ", ".join(self._builders)
            raise ValueError(f"unknown event type {event_type!r}; expected one of {expected}")
        args = dict(fields)
        options = {key: args.pop(key, None) for key in EVENT_OPTIONS}
        speech = builder(**args)
        if isinstance(speech, str):
            return self._not_spoken(event_type, args, FILTERED, speech, _BUILDER_STAGES.get(speech, speech),
                                    speech.replace("_", " "))
        words = self._moderate(speech, options)
        if isinstance(words, EventResult):
            return words
        return self._queue(speech, words, options)

    def _moderate(self, speech: _Speech, options: Mapping[str, Any]) -> Words | EventResult:
        """Run the pipeline on the viewer's words; an EventResult when it stopped them."""
        emotes = [(start - speech.offset, end - speech.offset)
                  for start, end in _emote_spans(options["emotes"]) if start >= speech.offset]
        words = Words(speech.values["message"], speech.event_type, speech.username,
                      _optional_text(options["user_id"], "user_id"), speech.amount, emotes,
                      bool(options["first_time"]), time.monotonic())
        try:
            return self.pipeline.run(words)
        except Stopped as stop:
            if stop.reason not in ("link", "bad_word") or speech.event_type in WHOLE_MESSAGE_EVENTS:
                return self._stopped(speech, words, stop)
            # A paid or alert event is still announced (and judged by the later stages,
            # e.g. approval rules); only the viewer's words are left out.
            dropped = {"stage": stop.stage, "reason": stop.reason}
        try:
            words = self.pipeline.run(dataclasses.replace(words, text="", emotes=[]))
        except Stopped as stop:
            return self._stopped(speech, words, stop)
        words.notes["message_filtered"] = dropped
        return words

    def _queue(self, speech: _Speech, words: Words, options: Mapping[str, Any]) -> EventResult:
        choice = self.voices.choose(words.text, speech.event_type, speech.username, options["voice"])
        metadata = dict(speech.metadata)
        for key in ("chat_message_id", "user_id"):
            if options[key] is not None:
                metadata[key] = _optional_text(options[key], key)
        hold_reason = words.hold_reason or ("needs_approval requested" if options["needs_approval"] else None)
        if hold_reason:
            metadata["hold_reason"] = hold_reason
        message_filtered = words.notes.get("message_filtered")
        if message_filtered:
            metadata["message_filtered"] = message_filtered
        text = self._render(speech, choice.text)
        needs_approval = bool(options["needs_approval"]) or words.needs_approval
        message_id = self.manager.add_message(
            text, speech.priority, voice=choice.voice, event_type=speech.event_type, username=speech.username,
            metadata=metadata, hold_seconds=options["hold_seconds"], needs_approval=needs_approval,
        )
        state, text = self._spoken(message_id, text)
        if state == "held":
            hold_reason = hold_reason or ("needs approval" if needs_approval else "hold window")
        return EventResult(message_id, voice=choice.voice, message_filtered=message_filtered,
                           priority=speech.priority.name, state=state,
                           hold_reason=hold_reason if state == "held" else None, text=text)

    def _spoken(self, message_id: str, text: str) -> tuple[str, str]:
        """A message's state (queued, held or rejected) and final text, as the manager has
        it; once it has left the queue (played already, or rejected on arrival because TTS
        is disabled), from what was queued."""
        queued = self.manager.get_message(message_id)
        if queued is not None:
            return ("held" if queued["state"] == "held" else "queued"), queued["text"]
        return ("queued" if self.manager.enabled else "rejected"), text

    def _stopped(self, speech: _Speech, words: Words, stop: Stopped) -> EventResult:
        if stop.status != REJECTED:
            return self._not_spoken(speech.event_type, {"username": speech.username,
                                                        "message": speech.values["message"]},
                                    stop.status, stop.reason, stop.stage, stop.detail, speech.priority)
        text = self._render(speech, "") or speech.event_type
        message_id = self.manager.record_rejected(
            text, speech.priority, event_type=speech.event_type, username=speech.username,
            metadata=speech.metadata, reason=stop.reason, stage=stop.stage, error=stop.detail)
        log.info("%s %s rejected by %s: %s", speech.event_type, message_id, stop.stage, stop.detail)
        return EventResult(message_id, stop.reason, REJECTED, stop.stage, stop.detail)

    def _not_spoken(self, event_type: str, args: Mapping[str, Any], status: str, reason: str, stage: str,
                    detail: str, priority: MessagePriority | None = None) -> EventResult:
        if reason == "not_a_command":
            return EventResult(None, reason, status, stage, detail)  # ordinary chat: nothing to report
        username = args.get("username") or args.get("donor_name")
        self.manager.events.publish({
            "event": "filtered", "message_id": None, "priority": (priority or MessagePriority.LOW).name,
            "event_type": event_type, "username": username if isinstance(username, str) else None,
            "stage": stage, "reason": reason, "ts": time.time(),
        })
        log.debug("%s event not spoken: %s (%s)", event_type, reason, stage)
        return EventResult(None, reason, status, stage, detail)

    def _render(self, speech: _Speech, message: str) -> str:
        values = dict(speech.values)
        values["message"] = message
        for key in ("username", "gifter"):
            values[key] = self._spoken_name(values[key])
        text = _SPACES.sub(" ", speech.template.format_map(values)).strip()
        if not message.strip():
            text = _TRAILING_SEPARATOR.sub("", text)  # "X donated 5 dollars:" without a message
        return text

    def _spoken_name(self, name: str) -> str:
        name = speakable_name(name)
        if not name or not self.name_pipeline.stages:
            return name
        try:
            return self.name_pipeline.run(Words(name, "name")).text.strip() or ANONYMOUS_NAME
        except Stopped:
            return ANONYMOUS_NAME

    # -- removal: deleted lines, bans, time-outs -------------------------------------------

    def remove(self, kind: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Handle ``chat_deleted``, ``user_banned``, ``user_timeout`` or a moderator's
        ``Remove``; see Removal.handle."""
        return self.removal.handle(kind, fields)

    # -- builders: an event -> what to say, or the reason it is not spoken ---------------

    def _donation(self, donor_name: str, amount: float, message: str = "",
                  currency: str | None = None) -> _Speech | str:
        value = _amount(amount, "amount")
        donor_name = _text(donor_name, "donor_name").strip() or "Anonymous"
        code = currency_code(_text(currency or self.config.currency, "currency"))
        urgent = self.config.urgent_donation_amount
        priority = MessagePriority.URGENT if urgent > 0 and value >= urgent else self._priority("donation")
        values = {"username": donor_name, "message": message, "amount": spoken_amount(value, code),
                  "currency": code}
        meta = {"amount": value, "currency": code}
        return self._speech("donation", donor_name, values, meta, priority, amount=value)

    def _subscription(self, username: str, months: int = 1, message: str = "",
                      tier: str | int | None = None, gift: bool = False,
                      gifter: str | None = None) -> _Speech | str:
        months = _count(months, "months")
        gifter = _text(gifter or "", "gifter")
        template = None
        if gift and "subscription" not in self.config.templates:
            template = GIFT_TEMPLATE if gifter else ANONYMOUS_GIFT_TEMPLATE
        values = {"username": username, "message": message, "months": str(months),
                  "months_phrase": _plural(months, "month"), "tier": "" if tier is None else str(tier),
                  "gift": "gifted" if gift else "", "gifter": gifter}
        meta = {"months": months, "tier": tier, "gift": bool(gift), "gifter": gifter or None}
        return self._speech("subscription", username, values, meta, template=template)

    def _follow(self, username: str) -> _Speech | str:
        return self._speech("follow", username, {"username": username}, {})

    def _raid(self, username: str, viewers: int = 0) -> _Speech | str:
        viewers = _count(viewers, "viewers")
        values = {"username": username, "viewers": str(viewers), "viewers_phrase": _plural(viewers, "viewer")}
        return self._speech("raid", username, values, {"viewers": viewers}, amount=viewers)

    def _cheer(self, username: str, bits: int, message: str = "") -> _Speech | str:
        bits = _count(bits, "bits")
        values = {"username": username, "message": message, "bits": str(bits),
                  "bits_phrase": _plural(bits, "bit")}
        return self._speech("cheer", username, values, {"bits": bits}, amount=bits)

    def _chat(self, username: str, message: str, is_mod: bool = False, is_subscriber: bool = False,
              badges: Iterable[str] = ()) -> _Speech | str:
        message = _text(message, "message")
        roles = {str(badge).split("/", 1)[0].strip().casefold() for badge in badges}
        is_mod = bool(is_mod) or bool(roles & set(MOD_BADGES))
        command = self.config.chat_command.strip()
        event_type, text, offset = "chat", message, 0
        if command:
            head, _, rest = message.strip().partition(" ")
            if head.casefold() != command.casefold() or not rest.strip():
                return "not_a_command"
            offset = len(message) - len(message.lstrip()) + len(head) + 1
            event_type, text = "command", message[offset:]
        if self.config.chat_mod_only and not is_mod:
            return "mods_only"
        meta = {"is_mod": is_mod, "is_subscriber": bool(is_subscriber)}
        speech = self._speech(event_type, username, {"username": username, "message": text}, meta)
        if isinstance(speech, _Speech):
            speech.offset = offset
        return speech

    def _tts(self, text: str, priority: MessagePriority | str | int | None = None,
             username: str | None = None) -> _Speech | str:
        text = _text(text, "text")
        prio = self._priority("tts") if priority is None else MessagePriority.parse(priority)
        return self._speech("tts", username, {"username": username or "", "message": text}, {}, prio)

    # -- helpers -------------------------------------------------------------------------

    def _speech(self, event_type: str, username: str | None, values: dict[str, str],
                metadata: dict[str, Any], priority: MessagePriority | None = None,
                template: str | None = None, amount: float | None = None) -> _Speech | str:
        if username is not None:
            _text(username, "username", allow_empty=event_type == "tts")
        if event_type in self.config.muted_events:
            return "muted_event"
        values = {**dict.fromkeys(PLACEHOLDERS, ""), **values}
        values["message"] = _text(values["message"] or "", "message")
        if priority is None:
            priority = self._priority(event_type)
        return _Speech(event_type, template or self.templates[event_type], values, priority,
                       username or None, {k: v for k, v in metadata.items() if v is not None}, amount)

    def _priority(self, event_type: str) -> MessagePriority:
        name = self.config.priorities.get(event_type, DEFAULT_PRIORITIES[event_type])
        return MessagePriority.parse(name)


def speakable_name(name: str) -> str:
    """A username as a voice should say it: no leading @, underscores as spaces."""
    return _SPACES.sub(" ", name.strip().lstrip("@").replace("_", " ")).strip()


def currency_code(currency: str) -> str:
    """ISO code for ``currency`` ("usd", "$", "€" -> USD, USD, EUR); unknown codes pass upper-cased."""
    symbol = currency.strip()
    return CURRENCY_SYMBOLS.get(symbol, symbol.upper())


def spoken_amount(amount: float, currency: str) -> str:
    """"25 dollars", "1 euro and 50 cents", "1000 yen"; unknown currencies: "12.50 XYZ"."""
    names = CURRENCIES.get(currency_code(currency))
    if names is None:
        return f"{amount:.2f}".removesuffix(".00") + f" {currency}"
    one, many, minor_one, minor_many = names
    cents = round(amount * 100) if minor_one else round(amount) * 100
    whole, minor = divmod(cents, 100)
    if whole and minor:
        return f"{whole} {one if whole == 1 else many} and {minor} {minor_one if minor == 1 else minor_many}"
    if minor:
        return f"{minor} {minor_one if minor == 1 else minor_many}"
    return f"{whole} {one if whole == 1 else many}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


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


def _optional_text(value: object, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _text(value, name)


def _check_template(template: str, key: str) -> None:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None
    for _, field_name, _, _ in parsed:
        if field_name is not None and field_name not in PLACEHOLDERS:
            raise ValueError(
                f"{key}: unknown placeholder {{{field_name}}}; expected one of "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            )
