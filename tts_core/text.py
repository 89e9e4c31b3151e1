"""Text clean-up and moderation: a pipeline of small named stages.

Each stage takes the text and returns it cleaned, or raises ``TextRejected`` to drop
the whole message. Stages are switchable by name; the default pipeline is the
minimum every message gets (control characters, whitespace, length).
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
class Stage:
    """One named step of the pipeline."""

    name: str
    apply: Callable[[str], str]

    def __call__(self, text: str) -> str:
        return self.apply(text)


class TextPipeline:
    """Runs stages in order. ``clean(text)`` returns the text to speak."""

    def __init__(self, stages: Iterable[Stage]) -> None:
        self.stages = list(stages)

    def clean(self, text: str) -> str:
        if not isinstance(text, str):
            raise TextRejected("invalid_text", f"text must be a string, got {type(text).__name__}")
        for stage in self.stages:
            text = stage(text)
        if not text.strip():
            raise TextRejected("empty", "text is empty after clean-up")
        return text

    def names(self) -> list[str]:
        return [s.name for s in self.stages]


_WHITESPACE = re.compile(r"\s+")


def strip_control_characters(text: str) -> str:
    """Replace control and format characters (NUL, ESC, zero-width, ...) by spaces."""
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") else ch for ch in text)


def collapse_whitespace(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()


def limit_length(max_chars: int) -> Stage:
    """Cut texts longer than ``max_chars`` at the last word boundary (documented clean-up)."""

    def cut(text: str) -> str:
        if len(text) <= max_chars:
            return text
        head = text[:max_chars]
        space = head.rfind(" ")
        return head[:space] if space > max_chars // 2 else head

    return Stage("max_length", cut)


def default_pipeline(max_text_length: int = DEFAULT_MAX_TEXT_LENGTH) -> TextPipeline:
    return TextPipeline(
        [
            Stage("control_characters", strip_control_characters),
            Stage("whitespace", collapse_whitespace),
            limit_length(max_text_length),
        ]
    )
