"""Names read like a person would: speakable usernames and when to say "X says" again.

``speakable_name("xX_Gamer_1337_Xx") == "Gamer"``: a leading @, separators (``_ - .``
spaces and other symbols, emoji), an ``xX ... Xx`` decoration, ``ttv``/``yt`` tags and
the digits at the end are dropped, and camel case is split ("DarkLord_99" -> "Dark
Lord"). A name that has none of those marks (letters only, "JohnDoe", "ninja") is left
as written; a name that would become empty ("1337", "🔥🔥") stays as the viewer wrote it.

``Speakers`` remembers who was heard last and when (an injected monotonic clock), so a
chat template can leave out "X says" while the same viewer keeps talking. Pure: no I/O.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping

_SPACES = re.compile(r"\s+")
# Runs of letters/digits (any script); everything else separates words. Apostrophes
# inside a word stay ("O'Brien").
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_DECORATION = re.compile(r"[xX]*(?:xX|Xx)[xX]*")
_LEADING_DECORATION = re.compile(r"[xX]*(?:xX|Xx)[xX]*(?![a-z])")  # "xXGamer", not "Xxavier"
_TAGS = frozenset({"ttv", "yt"})


def plain_name(raw: str) -> str:
    """The minimal clean-up every name gets: no leading @, underscores as spaces."""
    return _SPACES.sub(" ", raw.strip().lstrip("@").replace("_", " ")).strip()


def speakable_name(raw: str) -> str:
    """``raw`` as a person would say it; ``plain_name(raw)`` when nothing speakable is left."""
    name = raw.strip().lstrip("@").strip()
    chunks = _WORD.findall(name)
    if not chunks:
        return plain_name(raw) or raw.strip()
    plain = len(chunks) == 1 and chunks[0] == name and not _LEADING_DECORATION.match(name)
    if plain and not any(c.isdigit() for c in name):
        return name  # a plain word: "JohnDoe", "ninja", "ALLCAPS" are read as written
    words = [word for chunk in chunks for word in _split_case(chunk)]
    words = _strip_marks(words, chunks)
    return " ".join(words) if words else (plain_name(raw) or raw.strip())


def _split_case(chunk: str) -> list[str]:
    """Camel case and letter/digit boundaries: "MrBeast6000" -> Mr, Beast, 6000;
    "XMLParser" -> XML, Parser; "xXGamerXx" -> x, X, Gamer, Xx."""
    words: list[str] = []
    start = 0
    for i in range(1, len(chunk)):
        prev, cur = chunk[i - 1], chunk[i]
        nxt = chunk[i + 1] if i + 1 < len(chunk) else ""
        if (
            (prev.isdigit() != cur.isdigit())
            or (prev.islower() and cur.isupper())
            or (prev.isupper() and cur.isupper() and nxt.islower())
        ):
            words.append(chunk[start:i])
            start = i
    words.append(chunk[start:])
    return words


def _strip_marks(words: list[str], chunks: list[str]) -> list[str]:
    """Drop the xX...Xx decoration, ttv/yt tags at either end and the digits at the end."""
    first, last = chunks[0], chunks[-1]
    decorated = bool(_LEADING_DECORATION.match(first) or _DECORATION.fullmatch(last))
    words = list(words)

    def decoration(word: str) -> bool:
        return decorated and set(word) <= {"x", "X"}

    while words and (decoration(words[0]) or words[0].casefold() in _TAGS):
        words.pop(0)
    while words and (decoration(words[-1]) or words[-1].isdigit() or words[-1].casefold() in _TAGS):
        words.pop()
    return words


def nickname_for(raw: str, nicknames: Mapping[str, str]) -> str | None:
    """The streamer's nickname for ``raw`` (login or display name, any case, with or
    without @), or None."""
    wanted = raw.strip().lstrip("@").strip().casefold()
    for name, spoken in nicknames.items():
        if name.strip().lstrip("@").strip().casefold() == wanted:
            return spoken
    return None


class Speakers:
    """Who was heard last, and when: decides whether "X says" is needed again.

    ``clock`` returns monotonic seconds (tests pass a fake). Thread-safe: events arrive
    from several connectors at once.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._last: str | None = None
        self._last_seen: dict[str, float] = {}

    @staticmethod
    def key(username: str | None) -> str | None:
        return None if not username else username.strip().lstrip("@").strip().casefold()

    def needs_name(self, username: str | None, pause_seconds: float) -> bool:
        """True unless ``username`` was the last one heard, less than ``pause_seconds``
        ago (0: the name is always said)."""
        key = self.key(username)
        with self._lock:
            if pause_seconds <= 0 or key is None or key != self._last:
                return True
            return self.clock() - self._last_seen[key] >= pause_seconds

    def heard(self, username: str | None) -> None:
        """Record that a line of ``username`` (None: no viewer, e.g. a bot's announcement)
        was queued now."""
        key = self.key(username)
        with self._lock:
            self._last = key
            if key is not None:
                self._last_seen = {key: self.clock()}  # only the last speaker matters

    def reset(self) -> None:
        with self._lock:
            self._last, self._last_seen = None, {}
