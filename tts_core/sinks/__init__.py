"""Sinks play clips, one at a time: the real-time null sink, wav-dir, and OBS (obs-websocket)."""

from __future__ import annotations

from typing import Any

from tts_core.sinks.base import Sink, SinkUnavailable
from tts_core.sinks.realtime import RealtimeSink
from tts_core.sinks.wavdir import WavDirSink

SINK_NAMES = ("realtime", "wav-dir", "obs")


def create_sink(name: str, folder: str | None = None, speed: float = 1.0, **obs_options: Any) -> Sink:
    """Build a sink by name; ``folder`` is required for wav-dir.

    ``obs`` plays through a media source of a running OBS over obs-websocket; its
    options are RemoteObsSink.from_options's (host, port, password, media_source, mode,
    caption_source, clip_host, clip_port, public_host, all_scenes, timeout). It can be
    created while OBS is not running: it connects (and reconnects) by itself, and the
    queue waits ("waiting for OBS") meanwhile.
    """
    if name == "realtime":
        return RealtimeSink(speed)
    if name == "wav-dir":
        if not folder:
            raise ValueError("the wav-dir sink needs a folder to write the clips to")
        return WavDirSink(folder, speed)
    if name == "obs":
        from tts_core.obs.remote.sink import RemoteObsSink

        return RemoteObsSink.from_options(**obs_options)
    raise ValueError(f"unknown sink {name!r}; expected one of {', '.join(SINK_NAMES)}")


__all__ = ["SINK_NAMES", "RealtimeSink", "Sink", "SinkUnavailable", "WavDirSink", "create_sink"]
