"""`obs-tts voices [--engine E] [--config F]`: list the voices an engine offers."""

from __future__ import annotations

import argparse

from tts_core.cli.engine_args import add_engine_options, load_config
from tts_core.engines import create_engine


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("voices", help="list the voices of an engine")
    add_engine_options(p, voice=False)
    p.add_argument("--language", help="only voices whose language starts with this, e.g. en")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config(args)
    name = config.engine.name
    voices = create_engine(name, **config.engine.options_for(name)).list_voices()
    if args.language:
        voices = [v for v in voices if v.language.lower().startswith(args.language.lower())]
    width = max((len(v.id) for v in voices), default=5)
    lang = max((len(v.language) for v in voices), default=8)
    print(f"{'VOICE':<{width}}  {'LANGUAGE':<{lang}}  {'GENDER':<7} NAME")
    for v in voices:
        print(f"{v.id:<{width}}  {v.language:<{lang}}  {v.gender:<7} {v.name}")
    print(f"{len(voices)} voice(s) of {name}; use one with --voice VOICE")
    return 0
