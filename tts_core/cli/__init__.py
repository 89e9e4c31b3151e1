"""The `obs-tts` command: demo, say, voices, doctor, twitch (and serve/send from the listener)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from tts_core import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="obs-tts", description="Text-to-speech queue for live streams (OBS TTS Queue)."
    )
    parser.add_argument("--version", action="version", version=f"obs-tts {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    from tts_core.cli import demo, doctor, say, twitch, voices
    from tts_core.cli.serve import add_commands as add_listener_commands

    demo.add_command(sub)
    say.add_command(sub)
    voices.add_command(sub)
    doctor.add_command(sub)
    twitch.add_command(sub)
    add_listener_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (ValueError, RuntimeError, OSError, LookupError) as exc:
        print(f"obs-tts {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
