"""Word lists and length: bad words (per-rule action), regex replacements, the
pronunciation map, and the maximum characters/words of the viewer's message.

Bad words match whole words, ignoring case, after look-alike letters and leetspeak
digits are folded (``ѕсаm``, ``sc4m`` match ``scam``); ``*`` matches any letters.
Rule actions: ``drop`` refuses the message (code ``bad_word``), ``censor`` says the
censor word instead, ``replace`` says the rule's ``with`` text instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tts_core.domain.moderation import CENSOR_WORD, BadWordAction
from tts_core.ingest.moderation.base import TextStage, Words, rejected
from tts_core.ingest.moderation.normalize import matching_view


@dataclass(frozen=True)
class BadWordRule:
    """``pattern`` (words, ``*`` wildcards), ``action`` (drop, censor, replace), ``replacement``."""

    pattern: str
    action: str = BadWordAction.CENSOR
    replacement: str = CENSOR_WORD

    def regex(self) -> str:
        return wildcard_regex(self.pattern)


def wildcard_regex(words: str) -> str:
    """``words`` as a regex: ``*`` matches any letters, any whitespace between words."""
    return r"\s+".join(re.escape(part).replace(r"\*", r"\w*") for part in words.split())


def parse_rules(entries: Iterable[str | Mapping[str, str]], default_action: str = BadWordAction.CENSOR,
                censor_word: str = CENSOR_WORD) -> list[BadWordRule]:
    """Config entries (a word, or ``{"pattern", "action", "with"}``) -> rules, longest first."""
    rules = []
    for entry in entries:
        if isinstance(entry, str):
            entry = {"pattern": entry}
        action = entry.get("action", default_action)
        if action not in tuple(BadWordAction):
            raise ValueError(f"bad word action must be one of {', '.join(BadWordAction)}, got {action!r}")
        replacement = entry.get("with", censor_word) if action == BadWordAction.REPLACE else censor_word
        pattern = entry["pattern"].strip()
        if pattern.strip("* "):
            rules.append(BadWordRule(pattern, action, replacement))
    return sorted(rules, key=lambda r: len(r.pattern), reverse=True)


class BadWords:
    """The bad-word stage (see the module docstring)."""

    name = "bad_words"

    def __init__(self, rules: list[BadWordRule]) -> None:
        self.rules = rules
        self._one = [re.compile(rf"(?:{r.regex()})", re.IGNORECASE) for r in rules]
        joined = "|".join(r.regex() for r in rules)
        self._any = re.compile(rf"(?<!\w)(?:{joined})(?!\w)", re.IGNORECASE) if rules else None

    def apply(self, words: Words) -> None:
        words.text = self.edit(words.text)

    def edit(self, text: str) -> str:
        if self._any is None:
            return text
        view = matching_view(text, leet=True)
        found = list(self._any.finditer(view))
        if not found:
            return text
        out, last = [], 0
        for match in found:
            rule = self._rule_for(match.group())
            if rule.action == BadWordAction.DROP:
                raise rejected("bad_word", f"the message contains a listed bad word ({rule.pattern})")
            out += [text[last:match.start()], rule.replacement]
            last = match.end()
        out.append(text[last:])
        return "".join(out)

    def _rule_for(self, found: str) -> BadWordRule:
        for rule, regex in zip(self.rules, self._one, strict=True):
            if regex.fullmatch(found):
                return rule
        return self.rules[0]  # unreachable: the joined pattern matched one of them


def replacements_stage(rules: Iterable[Mapping[str, str]]) -> TextStage:
    """Regex replacements ``{"pattern": ..., "with": ...}``, in order (``\\1`` works)."""
    compiled = [(re.compile(r["pattern"]), r.get("with", "")) for r in rules]

    def edit(text: str) -> str:
        for regex, replacement in compiled:
            text = regex.sub(replacement, text)
        return text

    return TextStage("replacements", edit)


def pronunciation_stage(spoken: Mapping[str, str], name: str = "pronunciations") -> TextStage:
    """Whole words (any case) said differently: ``{"gg": "good game", "xQc": "ex Q C"}``."""
    table = {word.casefold(): say for word, say in spoken.items()}
    words = sorted(spoken, key=len, reverse=True)
    alternatives = "|".join(map(re.escape, words))
    regex = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE) if words else None

    def edit(text: str) -> str:
        if regex is None:
            return text
        return regex.sub(lambda m: table.get(m.group().casefold(), m.group()), text)

    return TextStage(name, edit)


def max_chars_stage(max_chars: int) -> TextStage:
    """Cut at the last word boundary before ``max_chars``."""

    def edit(text: str) -> str:
        if len(text) <= max_chars:
            return text
        head = text[: max_chars + 1]
        space = head.rfind(" ")
        return head[:space].rstrip() if space > 0 else head[:max_chars]

    return TextStage("max_chars", edit)


def max_words_stage(max_words: int) -> TextStage:
    def edit(text: str) -> str:
        parts = text.split()
        return " ".join(parts[:max_words]) if len(parts) > max_words else text

    return TextStage("max_words", edit)
