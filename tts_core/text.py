"""Text clean-up: a pipeline of small named stages, and the text edits moderation uses.

Each stage takes the text and returns it cleaned, or raises ``TextRejected`` to drop
the whole message. The default pipeline is the minimum every message a manager queues
gets (control characters, whitespace, length). Moderation of stream events lives in
``tts_core.moderation`` (which reuses the edits below); ``moderation_pipeline`` is the
earlier text-only pipeline, kept for code that still builds it.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tts_core.config import StreamerBotConfig

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
    if text.isprintable():  # fast path: printable text has none of them
        return text
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


# -- moderation stages (switched on by tts_core.integration from StreamerBotConfig) ----

LINK_WORD = "link"
BAD_WORD_REPLACEMENT = "bleep"
MAX_PHRASE_WORDS = 4  # longest phrase the repeated-words filter looks for
BLOB_MIN_LENGTH = 20  # shorter tokens are never treated as base64/hex blobs
LONGEST_WORD = 40  # a "word" longer than this is noise, unless it looks like a real word
LONGEST_REAL_WORD = 60

# Twitch/BTTV/FFZ/7TV global emotes that chat types as words (case-sensitive names).
DEFAULT_EMOTES = (
    "Kappa", "KappaPride", "Keepo", "PogChamp", "Pog", "PogU", "POGGERS", "LUL", "LULW", "OMEGALUL",
    "KEKW", "Kreygasm", "BibleThump", "ResidentSleeper", "4Head", "DansGame", "SeemsGood",
    "TriHard", "CoolStoryBob", "NotLikeThis", "FailFish", "SwiftRage", "WutFace", "HeyGuys",
    "VoHiYo", "MrDestructoid", "BabyRage", "monkaS", "monkaW", "PepeHands", "PepeLaugh",
    "Sadge", "catJAM", "peepoHappy", "FeelsGoodMan", "FeelsBadMan", "EZ", "Clap", "widepeepoHappy",
    "CoolCat", "HotPokket", "TwitchUnity", "GivePLZ", "TakeNRG", "PJSalt", "CmonBruh",
)

_LINK_RUN = re.compile(rf"\b{LINK_WORD}(?:\W+{LINK_WORD}\b)+")
_COMMAND = re.compile(r"(?<!\S)![A-Za-z][\w-]*")
_COLON_EMOTE = re.compile(r"(?<!\S):[A-Za-z0-9_+-]{2,}:(?!\S)")
_REPEATED_SYMBOL = re.compile(r"([^\w\s])\1+")
_REPEATED_SYLLABLE = re.compile(r"([^\W\d_]{2,4}?)\1{2,}", re.IGNORECASE)
_LONG_TOKEN = re.compile(rf"\S{{{BLOB_MIN_LENGTH},}}")
_BLOB_CHARS = re.compile(r"[A-Za-z0-9+/=_-]+")
_HEX = re.compile(r"(?:0x)?[0-9a-fA-F]+")
_EDGE_PUNCTUATION = ".,!?;:'\"()[]{}<>*~"


def filter_urls(action: str = "replace") -> Stage:
    """Links are never spelled out ("H T T P S colon slash slash"); the shapes are those
    of ``tts_core.moderation.links``.

    Parameters: ``action``: ``replace`` (say "link"), ``remove`` (drop the link only)
    or ``reject`` (drop the whole message, code ``url``).
    """
    if action not in ("replace", "remove", "reject"):
        raise ValueError(f"url filter action must be replace, remove or reject, got {action!r}")
    from tts_core.moderation.links import find_links, replace_spans  # moderation builds on this module

    def apply(text: str) -> str:
        spans = find_links(text)
        if not spans:
            return text
        if action == "reject":
            raise TextRejected("url", "the message contains a link")
        text = replace_spans(text, spans, LINK_WORD if action == "replace" else "", pad=False)
        return _LINK_RUN.sub(LINK_WORD, text) if action == "replace" else text

    return Stage("urls", apply)


def remove_commands(text: str) -> str:
    """Drop ``!command`` words (other bots' commands are not for reading aloud)."""
    return _COMMAND.sub(" ", text)


def filter_emotes(extra: Iterable[str] = (), defaults: bool = True) -> Stage:
    """Drop emote names and ``:emote:`` codes.

    Parameters: ``extra`` (more names; ``*`` is a wildcard, case-sensitive like emotes
    are), ``defaults`` (also drop DEFAULT_EMOTES).
    """
    names = [*(DEFAULT_EMOTES if defaults else ()), *extra]
    patterns = "|".join(_wildcard(name) for name in sorted(set(names), key=len, reverse=True))
    word = re.compile(rf"(?<!\w)(?:{patterns})(?!\w)") if patterns else None

    def apply(text: str) -> str:
        text = _COLON_EMOTE.sub(" ", text)
        return word.sub(" ", text) if word is not None else text

    return Stage("emotes", apply)


def remove_blobs(text: str) -> str:
    """Drop base64/hex blobs and absurdly long words, which a voice would spell for minutes."""
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


def limit_repeated_letters(max_run: int = 3) -> Stage:
    """Cut runs of one letter to ``max_run`` ("sooooo" -> "sooo"), of one symbol to one
    ("!!!!" -> "!"), and syllables repeated 3+ times to two ("hahahaha" -> "haha").
    Digits are never touched (amounts stay right)."""
    if max_run < 1:
        raise ValueError(f"max_run must be >= 1, got {max_run}")
    letter_run = re.compile(rf"([^\W\d_])\1{{{max_run},}}")  # only runs longer than max_run
    keep = "\\1" * max_run

    def apply(text: str) -> str:
        text = letter_run.sub(keep, text)
        text = _REPEATED_SYLLABLE.sub(r"\1\1", text)
        return _REPEATED_SYMBOL.sub(r"\1", text)

    return Stage("repeated_letters", apply)


def limit_repeated_words(max_repeats: int = 2) -> Stage:
    """Keep at most ``max_repeats`` consecutive copies of a word or phrase (up to
    MAX_PHRASE_WORDS words, case and punctuation ignored): "spam spam spam" -> "spam spam"."""
    if max_repeats < 1:
        raise ValueError(f"max_repeats must be >= 1, got {max_repeats}")

    def apply(text: str) -> str:
        words = text.split(" ")
        keys = [w.strip(_EDGE_PUNCTUATION).casefold() for w in words]
        # A run of size n needs keys[i] == keys[i + n] somewhere; most texts have none.
        sizes = [n for n in range(1, MAX_PHRASE_WORDS + 1) if any(map(operator.eq, keys, keys[n:]))]
        if not sizes:
            return text
        for size in sizes:
            words = _collapse_runs(words, size, max_repeats)
        return " ".join(words)

    return Stage("repeated_words", apply)


def _collapse_runs(words: list[str], size: int, max_repeats: int) -> list[str]:
    keys = [w.strip(_EDGE_PUNCTUATION).casefold() for w in words]
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


def filter_bad_words(words: Iterable[str], action: str = "replace",
                     replacement: str = BAD_WORD_REPLACEMENT) -> Stage:
    """Replace listed words (``*`` matches any letters: "frick*", "*hole") by
    ``replacement``, or with ``action="reject"`` drop the whole message (code ``bad_word``).
    Matching ignores case and whole words only."""
    if action not in ("replace", "reject"):
        raise ValueError(f"bad word action must be replace or reject, got {action!r}")
    listed = sorted({w.strip() for w in words if w.strip("* ")}, key=len, reverse=True)
    pattern = (re.compile(rf"(?<!\w)(?:{'|'.join(_wildcard(w) for w in listed)})(?!\w)", re.IGNORECASE)
               if listed else None)

    def apply(text: str) -> str:
        if pattern is None:
            return text
        if action == "reject":
            if pattern.search(text):
                raise TextRejected("bad_word", "the message contains a word on the bad-word list")
            return text
        return pattern.sub(replacement, text)

    return Stage("bad_words", apply)


def limit_words(max_words: int) -> Stage:
    """Keep the first ``max_words`` words."""
    if max_words < 1:
        raise ValueError(f"max_words must be >= 1, got {max_words}")
    return Stage("max_words", lambda text: " ".join(text.split()[:max_words]))


def require_words(text: str) -> str:
    """After moderation removed everything speakable, refuse the message (code ``filtered``)."""
    if not any(ch.isalnum() for ch in text):
        raise TextRejected("filtered", "nothing speakable is left after moderation")
    return text


def _wildcard(word: str) -> str:
    return r"\s+".join(re.escape(part).replace(r"\*", r"\w*") for part in word.split())


def moderation_pipeline(
    config: StreamerBotConfig, max_text_length: int = DEFAULT_MAX_TEXT_LENGTH
) -> TextPipeline:
    """The full pipeline for stream events, built from ``config`` (streamer_bot section).

    Order matters: links go before blobs (a URL looks like one), letters are de-spammed
    before the bad-word list (so "fuuuuu*" forms match), length limits come last.
    """
    stages = [Stage("control_characters", strip_control_characters), Stage("whitespace", collapse_whitespace)]
    if config.url_filter != "off":
        stages.append(filter_urls(config.url_filter))
    if config.filter_commands:
        stages.append(Stage("commands", remove_commands))
    if config.filter_emotes or config.emotes:
        stages.append(filter_emotes(config.emotes, defaults=config.filter_emotes))
    if config.filter_blobs:
        stages.append(Stage("blobs", remove_blobs))
    if config.max_repeated_letters:
        stages.append(limit_repeated_letters(config.max_repeated_letters))
    if config.max_repeated_words:
        stages.append(limit_repeated_words(config.max_repeated_words))
    if config.bad_words:
        stages.append(filter_bad_words(config.bad_words, config.bad_word_action, config.bad_word_replacement))
    stages.append(Stage("whitespace_again", collapse_whitespace))
    if config.max_words:
        stages.append(limit_words(config.max_words))
    stages += [limit_length(max_text_length), Stage("nothing_left", require_words)]
    return TextPipeline(stages)
