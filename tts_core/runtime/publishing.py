"""Publishing: every lifecycle step of a message becomes one event on the bus."""

from __future__ import annotations

from typing import Any

from tts_core.domain.events import make_event
from tts_core.domain.message import TTSMessage
from tts_core.domain.words import caption_words
from tts_core.runtime.bus import EventBus
from tts_core.runtime.lifecycle import LifecyclePiece, Outcome

LATENCY_DECIMALS = 1  # latency_ms in playback_started events


class EventPublishing(LifecyclePiece):
    """Publishes ``queued``, ``playback_started``, ``playback_finished``, ``skipped``,
    ``failed``, ``rejected`` and ``dropped`` events, with the hook's details as extra
    fields. Parameters: ``bus`` (the EventBus subscribers listen on)."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def accepted(self, msg: TTSMessage, **details: Any) -> None:
        self.bus.publish(make_event("queued", msg, **details))

    def rejected_on_arrival(self, msg: TTSMessage, **details: Any) -> None:
        self.bus.publish(make_event("rejected", msg, **details))

    def started(self, msg: TTSMessage, latency_ms: float) -> None:
        duration_ms = msg.clip.duration_ms if msg.clip is not None else 0
        # When each word of the text is spoken, for captions (tts_core.domain.words).
        words, word_timing = caption_words(msg.text, duration_ms, getattr(msg.clip, "words", ()))
        self.bus.publish(make_event("playback_started", msg, duration_ms=duration_ms,
                                    latency_ms=round(latency_ms, LATENCY_DECIMALS),
                                    words=words, word_timing=word_timing))

    def ended(self, msg: TTSMessage, outcome: Outcome, **details: Any) -> None:
        self.bus.publish(make_event(outcome.value, msg, **details))

    def dropped(self, msg: TTSMessage, reason: str, **details: Any) -> None:
        self.bus.publish(make_event("dropped", msg, reason=reason, **details))
