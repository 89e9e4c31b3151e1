"""`obs-tts voices [--engine E]`: list the voices an engine offers."""

from __future__ import annotations

import argparse

from tts_core.engines import ENGINES, create_engine


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("voices", help="list the voices of an engine")
    p.add_argument("--engine", default="espeak", choices=sorted(ENGINES), help="engine (default: espeak)")
    p.add_argument("--language", help="only voices whose language starts with this, e.g. en")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    voices = create_engine(args.engine).list_voices()
    if args.language:
        voices = [v for v in voices if v.language.lower().startswith(args.language.lower())]
    width = max((len(v.id) for v in voices), default=5)
    lang = max((len(v.language) for v in voices), default=8)
    print(f"{'VOICE':<{width}}  {'LANGUAGE':<{lang}}  {'GENDER':<7} NAME")
    for v in voices:
        print(f"{v.id:<{width}}  {v.language:<{lang}}  {v.gender:<7} {v.name}")
    print(f"{len(voices)} voice(s); use one with --voice VOICE")
    return 0
