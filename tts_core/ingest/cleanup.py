"""Text clean-up: the minimum every message a manager queues gets.

A pipeline of small named steps (control characters, whitespace, length). Each step
takes the text and returns it cleaned; ``TextPipeline.clean`` raises ``TextRejected``
when nothing is left to speak. Moderation of stream events is a different pipeline
(``tts_core.ingest.moderation``), which runs before this one on the viewer's own words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

DEFAULT_MAX_TEXT_LENGTH = 500


class TextRejected(ValueError):
    """The text must not be spoken. ``code`` is machine-readable, e.g. ``empty``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class CleanupStep:
    """One named step of the clean-up: ``apply(text) -> text``."""

    name: str
    apply: Callable[[str], str]

    def __call__(self, text: str) -> str:
        return self.apply(text)


class TextPipeline:
    """Runs steps in order. ``clean(text)`` returns the text to speak."""

    def __init__(self, steps: Iterable[CleanupStep]) -> None:
        self.steps = list(steps)

    def clean(self, text: str) -> str:
        if not isinstance(text, str):
            raise TextRejected("invalid_text", f"text must be a string, got {type(text).__name__}")
        for step in self.steps:
            text = step(text)
        if not text.strip():
            raise TextRejected("empty", "text is empty after clean-up")
        return text

    def names(self) -> list[str]:
        return [s.name for s in self.steps]


_WHITESPACE = re.compile(r"\s+")


def strip_control_characters(text: str) -> str:
    """Replace control and format characters (NUL, ESC, zero-width, ...) by spaces."""
    if text.isprintable():  # fast path: printable text has none of them
        return text
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") else ch for ch in text)


def collapse_whitespace(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def limit_length(max_chars: int) -> CleanupStep:
    """Cut texts longer than ``max_chars`` at the last word boundary (documented clean-up)."""

    def cut(text: str) -> str:
        if len(text) <= max_chars:
            return text
        head = text[:max_chars]
        space = head.rfind(" ")
        return head[:space] if space > max_chars // 2 else head

    return CleanupStep("max_length", cut)


def default_pipeline(max_text_length: int = DEFAULT_MAX_TEXT_LENGTH) -> TextPipeline:
    return TextPipeline(
        [
            CleanupStep("control_characters", strip_control_characters),
            CleanupStep("whitespace", collapse_whitespace),
            limit_length(max_text_length),
        ]
    )
