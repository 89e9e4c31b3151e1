"""The options of ``--sink obs`` (``obs-tts serve`` and ``obs-tts say``): which OBS, which
media source, how OBS gets the clips. The password only from $OBS_WEBSOCKET_PASSWORD (a
flag would show it in the process list)."""

from __future__ import annotations

import argparse
from typing import Any

from tts_core.config import TTSConfig
from tts_core.obs.ducking import Ducking

DEFAULT_MEDIA_SOURCE = "TTS Audio"


def add_obs_options(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The ``--sink obs`` group (returned, for a command to add its own options to it)."""
    obs = parser.add_argument_group("--sink obs", "play through a media source of a running OBS "
                                    "(obs-websocket v5; password from $OBS_WEBSOCKET_PASSWORD)")
    obs.add_argument("--obs-host", help="OBS address (default: $OBS_WEBSOCKET_HOST or 127.0.0.1)")
    obs.add_argument("--obs-port", type=int, help="obs-websocket port (default: $OBS_WEBSOCKET_PORT or 4455)")
    obs.add_argument("--media-source", default=DEFAULT_MEDIA_SOURCE,
                     help=f"media source to play through (default: {DEFAULT_MEDIA_SOURCE!r})")
    obs.add_argument("--caption-source", default="", help="text source that shows who is being read")
    obs.add_argument("--obs-mode", default="auto", choices=("auto", "local", "http"),
                     help="local: OBS reads the clip files; http: clips are served to OBS on another PC")
    obs.add_argument("--clip-port", type=int, default=0, help="port of the clip server in http mode")
    obs.add_argument("--public-host", help="this machine's address as OBS sees it (http mode)")
    return obs


def obs_sink_options(args: argparse.Namespace, config: TTSConfig) -> dict[str, Any]:
    """The RemoteObsSink options from the --obs-* flags and ``config.ducking`` (only for --sink obs)."""
    if args.sink != "obs":
        return {}
    return {
        "host": args.obs_host, "port": args.obs_port, "media_source": args.media_source,
        "caption_source": args.caption_source, "mode": args.obs_mode, "clip_port": args.clip_port,
        "public_host": args.public_host, "ducking": Ducking.from_config(config.ducking),
    }
