"""Sinks play clips, one at a time: the real-time null sink and wav-dir."""

from __future__ import annotations

from tts_core.sinks.base import Sink
from tts_core.sinks.realtime import RealtimeSink
from tts_core.sinks.wavdir import WavDirSink

SINK_NAMES = ("realtime", "wav-dir")


def create_sink(name: str, folder: str | None = None, speed: float = 1.0) -> Sink:
    """Build a sink by name; ``folder`` is required for wav-dir."""
    if name == "realtime":
        return RealtimeSink(speed)
    if name == "wav-dir":
        if not folder:
            raise ValueError("the wav-dir sink needs a folder (--out DIR)")
        return WavDirSink(folder, speed)
    raise ValueError(f"unknown sink {name!r}; expected one of {', '.join(SINK_NAMES)}")


__all__ = ["SINK_NAMES", "RealtimeSink", "Sink", "WavDirSink", "create_sink"]
