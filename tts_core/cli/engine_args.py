"""Options shared by `say`, `voices` and `doctor`: --config, --engine, --voice."""

from __future__ import annotations

import argparse
from pathlib import Path

from tts_core.config import TTSConfig
from tts_core.engines import ENGINES


def add_engine_options(p: argparse.ArgumentParser, voice: bool = True) -> None:
    """Add --config, --engine and (with ``voice``) --voice; a command may add --rate."""
    p.set_defaults(voice=None, rate=None)
    p.add_argument("--config", type=Path, help="JSON config file (engine section: name, fallback, keys)")
    p.add_argument("--engine", choices=sorted(ENGINES),
                   help="engine to use first (default: the config's engine.name, else espeak)")
    if voice:
        p.add_argument("--voice", help="voice of that engine (see `obs-tts voices --engine E`)")


def load_config(args: argparse.Namespace, **overrides: object) -> TTSConfig:
    """The config of --config (or the defaults) with --engine/--voice applied.

    --engine replaces the first engine of the chain and keeps the configured fallbacks."""
    config = TTSConfig.load(args.config) if args.config else TTSConfig()
    for key, value in overrides.items():
        setattr(config, key, value)
    engine = config.engine
    if args.engine and args.engine != engine.name:
        engine.name = args.engine
        engine.voice = None  # the configured voice belongs to the configured engine
        engine.fallback = [name for name in engine.fallback if name != args.engine]
    if args.voice:
        engine.voice = args.voice
    if args.rate:
        engine.rate = args.rate
    config.validate()
    return config
