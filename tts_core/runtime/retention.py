"""Clip retention: a clip's file lives until its message ends; the last played ones stay for replay."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from tts_core.domain.audio import Clip
from tts_core.domain.message import TTSMessage
from tts_core.runtime.lifecycle import LifecyclePiece, Outcome
from tts_core.storage.clip_files import ClipFiles

DEFAULT_KEEP = 5  # played clips kept for replay


class ClipRetention(LifecyclePiece):
    """Keeps the clips of the last ``keep`` played (or skipped) messages for ``replay``
    and deletes every other clip as soon as its message ends or is dropped.

    Parameters: ``keep`` (played clips kept, default DEFAULT_KEEP; ``replay_keep`` in
    the config). ``attach`` gives it the clip folder of a run, ``detach`` forgets it.
    """

    def __init__(self, keep: int = DEFAULT_KEEP) -> None:
        self.keep = keep
        self.clips: ClipFiles | None = None
        self._played: OrderedDict[str, TTSMessage] = OrderedDict()
        self._lock = threading.Lock()

    def apply_settings(self, keep: int) -> None:
        """Keep ``keep`` played clips from the next played message on."""
        with self._lock:
            self.keep = keep

    def attach(self, clips: ClipFiles) -> None:
        with self._lock:
            self.clips = clips

    def detach(self) -> None:
        """The run ended: nothing is kept (the clip folder is removed with it)."""
        with self._lock:
            self.clips = None
            self._played.clear()

    def ended(self, msg: TTSMessage, outcome: Outcome, **details: Any) -> None:
        if outcome in (Outcome.PLAYED, Outcome.SKIPPED):
            self._keep(msg)
        else:
            self.discard(msg.clip)

    def dropped(self, msg: TTSMessage, reason: str, **details: Any) -> None:
        self.discard(msg.clip)

    def for_replay(self, msg_id: str | None = None) -> TTSMessage | None:
        """The played message ``msg_id`` (default: the last one) if its clip is kept."""
        with self._lock:
            if not self._played:
                return None
            if msg_id is None:
                return next(reversed(self._played.values()))
            return self._played.get(msg_id)

    def discard(self, clip: Clip | None) -> None:
        """Delete a clip's file, unless a kept played message still uses it (replays share it)."""
        with self._lock:
            clips = self.clips
            if clips is None or any(m.clip is clip for m in self._played.values()):
                return
        clips.discard(clip)

    def _keep(self, msg: TTSMessage) -> None:
        with self._lock:
            self._played[msg.id] = msg
            evicted = []
            while len(self._played) > self.keep:
                evicted.append(self._played.popitem(last=False)[1])
        for old in evicted:
            self.discard(old.clip)
