"""The lifecycle of an accepted message, and the pieces that react to it.

A message is accepted (or rejected on arrival), may be approved, starts playing, and
ends with an outcome (played, skipped, failed, rejected), or is dropped before it plays (with a reason:
``queue_full``, ``cleared``, ``removed``, or a moderation reason). Each cross-cutting
concern (the journal, clip retention, statistics, event publishing) is one
``LifecyclePiece`` that overrides the hooks it cares about, in the spirit of
dramatiq's middleware; ``Lifecycle`` calls them in order.

The queue decides and counts first (its transitions and the accounting counters
change together under its lock); the pieces record and announce after, and
``wait_until_idle`` waits for them (``MessageQueue.ending``).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from tts_core.domain.message import TTSMessage


class Outcome(enum.Enum):
    """How a message ended; the value is the name of its event."""

    PLAYED = "playback_finished"
    SKIPPED = "skipped"
    FAILED = "failed"
    REJECTED = "rejected"


class LifecyclePiece:
    """One concern that follows messages through their lifecycle; every hook does nothing
    by default. ``details`` are the extra fields of the message's event (``reason``,
    ``error``, ``attempts``, ``duration_ms``, ``recovered`` ...). Hooks must not raise:
    they run on the player, worker and caller threads."""

    def accepted(self, msg: TTSMessage, **details: Any) -> None:
        """``msg`` joined the queue (or was recovered from the journal)."""

    def rejected_on_arrival(self, msg: TTSMessage, **details: Any) -> None:
        """``msg`` was accepted and rejected at once, before it joined the queue
        (moderation, TTS disabled); ``details`` hold the ``reason``."""

    def approved(self, msg: TTSMessage) -> None:
        """A moderator let a held ``msg`` play."""

    def started(self, msg: TTSMessage, latency_ms: float) -> None:
        """``msg`` started playing, ``latency_ms`` after it was accepted."""

    def ended(self, msg: TTSMessage, outcome: Outcome, **details: Any) -> None:
        """``msg`` ended with ``outcome``."""

    def dropped(self, msg: TTSMessage, reason: str, **details: Any) -> None:
        """``msg`` left the queue without playing, for ``reason``."""


def _overriding(pieces: Sequence[LifecyclePiece], hook: str) -> tuple[Any, ...]:
    """The bound ``hook`` of every piece that overrides it (the others do nothing)."""
    default = getattr(LifecyclePiece, hook)
    return tuple(getattr(p, hook) for p in pieces if getattr(type(p), hook) is not default)


class Lifecycle(LifecyclePiece):
    """Calls the hooks of ``pieces`` in their order (record first, announce last)."""

    def __init__(self, pieces: Sequence[LifecyclePiece]) -> None:
        # add_message is hot: call only the hooks that do something.
        self._accepted = _overriding(pieces, "accepted")
        self._rejected_on_arrival = _overriding(pieces, "rejected_on_arrival")
        self._approved = _overriding(pieces, "approved")
        self._started = _overriding(pieces, "started")
        self._ended = _overriding(pieces, "ended")
        self._dropped = _overriding(pieces, "dropped")

    def accepted(self, msg: TTSMessage, **details: Any) -> None:
        for hook in self._accepted:
            hook(msg, **details)

    def rejected_on_arrival(self, msg: TTSMessage, **details: Any) -> None:
        for hook in self._rejected_on_arrival:
            hook(msg, **details)

    def approved(self, msg: TTSMessage) -> None:
        for hook in self._approved:
            hook(msg)

    def started(self, msg: TTSMessage, latency_ms: float) -> None:
        for hook in self._started:
            hook(msg, latency_ms)

    def ended(self, msg: TTSMessage, outcome: Outcome, **details: Any) -> None:
        for hook in self._ended:
            hook(msg, outcome, **details)

    def dropped(self, msg: TTSMessage, reason: str, **details: Any) -> None:
        for hook in self._dropped:
            hook(msg, reason, **details)
