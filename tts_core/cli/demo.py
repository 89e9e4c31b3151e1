"""`obs-tts demo`: a burst of stream events through the real queue and espeak voice.

Feeds donations, subs, follows, raids, cheers and chat of mixed priorities, prints a
line per clip as it plays, then a table: order, priority, wait, duration.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tts_core.config import TTSConfig
from tts_core.runtime.manager import TTSQueueManager
from tts_core.sinks import WavDirSink

DEFAULT_OUT = "demo-output"


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="play a burst of sample stream events with the default voice")
    p.add_argument(
        "--out",
        type=Path,
        default=Path(DEFAULT_OUT),
        help=f"folder for the played clips and timeline.jsonl (default: {DEFAULT_OUT})",
    )
    p.add_argument(
        "--speed", type=float, default=1.0, help="playback clock: 1.0 = real time, 0 = as fast as possible"
    )
    p.add_argument("--voice", help="espeak voice, e.g. en-us (see `obs-tts voices`)")
    p.set_defaults(func=run)


def feed_events(integration: Any) -> None:
    """The sample burst: what a busy minute of a stream sends."""
    integration.process_follow("NewFollower")
    integration.process_chat_message("chatter42", "!tts hello from chat, love the stream")
    integration.process_donation("JohnDoe", 25.0, "Great stream!")
    integration.process_subscription("LoyalViewer", 12, "A whole year already!")
    integration.process_chat_message("lurker", "just a normal chat line that is not read")
    integration.process_raid("FriendlyStreamer", 42)
    integration.process_cheer("BitsFan", 500, "Take my bits")
    integration.process_donation("VIP_User", 150.0, "Keep up the great work!")
    integration.process_chat_message("Moderator", "!tts welcome everyone, be nice", is_mod=True)


def run(args: argparse.Namespace) -> int:
    from tts_core.ingest.translator import StreamerBotIntegration

    config = TTSConfig(max_concurrent_workers=2)
    config.engine.voice = args.voice
    manager = TTSQueueManager(config, sink=WavDirSink(args.out, speed=args.speed))
    integration = StreamerBotIntegration(manager)
    rows: list[dict[str, Any]] = []

    def on_event(event: dict[str, Any]) -> None:
        name = event["event"]
        if name == "playback_started":
            rows.append(event)
            print(
                f"  > #{len(rows):<2} {event['priority']:<7} waited {event['latency_ms'] / 1000:5.2f} s  "
                f"{event['duration_ms'] / 1000:4.1f} s  {event['text']}",
                flush=True,
            )
        elif name in ("failed", "rejected", "dropped"):
            print(
                f"  ! {name} {event['message_id']}: {event.get('error') or event.get('reason')}", flush=True
            )

    manager.subscribe(on_event)
    manager.start()
    print(f"Sending a burst of stream events; clips are written to {args.out}/ as they play.")
    feed_events(integration)
    stats = manager.get_stats()
    print(f"{stats['accepted']} message(s) queued; playing one at a time, highest priority first:")
    try:
        manager.wait_until_idle(timeout=300)
    finally:
        manager.stop()  # returns once every event has reached on_event
    print_table(rows)
    stats = manager.get_stats()
    print(
        f"played {stats['played']}, failed {stats['failed']}, dropped {stats['dropped']}, "
        f"rejected {stats['rejected']}; timeline: {args.out / 'timeline.jsonl'}"
    )
    return 0 if stats["failed"] == 0 else 1


def print_table(rows: list[dict[str, Any]]) -> None:
    print()
    print(f"{'ORDER':<6}{'PRIORITY':<10}{'WAIT':>8}{'DURATION':>10}  TEXT")
    for i, row in enumerate(rows, 1):
        text = row["text"] if len(row["text"]) <= 60 else row["text"][:57] + "..."
        wait, duration = row["latency_ms"] / 1000, row["duration_ms"] / 1000
        print(f"{i:<6}{row['priority']:<10}{wait:>7.2f}s{duration:>9.2f}s  {text}")
