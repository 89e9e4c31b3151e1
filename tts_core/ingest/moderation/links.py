"""Links, in every shape people use to dodge a filter, are never spelled out.

Found: ``https://x``, ``hxxps://``, ``h t t p s : / /``, ``https colon slash slash``,
``www.x``, ``bit.ly/x``, ``evil . com``, ``evil[.]com``, ``evil(dot)com``, ``evil dot com``,
unicode dots (``evil。com``), look-alike letters (``еvil.соm``), e-mail addresses and IP
addresses. Ordinary dots ("e.g.", "1.5", "Node.js", "home. Co-op") are not links.

Parameters of ``link_stage``: ``action`` (a ``LinkAction``: ``replace`` says ``word``
instead, ``remove`` leaves the link out, ``drop`` refuses the whole message), ``word``
(default "link").
"""

from __future__ import annotations

import re

from tts_core.domain.moderation import LINK_WORD, LinkAction
from tts_core.ingest.moderation.base import TextStage, rejected
from tts_core.ingest.moderation.normalize import matching_view

# Top-level domains that mark a bare word.word as a link (ambiguous English words left out).
TLDS = (
    "com|net|org|io|tv|gg|ly|me|co|uk|de|fr|ru|info|xyz|app|dev|link|live|stream|shop|site|"
    "online|club|biz|ca|eu|nl|pl|br|jp|cn|au|cc|sh|fm|gl|gd|tk|ml|ga|cf|edu|gov|ai|store|tech|"
    "top|click|icu|vip|pro|win|bid|buzz|fun|space|website|ws|su|ua|kr|in|es|it|ch|se|no|cz|"
    "tw|hk|sg|nz|za|mx|ar|cl|ir|tr|gr|pt|ro|hu|fi|dk|at|be|ie|il|vn|th|id|my|ph|pk|bd|am|to"
)
# Two-letter TLDs that are everyday words: a link only without spaces around the dot.
_WORDY_TLDS = {"me", "co", "in", "it", "no", "at", "be", "id", "my", "am", "to", "is", "ws"}
_DOT_CHARS = "。・·•∙⋅‧"
_BRACKET_DOT = r"[\[({<]\s*(?:\.|dot)\s*[\])}>]"
_SEP = rf"(?:\s*{_BRACKET_DOT}\s*|\.|[{_DOT_CHARS}]|\s+\.\s+|\s+dot\s+)"
_LABEL = r"[a-z0-9][a-z0-9-]{0,62}"
_SCHEME = (r"(?:h\W{0,2}[tx]\W{0,2}[tx]\W{0,2}p(?:\W{0,2}s)?|[a-z][a-z0-9+.-]{1,15})"
           r"\s*(?::|colon|[\[(]\s*:\s*[\])])\s*"
           r"(?:/\s*/|\\\s*\\|(?:forward\s*)?slash\s*(?:forward\s*)?slash)\S*")
_LINK = re.compile(
    rf"(?i)(?<![\w@]){_SCHEME}"
    rf"|(?<![\w.+-])[\w.+-]+@[\w-]+(?:{_SEP}[\w-]+)+"
    rf"|\bwww\d{{0,3}}{_SEP}\S+"
    r"|\b\d{1,3}(?:\.\d{1,3}){3}\b(?::\d+)?(?:/\S*)?"
    rf"|(?<![\w@-]){_LABEL}(?:{_SEP}{_LABEL})*(?P<sep>{_SEP})(?P<tld>{TLDS})(?![\w-])(?:[:/?#]\S*)?"
)
# "the dot com bubble", "a . me": the spaced forms after an everyday word are speech, not links.
_EVERYDAY = {"the", "a", "an", "and", "or", "of", "to", "in", "on", "at", "is", "it", "this", "that",
             "my", "your", "dot", "i", "so", "go", "be", "no"}
_MARKERS = re.compile(rf"[./@:\\{_DOT_CHARS}]|dot", re.IGNORECASE)
_FIRST_LABEL = re.compile(r"[a-z0-9-]+", re.IGNORECASE)


def find_links(text: str) -> list[tuple[int, int]]:
    """Spans of the links in ``text`` (look-alike letters folded first)."""
    if not _MARKERS.search(text):
        return []
    view = matching_view(text)
    spans = []
    for match in _LINK.finditer(view):
        if match.group("tld") is not None and _is_speech(match):
            continue
        spans.append(match.span())
    return spans


def _is_speech(match: re.Match[str]) -> bool:
    sep, tld = match.group("sep"), match.group("tld").lower()
    spaced = sep != "." and sep.strip() in (".", "dot") and sep != sep.strip()
    if not spaced:
        return False
    first = _FIRST_LABEL.match(match.group())
    return tld in _WORDY_TLDS or (first is not None and first.group().lower() in _EVERYDAY)


def replace_spans(text: str, spans: list[tuple[int, int]], word: str) -> str:
    """``text`` with each span replaced by ``word`` with spaces around it (a space if empty)."""
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start])
        out.append(f" {word} " if word else " ")
        last = end
    out.append(text[last:])
    return "".join(out)


def link_stage(action: str = LinkAction.REPLACE, word: str = LINK_WORD) -> TextStage:
    acting = [a for a in LinkAction if a != LinkAction.OFF]  # "off" builds no stage at all
    if action not in acting:
        raise ValueError(f"a link stage needs one of {', '.join(acting)}, got {action!r}")
    run = re.compile(rf"(?i)\b{re.escape(word)}(?:\W+{re.escape(word)}\b)+") if word else None

    def edit(text: str) -> str:
        spans = find_links(text)
        if not spans:
            return text
        if action == LinkAction.DROP:
            raise rejected("link", "the message contains a link")
        replace = action == LinkAction.REPLACE
        cleaned = replace_spans(text, spans, word if replace else "")
        return run.sub(word, cleaned) if run is not None and replace else cleaned

    return TextStage("links", edit)
