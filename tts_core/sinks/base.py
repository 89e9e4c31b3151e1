"""The Sink protocol: where clips are played, one at a time."""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

from tts_core.audio import Clip
from tts_core.message import TTSMessage


class SinkUnavailable(RuntimeError):
    """The player is away (OBS not running, obs-websocket disconnected, the media
    source missing), not the clip at fault. ``play`` raises it before or while the clip
    plays; the message is not failed: it stays first in line and plays (again, from the
    start) once the sink is back. The text says why, in the streamer's words."""


@runtime_checkable
class Sink(Protocol):
    """Plays one clip at a time.

    ``play`` blocks until the clip has ended or ``stop`` is set (skip), and is only
    ever called from the manager's single player thread. ``close`` releases
    resources; it is called once, when the manager stops.

    Optional: ``label`` (how the streamer calls it, e.g. "OBS"; default ``name``) and
    ``unavailable_reason() -> str | None`` (why it cannot play now, or None): while it
    returns a reason, the player takes no clip and looks again with back-off. ``play``
    raises ``SinkUnavailable`` when the player goes away mid-clip.
    """

    name: str

    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None: ...

    def close(self) -> None: ...
