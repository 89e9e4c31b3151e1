"""Which engine voice speaks a message.

In order: the voice the bot sent with the event (an alias on the list is mapped to
its engine voice, as Speaker.bot's ``Speak`` sends alias names), an inline alias the viewer typed
(``brian: hello``, only aliases on the allow-list; anything else is read as plain
text), the viewer's own voice (``users``), the event type's voice (``events``), else
None (the engine's default voice).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tts_core.config import VoicesConfig
from tts_core.ingest.moderation.gates import user_key

_INLINE = re.compile(r"\s*\(?([^\W\d_][\w-]{0,31})\)?\s*:\s*(?=\S)")


@dataclass(frozen=True)
class VoiceChoice:
    voice: str | None
    text: str  # the viewer's words without the inline alias


class VoiceChooser:
    """Parameters: ``config`` (VoicesConfig)."""

    def __init__(self, config: VoicesConfig) -> None:
        self.config = config
        self.aliases = {k.casefold(): v for k, v in config.aliases.items()}
        self.users = {user_key(k): v for k, v in config.users.items()}

    def choose(self, text: str, event_type: str, username: str | None, requested: str | None = None,
               inline: bool = True) -> VoiceChoice:
        """The voice for this message, and the text without an allowed inline alias."""
        if inline and self.config.inline and self.aliases:
            match = _INLINE.match(text)
            if match is not None:
                voice = self.aliases.get(match.group(1).casefold())
                if voice is not None:
                    chosen = self.aliases.get(requested.casefold(), requested) if requested else voice
                    return VoiceChoice(chosen, text[match.end():])
        if requested:  # Speaker.bot's Speak sends an alias name as its voice
            return VoiceChoice(self.aliases.get(requested.casefold(), requested), text)
        voice = self.users.get(user_key(username)) if username else None
        return VoiceChoice(voice or self.config.events.get(event_type), text)
