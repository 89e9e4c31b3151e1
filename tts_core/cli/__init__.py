"""The `obs-tts` command: demo, say, voices, doctor, twitch (and serve/send from the listener)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from tts_core import __version__

DESCRIPTIONS = {
    "demo": "Play a burst of sample stream events (donation, follow, raid, chat, ...) through the "
            "queue with the default voice (espeak-ng; the system voice where it is missing) and print "
            "a table of what played when.",
    "say": "Speak one text through the queue and the configured engine chain (engine.name, then "
           "engine.fallback), or write the clip to a file with --out. Prints the engine and voice "
           "that really spoke.",
    "voices": "List the voices of an engine (the configured one, or --engine): the ids --voice and "
              "engine.voice take.",
    "doctor": "Check which engines, sinks, connectors and folders work on this machine, and say how to "
              "fix the ones that do not. Engines of the configured chain speak a short test clip.",
    "twitch": "Log in to Twitch for the Twitch connector (device login: you type a code on twitch.tv), "
              "or log out.",
    "serve": "Run the queue with its WebSocket/HTTP listener (and the connectors the config turns on) "
             "until Ctrl+C. SIGHUP re-reads --config.",
    "send": "Send one JSON frame (an event or a request) to a running listener and print the reply.",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="obs-tts", description="Text-to-speech queue for live streams (OBS TTS Queue).",
        epilog="Run `obs-tts COMMAND --help` for a command's options. Start with `obs-tts doctor` "
               "(what works on this machine) and `obs-tts say \"hello chat\"`.",
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
    for command in sub.choices.values():  # a command's own --help opens with what it does
        if command.description is None:
            command.description = DESCRIPTIONS.get(command.prog.split()[-1])
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
