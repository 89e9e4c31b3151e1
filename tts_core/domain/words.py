"""When each word of a clip is spoken: the captions overlay highlights the current word.

Azure and Edge report word boundaries (audio offset and duration of each word) while
they synthesize; their ``synthesize`` returns ``TimedAudio``, bytes that also carry
those ``words``, so the Engine contract (``-> bytes``) and every caller stay unchanged.
``caption_words`` turns them into one timing per word of the text as spoken (the
event's ``text``, split at white space); for engines that report nothing, it spreads
the words over the clip's duration (by their length), marked as an estimate.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

TICKS_PER_MS = 10_000  # Azure and Edge count audio offsets in 100-ns ticks
WORD_TIMING_ENGINE = "engine"
WORD_TIMING_ESTIMATE = "estimate"
_TOKEN = re.compile(r"\S+")
LOOKAHEAD_WORDS = 4  # how many words of the text an engine's word may be ahead of the last one found


@dataclass(frozen=True)
class SpokenWord:
    """One word the engine reported: its ``text`` and when it is spoken (ms from the clip's start)."""

    text: str
    start_ms: int
    end_ms: int


class TimedAudio(bytes):
    """Audio bytes plus the ``words`` the engine reported while making them."""

    words: tuple[SpokenWord, ...]

    def __new__(cls, data: bytes, words: tuple[SpokenWord, ...] | list[SpokenWord]) -> TimedAudio:
        made = super().__new__(cls, data)
        made.words = tuple(words)
        return made


def words_of(data: object) -> tuple[SpokenWord, ...]:
    """The engine's word timings carried by ``data`` (``()`` for plain bytes)."""
    words = getattr(data, "words", ())
    return tuple(words) if isinstance(words, (tuple, list)) else ()


def from_ticks(text: str, offset_ticks: int, duration_ticks: int) -> SpokenWord:
    """A word boundary as Azure and Edge report it (100-ns ticks)."""
    start = max(0, round(offset_ticks / TICKS_PER_MS))
    return SpokenWord(text, start, start + max(0, round(duration_ticks / TICKS_PER_MS)))


def caption_words(text: str, duration_ms: int,
                  spoken: tuple[SpokenWord, ...] = ()) -> tuple[list[dict[str, Any]], str]:
    """``(words, word_timing)`` for a ``playback_started`` event.

    ``words``: one ``{"text", "start_ms", "end_ms"}`` per white-space separated word of
    ``text``, in order, times non-decreasing and within ``duration_ms``. ``word_timing``
    is ``"engine"`` when the engine's word boundaries placed them (words the engine did
    not report, such as a lone ``-``, are put between their neighbours), else
    ``"estimate"``: the words spread evenly over the clip, weighted by their length.
    """
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    if not tokens:
        return [], WORD_TIMING_ESTIMATE
    duration_ms = max(0, int(duration_ms))
    placed = _align(text, tokens, spoken, duration_ms) if spoken else None
    timing = WORD_TIMING_ENGINE if placed is not None else WORD_TIMING_ESTIMATE
    times = placed if placed is not None else _estimate(text, tokens, duration_ms)
    return ([{"text": text[a:b], "start_ms": start, "end_ms": end}
             for (a, b), (start, end) in zip(tokens, times, strict=True)], timing)


def _estimate(text: str, tokens: list[tuple[int, int]], duration_ms: int) -> list[tuple[int, int]]:
    """Each word gets a share of the clip in proportion to its length (+1 for the pause after it)."""
    weights = [b - a + 1 for a, b in tokens]
    total = sum(weights)
    times, elapsed = [], 0
    for weight in weights:
        start = round(duration_ms * elapsed / total)
        elapsed += weight
        times.append((start, round(duration_ms * elapsed / total)))
    return times


def _align(text: str, tokens: list[tuple[int, int]], spoken: tuple[SpokenWord, ...],
           duration_ms: int) -> list[tuple[int, int]] | None:
    """Times per token from the engine's words, found in ``text`` in order; None if none is found."""
    starts: list[int | None] = [None] * len(tokens)
    ends: list[int | None] = [None] * len(tokens)
    token, inside = 0, 0  # the token of the last word found, and where in it that word ended
    for word in spoken:
        needle = html.unescape(word.text).strip().casefold()
        found = _find(text, tokens, needle, token, inside) if needle else None
        if found is None:
            continue  # the engine said it differently ("$5" -> "five dollars"): its neighbours place it
        token, inside = found
        start, end = min(word.start_ms, duration_ms), min(max(word.end_ms, word.start_ms), duration_ms)
        if starts[token] is None:
            starts[token] = start
        ends[token] = max(end, ends[token] or 0)
    if all(start is None for start in starts):
        return None
    return _fill_gaps(starts, ends, duration_ms)


def _find(text: str, tokens: list[tuple[int, int]], needle: str, token: int,
          inside: int) -> tuple[int, int] | None:
    """``(token, end in it)`` where ``needle`` starts a word: later in the current token
    ("well-known") or in one of the next few; None if it is not there."""
    for index in range(token, min(len(tokens), token + LOOKAHEAD_WORDS + 1)):
        a, b = tokens[index]
        piece = text[a:b].casefold()
        at = piece.find(needle, inside if index == token else 0)
        while at > 0 and piece[at - 1].isalnum():  # inside another word ("a" in "raid")
            at = piece.find(needle, at + 1)
        if at >= 0:
            return index, at + len(needle)
    return None


def _fill_gaps(starts: list[int | None], ends: list[int | None], duration_ms: int) -> list[tuple[int, int]]:
    """Words the engine did not report share the time between the reported ones around
    them; no word starts before the one before it."""
    count = len(starts)
    times: list[tuple[int, int]] = []
    last_start = last_end = 0
    i = 0
    while i < count:
        start, end = starts[i], ends[i]
        if start is not None:
            last_start = max(start, last_start)
            last_end = max(end or 0, last_start)
            times.append((last_start, last_end))
            i += 1
            continue
        gap_end = i
        while gap_end < count and starts[gap_end] is None:
            gap_end += 1
        following = starts[gap_end] if gap_end < count else None
        begin = last_end
        finish = max(begin, duration_ms if following is None else following)
        run = gap_end - i
        for k in range(run):
            times.append((begin + (finish - begin) * k // run, begin + (finish - begin) * (k + 1) // run))
        last_start, last_end = times[-1]
        i = gap_end
    return times
