"""What the caption text source shows while a clip plays: who, and what is read."""

from __future__ import annotations

from tts_core.domain.message import TTSMessage

MAX_CAPTION_CHARS = 200


def caption_text(message: TTSMessage, max_chars: int = MAX_CAPTION_CHARS) -> str:
    """"JohnDoe: Great stream!" (or just the text when nobody is named), cut at ``max_chars``."""
    text = " ".join(message.text.split())
    who = " ".join((message.username or "").split()).lstrip("@")
    caption = f"{who}: {text}" if who and not text.lower().startswith(who.lower()) else text
    if len(caption) > max_chars:
        caption = caption[: max_chars - 1].rstrip() + "…"
    return caption
