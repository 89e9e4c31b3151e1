"""Noise a voice should not read: emotes, emoji, ``!commands``, blobs, repeats.

The text edits themselves live in ``tts_core.text`` (shared with the manager's own
clean-up); this module makes them stages, and adds the ones that need the event:
emote positions sent by the platform, and chat lines that are bot commands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tts_core import text as edits
from tts_core.moderation.base import TextStage, Words, filtered

# Pictographs, dingbats, flags, keycaps and their joiners (what chat calls "emoji").
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U0001f1e6-\U0001f1ff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff"
    "\u2190-\u21ff\u3030\u303d\u3297\u3299\ufe0f\u200d\u20e3\U000e0020-\U000e007f]+"
)
LONG_NUMBER_DIGITS = 12  # a number this long is an id or a card number, not something to say
_LONG_NUMBER = re.compile(rf"(?<![\w.,])\d{{{LONG_NUMBER_DIGITS},}}(?![\w.,])")


class EmotePositions:
    """Drop the emotes the platform located (``words.emotes``: [start, end) into the
    original text). Runs first, before anything shifts the positions."""

    name = "emote_positions"

    def apply(self, words: Words) -> None:
        if not words.emotes:
            return
        text, out, last = words.text, [], 0
        for start, end in sorted(words.emotes):
            if start < last or end > len(text) or start >= end:
                continue  # overlapping or outside the text: positions from another message
            out.append(text[last:start])
            out.append(" ")
            last = end
        out.append(text[last:])
        words.text = "".join(out)


class CommandLines:
    """A chat line that is a bot command (``!so bob``) is not read at all."""

    name = "command_lines"

    def apply(self, words: Words) -> None:
        if words.event_type in ("chat", "command") and words.text.lstrip().startswith("!"):
            raise filtered("command", "the chat line is a bot command")


def remove_emoji(text: str) -> str:
    if text.isascii():
        return text
    return _EMOJI.sub(" ", text)


def emote_stage(names: Iterable[str], defaults: bool) -> TextStage:
    """Emote names and ``:emote:`` codes (see ``tts_core.text.filter_emotes``)."""
    listed = [*(edits.DEFAULT_EMOTES if defaults else ()), *names]
    stage = edits.filter_emotes(names, defaults=defaults)
    if any("*" in name for name in listed):
        return TextStage("emotes", stage.apply)
    exact = {name for name in listed if " " not in name}  # most chat has none: a set lookup decides

    def edit(text: str) -> str:
        if ":" in text or not exact.isdisjoint(_edge_stripped(text)):
            return stage.apply(text)
        return text

    return TextStage("emotes", edit)


def _edge_stripped(text: str) -> list[str]:
    return [word.strip(_EDGES) for word in text.split()]


_EDGES = ".,!?;\"'()[]{}<>~*"


def remove_commands(text: str) -> str:
    return edits.remove_commands(text) if "!" in text else text


def commands_stage() -> TextStage:
    return TextStage("commands", remove_commands)


def emoji_stage() -> TextStage:
    return TextStage("emoji", remove_emoji)


def remove_blobs(text: str) -> str:
    """Base64/hex blobs, absurdly long words and long digit runs."""
    return edits.remove_blobs(_LONG_NUMBER.sub(" ", text))


def blobs_stage() -> TextStage:
    return TextStage("blobs", remove_blobs)


def repeated_letters_stage(max_run: int) -> TextStage:
    return TextStage("repeated_letters", edits.limit_repeated_letters(max_run).apply)


def repeated_words_stage(max_repeats: int) -> TextStage:
    return TextStage("repeated_words", edits.limit_repeated_words(max_repeats).apply)
