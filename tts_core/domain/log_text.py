"""Viewer-supplied text made safe for one log line or terminal line.

A username or message can hold a newline (a forged log line), terminal escapes (a
cleared screen), NUL, or a lone surrogate (which no encoder accepts). ``loggable``
escapes every such character as ``\\xNN`` or ``\\uNNNN`` (a newline is ``\\x0a``) and
shortens long text, so a log line stays one line of printable text.
"""

from __future__ import annotations


def _escaped(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def loggable(value: object, limit: int = 200) -> str:
    """``value`` as one line of printable text, at most about ``limit`` characters: every
    character Python does not call printable (controls, separators, format characters
    such as bidi overrides, surrogates) is escaped."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + f"... ({len(text)} characters)"
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escaped(c) for c in text)
