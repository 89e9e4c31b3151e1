"""StreamerBotIntegration: platform events (donations, subs, follows, ...) become messages.

It decides *whether* an event is spoken (muted event types, ignored users, minimum
amounts, the chat ``!tts`` command), *what* is said (templates, currency-aware
amounts) and *at which priority* (``config.streamer_bot``), then queues it on the
manager. Moderation (tts_core.ingest.moderation: links, spam, bad words, cooldowns, ...)
runs on the viewer's own words only, never on the template around them, and belongs
to this integration: the manager's own text pipeline is left alone.

The rules come from one config at a time (``tts_core.ingest.speech.SpeechRules``):
the integration is a part of the manager's ``settings``, so ``manager.reconfigure``
(the OBS panel, ``obs-tts serve`` on SIGHUP, the Python API) swaps them whole for
the very next event.

Every ``process_*`` method returns the message id, or None when the event is
filtered out by design (``submit`` says why); the seed's method names and arguments
are kept.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tts_core.config import StreamerBotConfig, TTSConfig
from tts_core.domain.events import EVENT_OPTIONS, SENT_TEXT, filtered_event
from tts_core.domain.log_text import loggable
from tts_core.domain.message import MessagePriority
from tts_core.ingest.moderation import FILTERED, REJECTED, Memory, Stopped, Words
from tts_core.ingest.moderation.build import WHOLE_MESSAGE_EVENTS
from tts_core.ingest.moderation.removal import Removal
from tts_core.ingest.moderation.removal import emote_spans as _emote_spans
from tts_core.ingest.names import Speakers
from tts_core.ingest.speech import Speech, SpeechRules, optional_text
from tts_core.runtime.manager import TTSQueueManager
from tts_core.runtime.settings import Prepared

log = logging.getLogger(__name__)

# Why an event was not queued (EventResult.filtered); the moderation stages add theirs.
FILTER_REASONS = ("muted_event", "ignored_user", "below_minimum", "not_a_command", "mods_only",
                  "command", "cooldown", "duplicate")


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


# The reason codes of the builders -> the stage name replies carry.
_BUILDER_STAGES = {"not_a_command": "chat_command", "mods_only": "mods_only", "muted_event": "muted_events"}
# Options every event may carry that describe it for moderation and removal.


class StreamerBotIntegration:
    """Turns stream events into queued messages; owns the moderation of the viewer's words.

    Parameters: ``manager`` (the TTSQueueManager to queue on), ``config`` (a
    StreamerBotConfig, or a TTSConfig whose ``streamer_bot``, ``moderation`` and
    ``voices`` sections are used; default: the manager's), ``moderation`` (False: only
    the gates run, no text filters), ``clock`` (monotonic seconds; when a viewer was
    last heard, for "X says"). The manager's own text pipeline is never touched:
    ``manager.add_message`` from Python is not moderated by these rules.
    """

    def __init__(
        self,
        manager: TTSQueueManager,
        config: StreamerBotConfig | TTSConfig | None = None,
        *,
        moderation: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        full = config if isinstance(config, TTSConfig) else manager.config
        if isinstance(config, StreamerBotConfig):
            full = dataclasses.replace(full, streamer_bot=config)
        self.manager = manager
        self.memory = Memory()
        # Who spoke last; kept across settings changes (like bans and cooldowns), so a
        # reload mid-conversation does not make the next line say "X says" again.
        self.speakers = Speakers(clock)
        self._filters_on = moderation
        full.validate()
        self._rules = SpeechRules(full, self.memory, moderation)
        self._removal = Removal(manager, self._rules.moderation, self.memory)
        manager.settings.add(self)

    def prepare_config(self, config: TTSConfig) -> Prepared:
        """Build the rules of ``config`` (its ``streamer_bot``, ``moderation`` and ``voices``
        sections); the commit swaps them in for the next event. Bans and cooldowns are kept."""
        rules = SpeechRules(config, self.memory, self._filters_on)
        removal = Removal(self.manager, rules.moderation, self.memory)

        def commit() -> None:
            self._rules, self._removal = rules, removal

        return Prepared(commit)

    def reconfigure(self, config: TTSConfig) -> None:
        """Apply ``config`` everywhere (same as ``manager.reconfigure``)."""
        self.manager.reconfigure(config)

    # The rules in force (read-only views; they change only through prepare_config).
    @property
    def config(self) -> StreamerBotConfig:
        return self._rules.bot

    @property
    def templates(self) -> dict[str, str]:
        return self._rules.templates

    @property
    def pipeline(self) -> Any:
        return self._rules.pipeline

    @property
    def voices(self) -> Any:
        return self._rules.voices

    @property
    def event_types(self) -> tuple[str, ...]:
        return self._rules.event_types

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
        rules = self._rules  # one set of rules for the whole event, even if settings change meanwhile
        args = dict(fields)
        options = {key: args.pop(key, None) for key in EVENT_OPTIONS}
        speech = rules.build(event_type, args)
        if isinstance(speech, str):
            return self._not_spoken(event_type, args, FILTERED, speech, _BUILDER_STAGES.get(speech, speech),
                                    speech.replace("_", " "))
        words = self._moderate(rules, speech, options)
        if isinstance(words, EventResult):
            return words
        return self._queue(rules, speech, words, options)

    def _moderate(self, rules: SpeechRules, speech: Speech,
                  options: Mapping[str, Any]) -> Words | EventResult:
        """Run the pipeline on the viewer's words; an EventResult when it stopped them."""
        emotes = [(start - speech.offset, end - speech.offset)
                  for start, end in _emote_spans(options["emotes"]) if start >= speech.offset]
        words = Words(speech.values["message"], speech.event_type, speech.username,
                      optional_text(options["user_id"], "user_id"), speech.amount, emotes,
                      bool(options["first_time"]), time.monotonic())
        try:
            return rules.pipeline.run(words)
        except Stopped as stop:
            if stop.reason not in ("link", "bad_word") or speech.event_type in WHOLE_MESSAGE_EVENTS:
                return self._stopped(rules, speech, stop)
            # A paid or alert event is still announced (and judged by the later stages,
            # e.g. approval rules); only the viewer's words are left out.
            dropped = {"stage": stop.stage, "reason": stop.reason}
        try:
            words = rules.pipeline.run(dataclasses.replace(words, text="", emotes=[]))
        except Stopped as stop:
            return self._stopped(rules, speech, stop)
        words.notes["message_filtered"] = dropped
        return words

    def _queue(self, rules: SpeechRules, speech: Speech, words: Words,
               options: Mapping[str, Any]) -> EventResult:
        choice = rules.voices.choose(words.text, speech.event_type, speech.username, options["voice"])
        metadata = with_sent_text(speech)
        for key in ("chat_message_id", "user_id"):
            if options[key] is not None:
                metadata[key] = optional_text(options[key], key)
        hold_reason = words.hold_reason or ("needs_approval requested" if options["needs_approval"] else None)
        if hold_reason:
            metadata["hold_reason"] = hold_reason
        message_filtered = words.notes.get("message_filtered")
        if message_filtered:
            metadata["message_filtered"] = message_filtered
        pause = rules.bot.repeat_name_after_seconds
        text = rules.render(speech, choice.text, self.speakers.needs_name(speech.username, pause))
        alert = self.manager.alerts.choose(speech.event_type, speech.amount)
        if alert is not None:  # played right before the speech (tts_core.runtime.alerts)
            metadata["alert"] = alert.as_metadata()
            if alert.alert_only:
                text = ""
        needs_approval = bool(options["needs_approval"]) or words.needs_approval
        message_id = self.manager.add_message(
            text, speech.priority, voice=choice.voice, event_type=speech.event_type, username=speech.username,
            metadata=metadata, hold_seconds=options["hold_seconds"], needs_approval=needs_approval,
        )
        state, text = self._spoken(message_id, text)
        if state == "queued":
            # A held line (hold window, approval) may never play: it does not count as heard.
            self.speakers.heard(speech.username)
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

    def _stopped(self, rules: SpeechRules, speech: Speech, stop: Stopped) -> EventResult:
        if stop.status != REJECTED:
            return self._not_spoken(speech.event_type, {"username": speech.username,
                                                        "message": speech.values["message"]},
                                    stop.status, stop.reason, stop.stage, stop.detail, speech.priority)
        text = rules.render(speech, "") or speech.event_type
        message_id = self.manager.record_rejected(
            text, speech.priority, event_type=speech.event_type, username=speech.username,
            metadata=with_sent_text(speech), reason=stop.reason, stage=stop.stage, error=stop.detail)
        log.info("%s %s rejected by %s: %s", speech.event_type, message_id, stop.stage, stop.detail)
        return EventResult(message_id, stop.reason, REJECTED, stop.stage, stop.detail)

    def _not_spoken(self, event_type: str, args: Mapping[str, Any], status: str, reason: str, stage: str,
                    detail: str, priority: MessagePriority | None = None) -> EventResult:
        if reason == "not_a_command":
            return EventResult(None, reason, status, stage, detail)  # ordinary chat: nothing to report
        username = args.get("username") or args.get("donor_name")
        words = args.get("message") or args.get("text") or ""
        self.manager.events.publish(filtered_event(
            event_type, username if isinstance(username, str) else None,
            (priority or MessagePriority.LOW).name, words if isinstance(words, str) else "", stage, reason))
        log.debug("%s event not spoken: %s (%s)", loggable(event_type), loggable(reason), stage)
        return EventResult(None, reason, status, stage, detail)

    # -- removal: deleted lines, bans, time-outs -------------------------------------------

    def remove(self, kind: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Handle ``chat_deleted``, ``user_banned``, ``user_timeout`` or a moderator's
        ``Remove``; see Removal.handle. A removed or skipped line may have been the one
        that said "X says", so the next line of anyone names its viewer again."""
        result = self._removal.handle(kind, fields)
        if result.get("removed") or result.get("skipped"):
            self.speakers.reset()
        return result


def with_sent_text(speech: Speech) -> dict[str, Any]:
    """The event's metadata plus ``sent_text``, the viewer's own words as they arrived
    (before filters and the template), when there are any: events and the dashboard's
    history show them next to what was spoken, or instead of it when nothing was."""
    metadata = dict(speech.metadata)
    if speech.values.get("message"):
        metadata[SENT_TEXT] = speech.values["message"]
    return metadata
