"""Noise a voice should not read: emotes, emoji, ``!commands``, blobs, repeats.

Text-only stages (``*_stage``) built on the edits below, plus the ones that need the
event: emote positions sent by the platform, and chat lines that are bot commands.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable

from tts_core.ingest.moderation.base import TextStage, Words, filtered
from tts_core.ingest.moderation.words import wildcard_regex

# Twitch/BTTV/FFZ/7TV global emotes that chat types as words (case-sensitive names).
DEFAULT_EMOTES = (
    "Kappa", "KappaPride", "Keepo", "PogChamp", "Pog", "PogU", "POGGERS", "LUL", "LULW", "OMEGALUL",
    "KEKW", "Kreygasm", "BibleThump", "ResidentSleeper", "4Head", "DansGame", "SeemsGood",
    "TriHard", "CoolStoryBob", "NotLikeThis", "FailFish", "SwiftRage", "WutFace", "HeyGuys",
    "VoHiYo", "MrDestructoid", "BabyRage", "monkaS", "monkaW", "PepeHands", "PepeLaugh",
    "Sadge", "catJAM", "peepoHappy", "FeelsGoodMan", "FeelsBadMan", "EZ", "Clap", "widepeepoHappy",
    "CoolCat", "HotPokket", "TwitchUnity", "GivePLZ", "TakeNRG", "PJSalt", "CmonBruh",
)
MAX_PHRASE_WORDS = 4  # longest phrase the repeated-words stage looks for
BLOB_MIN_LENGTH = 20  # shorter tokens are never treated as base64/hex blobs
LONGEST_WORD = 40  # a "word" longer than this is noise, unless it looks like a real word
LONGEST_REAL_WORD = 60
LONG_NUMBER_DIGITS = 12  # a number this long is an id or a card number, not something to say

# Pictographs, dingbats, flags, keycaps and their joiners (what chat calls "emoji").
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U0001f1e6-\U0001f1ff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff"
    "\u2190-\u21ff\u3030\u303d\u3297\u3299\ufe0f\u200d\u20e3\U000e0020-\U000e007f]+"
)
_LONG_NUMBER = re.compile(rf"(?<![\w.,])\d{{{LONG_NUMBER_DIGITS},}}(?![\w.,])")
_COMMAND = re.compile(r"(?<!\S)![A-Za-z][\w-]*")
_COLON_EMOTE = re.compile(r"(?<!\S):[A-Za-z0-9_+-]{2,}:(?!\S)")
_REPEATED_SYMBOL = re.compile(r"([^\w\s])\1+")
_REPEATED_SYLLABLE = re.compile(r"([^\W\d_]{2,4}?)\1{2,}", re.IGNORECASE)
_LONG_TOKEN = re.compile(rf"\S{{{BLOB_MIN_LENGTH},}}")
_BLOB_CHARS = re.compile(r"[A-Za-z0-9+/=_-]+")
_HEX = re.compile(r"(?:0x)?[0-9a-fA-F]+")
_EDGE_PUNCTUATION = ".,!?;:'\"()[]{}<>*~"


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


# -- emotes, emoji, commands -------------------------------------------------------------


def emote_stage(names: Iterable[str], defaults: bool) -> TextStage:
    """Emote names and ``:emote:`` codes.

    Parameters: ``names`` (more names; ``*`` is a wildcard, case-sensitive like emotes
    are), ``defaults`` (also drop DEFAULT_EMOTES).
    """
    listed = [*(DEFAULT_EMOTES if defaults else ()), *names]
    patterns = "|".join(wildcard_regex(name) for name in sorted(set(listed), key=len, reverse=True))
    word = re.compile(rf"(?<!\w)(?:{patterns})(?!\w)") if patterns else None

    def remove_emotes(text: str) -> str:
        text = _COLON_EMOTE.sub(" ", text)
        return word.sub(" ", text) if word is not None else text

    if any("*" in name for name in listed):
        return TextStage("emotes", remove_emotes)
    exact = {name for name in listed if " " not in name}  # most chat has none: a set lookup decides

    def edit(text: str) -> str:
        if ":" in text or not exact.isdisjoint(_edge_stripped(text)):
            return remove_emotes(text)
        return text

    return TextStage("emotes", edit)


def _edge_stripped(text: str) -> list[str]:
    return [word.strip(_EDGE_PUNCTUATION) for word in text.split()]


def remove_emoji(text: str) -> str:
    if text.isascii():
        return text
    return _EMOJI.sub(" ", text)


def emoji_stage() -> TextStage:
    return TextStage("emoji", remove_emoji)


def remove_commands(text: str) -> str:
    """Drop ``!command`` words (other bots' commands are not for reading aloud)."""
    return _COMMAND.sub(" ", text) if "!" in text else text


def commands_stage() -> TextStage:
    return TextStage("commands", remove_commands)


# -- blobs --------------------------------------------------------------------------------


def remove_blobs(text: str) -> str:
    """Drop base64/hex blobs, absurdly long words and long digit runs, which a voice
    would spell for minutes."""
    text = _LONG_NUMBER.sub(" ", text)
    if not _LONG_TOKEN.search(text):
        return text
    return " ".join(word for word in text.split(" ") if not _is_blob(word.strip(_EDGE_PUNCTUATION)))


def _is_blob(word: str) -> bool:
    if len(word) > LONGEST_WORD:
        # Long real words ("Pneumonoultramicroscopic...") are letters of many kinds.
        return not (word.isalpha() and len(word) <= LONGEST_REAL_WORD and len(set(word.lower())) >= 8)
    if len(word) < BLOB_MIN_LENGTH or not _BLOB_CHARS.fullmatch(word):
        return False
    if _HEX.fullmatch(word):
        return True
    has_digit = any(c.isdigit() for c in word)
    has_upper = any(c.isupper() for c in word)
    has_lower = any(c.islower() for c in word)
    return has_digit + has_upper + has_lower >= 2 and not word.isalpha()


def blobs_stage() -> TextStage:
    return TextStage("blobs", remove_blobs)


# -- repeats ------------------------------------------------------------------------------


def repeated_letters_stage(max_run: int) -> TextStage:
    """Cut runs of one letter to ``max_run`` ("sooooo" -> "sooo"), of one symbol to one
    ("!!!!" -> "!"), and syllables repeated 3+ times to two ("hahahaha" -> "haha").
    Digits are never touched (amounts stay right)."""
    if max_run < 1:
        raise ValueError(f"max_run must be >= 1, got {max_run}")
    letter_run = re.compile(rf"([^\W\d_])\1{{{max_run},}}")  # only runs longer than max_run
    keep = "\\1" * max_run

    def edit(text: str) -> str:
        text = letter_run.sub(keep, text)
        text = _REPEATED_SYLLABLE.sub(r"\1\1", text)
        return _REPEATED_SYMBOL.sub(r"\1", text)

    return TextStage("repeated_letters", edit)


def repeated_words_stage(max_repeats: int) -> TextStage:
    """Keep at most ``max_repeats`` consecutive copies of a word or phrase (up to
    MAX_PHRASE_WORDS words, case and punctuation ignored): "spam spam spam" -> "spam spam"."""
    if max_repeats < 1:
        raise ValueError(f"max_repeats must be >= 1, got {max_repeats}")

    def edit(text: str) -> str:
        words = text.split(" ")
        keys = _keys(words)
        # A run of size n needs keys[i] == keys[i + n] somewhere; most texts have none.
        sizes = [n for n in range(1, MAX_PHRASE_WORDS + 1) if any(map(operator.eq, keys, keys[n:]))]
        if not sizes:
            return text
        for size in sizes:
            words = _collapse_runs(words, size, max_repeats)
        return " ".join(words)

    return TextStage("repeated_words", edit)


def _keys(words: list[str]) -> list[str]:
    return [w.strip(_EDGE_PUNCTUATION).casefold() for w in words]


def _collapse_runs(words: list[str], size: int, max_repeats: int) -> list[str]:
    keys = _keys(words)
    out: list[str] = []
    i = 0
    while i < len(words):
        phrase = keys[i : i + size]
        repeats = 1
        if len(phrase) == size and any(phrase):
            while keys[i + repeats * size : i + (repeats + 1) * size] == phrase:
                repeats += 1
        if repeats == 1:
            out.append(words[i])
            i += 1
        else:
            out.extend(words[i : i + min(repeats, max_repeats) * size])
            i += repeats * size
    return out

