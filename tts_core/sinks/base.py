"""The Sink base class: where clips are played, one at a time."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod

from tts_core.domain.audio import Clip
from tts_core.domain.message import TTSMessage


class SinkUnavailable(RuntimeError):
    """The player is away (OBS not running, obs-websocket disconnected, the media
    source missing), not the clip at fault. ``play`` raises it before or while the clip
    plays; the message is not failed: it stays first in line and plays (again, from the
    start) once the sink is back. The text says why, in the streamer's words."""


class Sink(ABC):
    """Plays one clip at a time; every sink subclasses it.

    A subclass sets ``name`` and defines ``play``; every other member has a default,
    so this class is the whole contract. ``play`` is only ever called from the
    manager's single player thread.
    """

    name: str = "sink"

    @property
    def label(self) -> str:
        """How the streamer calls it in "waiting for ..." (e.g. "OBS"); default ``name``."""
        return self.name

    @abstractmethod
    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None:
        """Block until the clip has ended or ``stop`` is set (skip). Raises
        SinkUnavailable when the player is away, before or during the clip."""

    def unavailable_reason(self) -> str | None:
        """Why the sink cannot play now, or None (also when it cannot tell: then only a
        clip that plays says it is back). While there is a reason, the player takes no
        clip and looks again with back-off."""
        return None

    def close(self) -> None:  # noqa: B027 - a default: most sinks hold nothing
        """Release resources; called once, when the manager stops."""
