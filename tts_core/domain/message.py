"""TTSMessage, MessagePriority and the states a message goes through."""

from __future__ import annotations

import enum
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tts_core.domain.str_enum import StrEnum


class MessagePriority(enum.IntEnum):
    """Playback priority; a higher value plays first (URGENT > HIGH > NORMAL > LOW)."""

    LOW = 1
    NORMAL = 2
    HIGH = 3
    URGENT = 4

    @classmethod
    def parse(cls, value: object) -> MessagePriority:
        """Accept a MessagePriority, its name (any case) or its integer value."""
        if isinstance(value, MessagePriority):
            return value
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]
            except KeyError:
                pass
        elif isinstance(value, int) and not isinstance(value, bool):
            try:
                return cls(value)
            except ValueError:
                pass
        names = ", ".join(p.name for p in sorted(cls, reverse=True))
        raise ValueError(f"invalid priority {value!r}: expected one of {names}")


class MessageState(StrEnum):
    """Where a message is in its life. The last five are final."""

    HELD = "held"  # waiting for its hold time or a moderator's approval
    WAITING = "waiting"  # eligible, not synthesized yet
    SYNTHESIZING = "synthesizing"
    READY = "ready"  # clip synthesized, waiting for its turn
    PLAYING = "playing"
    PLAYED = "played"
    FAILED = "failed"
    DROPPED = "dropped"
    REJECTED = "rejected"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_STATES


_FINAL_STATES = {
    MessageState.PLAYED,
    MessageState.FAILED,
    MessageState.DROPPED,
    MessageState.REJECTED,
}


def new_message_id() -> str:
    return uuid.uuid4().hex[:12]


@dataclass(eq=False, slots=True)
class TTSMessage:
    """One request to speak a text.

    Parameters: ``text`` (already cleaned), ``priority``, ``seq`` (arrival order,
    unique and increasing), ``voice`` (engine voice or None for the default),
    ``event_type`` (donation, chat, ...), ``username``, ``metadata`` (free-form,
    JSON-serializable), ``eligible_at`` (monotonic time before which it may not play),
    ``needs_approval`` (a moderator must approve it first).
    """

    text: str
    priority: MessagePriority
    seq: int
    id: str = field(default_factory=new_message_id)
    voice: str | None = None
    event_type: str = "tts"
    username: str | None = None
    metadata: dict[str, Any] | None = None
    created_at: float = field(default_factory=time.time)
    enqueued_mono: float = field(default_factory=time.monotonic)
    eligible_at: float = 0.0
    needs_approval: bool = False
    state: MessageState = MessageState.WAITING
    attempts: int = 0
    error: str | None = None
    clip: Any = None  # tts_core.domain.audio.Clip once synthesized
    retry_at: float = 0.0  # monotonic time before which no worker retries it
    engine: str | None = None  # the engine that spoke it (tts_core.engines.chain)
    fallback_from: str | None = None  # the engine it should have been, when a fallback spoke it
    spoken_voice: str | None = None  # the voice the engine spoke it with (its default when voice is None)
    alert: Any = None  # the alert sound's Clip, set by the player for the slot it plays (not journaled)

    def as_dict(self) -> dict[str, Any]:
        """The message as the listener and GetQueue show it."""
        return {
            "message_id": self.id,
            "priority": self.priority.name,
            "text": self.text,
            "voice": self.voice,
            "event_type": self.event_type,
            "username": self.username,
            "state": self.state.value,
            "created_at": self.created_at,
        }
