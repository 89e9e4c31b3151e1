"""The pipeline's parts: what a stage sees (``Words``), how it stops a message
(``Stopped``), and the ``Pipeline`` that runs named stages in order.

A stage is a small object with a ``name`` and ``apply(words) -> None``: it edits
``words.text`` in place or raises ``Stopped`` to keep the message from being spoken.
Only the viewer's own words pass through it, never the template around them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

FILTERED = "filtered"  # not spoken by design (a gate: bots, cooldown, minimum, ...)
REJECTED = "rejected"  # refused content or author (a dropped bad word, link, blocked user)


class Stopped(Exception):
    """A stage keeps the message from being spoken.

    Parameters: ``status`` (FILTERED or REJECTED), ``reason`` (machine-readable code),
    ``detail`` (one human sentence); the pipeline fills in ``stage``.
    """

    def __init__(self, status: str, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.status = status
        self.reason = reason
        self.detail = detail or reason
        self.stage = ""


def filtered(reason: str, detail: str = "") -> Stopped:
    return Stopped(FILTERED, reason, detail)


def rejected(reason: str, detail: str = "") -> Stopped:
    return Stopped(REJECTED, reason, detail)


@dataclass
class Words:
    """One event's viewer words on their way through the pipeline.

    ``text`` is what a stage edits; the rest describes the event: ``event_type``,
    ``username``/``user_id`` (author), ``amount`` (donation amount, bits or raid viewers),
    ``emotes`` (positions from the platform, into the original text), ``first_time``
    (first message of that chatter), ``now`` (monotonic seconds). Stages may set
    ``needs_approval`` with a ``hold_reason``.
    """

    text: str
    event_type: str = "chat"
    username: str | None = None
    user_id: str | None = None
    amount: float | None = None
    emotes: list[tuple[int, int]] = field(default_factory=list)
    first_time: bool = False
    now: float = 0.0
    needs_approval: bool = False
    hold_reason: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)


class Stage(Protocol):
    @property
    def name(self) -> str: ...

    def apply(self, words: Words) -> None: ...


@dataclass(frozen=True)
class TextStage:
    """A stage that only rewrites the text: ``edit(text) -> text``."""

    name: str
    edit: Callable[[str], str]

    def apply(self, words: Words) -> None:
        words.text = self.edit(words.text)


class Pipeline:
    """Runs stages in order; ``run(words)`` edits ``words`` or raises Stopped (with ``stage``)."""

    def __init__(self, stages: Iterable[Stage]) -> None:
        self.stages: list[Stage] = list(stages)

    def run(self, words: Words) -> Words:
        for stage in self.stages:
            try:
                stage.apply(words)
            except Stopped as stop:
                stop.stage = stop.stage or stage.name
                raise
        return words

    def names(self) -> list[str]:
        return [s.name for s in self.stages]
