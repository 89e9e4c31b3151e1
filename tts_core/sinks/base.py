"""The Sink base class: where clips are played, one at a time."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

from tts_core.domain.audio import Clip
from tts_core.domain.message import TTSMessage


class SinkUnavailable(RuntimeError):
    """The player is away (OBS not running, obs-websocket disconnected, the media
    source missing), not the clip at fault. ``play`` raises it before or while the clip
    plays; the message is not failed: it stays first in line and plays (again, from the
    start) once the sink is back. The text says why, in the streamer's words."""


class StartDecision:
    """Whether a cued clip starts: decided once, without ever blocking the thread that
    starts it. ``claim`` (the sink, at the end of the playing clip; never waits) and
    ``withdraw`` (the player or the queue: pause, Clear, Remove, a message that must play
    first) race for one lock; whoever takes it first decides."""

    def __init__(self) -> None:
        self._decided = threading.Lock()
        self._withdrawing = threading.Lock()  # withdrawers only: the claiming thread never waits
        self.withdrawn = False
        self.started = False

    def claim(self) -> bool:
        """True: start the clip now (it was not withdrawn, and now never will be)."""
        if self._decided.acquire(blocking=False):
            self.started = True
        return self.started

    def withdraw(self) -> bool:
        """True: the clip will never start (withdrawn now or before); False: it was claimed."""
        with self._withdrawing:
            if not self.withdrawn and self._decided.acquire(blocking=False):
                self.withdrawn = True
            return self.withdrawn


@dataclass(eq=False)
class Cue:
    """The clip that starts the moment the playing one ends: ``clip`` of ``message``,
    cut by ``stop`` (never started once ``stop`` is set). The player hands it to a sink
    that ``cues_next`` while the current clip still plays; the player records the current
    clip's end and the cued one's start afterwards, in that order."""

    clip: Clip | None
    message: TTSMessage
    stop: threading.Event
    decision: StartDecision = field(default_factory=StartDecision)


class Sink(ABC):
    """Plays one clip at a time; every sink subclasses it.

    A subclass sets ``name`` and defines ``play``; every other member has a default,
    so this class is the whole contract. ``play`` is only ever called from the
    manager's single player thread.
    """

    name: str = "sink"
    # A sink that can start a cued clip the moment the playing one ends sets cues_next;
    # the player then sets next_up, which play() calls (on the player thread) near the
    # clip's end: the Cue to start right after it, or None (nothing ready yet: ask again).
    cues_next: bool = False
    next_up: Callable[[], Cue | None] | None = None

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
