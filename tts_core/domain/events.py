"""Events: one dict shape for Python callbacks, WebSocket push and logs.

``{"event", "message_id", "priority", "text", "ts"}`` plus what the event is about
(``event_type``, ``username``, ``voice``, ``engine``, ``duration_ms``, ``reason``, ...).
The bus that delivers them is ``tts_core.runtime.bus.EventBus``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tts_core.domain.message import TTSMessage

# Options any stream event may carry besides its own fields: they go to the queue and to
# moderation, never into the spoken text. The listener's protocol validates them and the
# event translator takes them out of the event's fields.
EVENT_OPTIONS = ("voice", "hold_seconds", "needs_approval", "chat_message_id", "user_id", "emotes",
                 "first_time")

EVENT_NAMES = (
    "queued",
    "playback_started",
    "playback_finished",
    "skipped",
    "failed",
    "dropped",
    "rejected",
    "filtered",  # an event not spoken by design (no message_id); carries stage and reason
)

Event = dict[str, Any]
# The viewer's own words as they arrived (before filters and the template), in a
# message's metadata and in its events; ``text`` stays the text as queued.
SENT_TEXT = "sent_text"
Subscriber = Callable[[Event], None]


def event_dict(name: str, message_id: str | None, priority: str, text: str, *, event_type: str = "tts",
               username: str | None = None, **extra: Any) -> Event:
    """The one event shape: ``event``, ``message_id``, ``priority``, ``text``, ``ts``, then
    ``event_type`` (when not ``tts``), ``username`` (when known) and ``extra``."""
    event: Event = {"event": name, "message_id": message_id, "priority": priority, "text": text,
                    "ts": time.time()}
    if event_type != "tts":
        event["event_type"] = event_type
    if username:
        event["username"] = username
    event.update(extra)
    return event


def make_event(name: str, msg: TTSMessage, **extra: Any) -> Event:
    """An event about ``msg`` (also its voice, and the engine that spoke it)."""
    about: dict[str, Any] = {}
    if msg.voice:
        about["voice"] = msg.voice
    if msg.engine:
        about["engine"] = msg.engine
        if msg.fallback_from:
            about["fallback_from"] = msg.fallback_from
        if msg.spoken_voice:
            about["spoken_voice"] = msg.spoken_voice
    if msg.metadata and msg.metadata.get(SENT_TEXT):
        about[SENT_TEXT] = msg.metadata[SENT_TEXT]
    return event_dict(name, msg.id, msg.priority.name, msg.text, event_type=msg.event_type,
                      username=msg.username, **about, **extra)


def filtered_event(event_type: str, username: str | None, priority: str, text: str, stage: str,
                   reason: str) -> Event:
    """An event that is not spoken by design (no message id): which stage stopped it and why."""
    sent = {SENT_TEXT: text} if text else {}
    return event_dict("filtered", None, priority, text, event_type=event_type, username=username,
                      stage=stage, reason=reason, **sent)
