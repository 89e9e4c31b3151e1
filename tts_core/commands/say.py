"""`obs-tts say TEXT`: speak one text through the queue (or write it to a file)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tts_core.audio import Clip
from tts_core.config import TTSConfig
from tts_core.engines import ENGINES, create_engine
from tts_core.manager import TTSQueueManager
from tts_core.message import MessagePriority
from tts_core.sinks import SINK_NAMES, create_sink


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("say", help="speak one text through the queue")
    p.add_argument("text")
    p.add_argument("--priority", default="NORMAL", help="URGENT, HIGH, NORMAL or LOW")
    p.add_argument("--voice", help="engine voice (see `obs-tts voices`)")
    p.add_argument("--engine", default="espeak", choices=sorted(ENGINES))
    p.add_argument("--rate", type=int, help="words per minute")
    p.add_argument("--out", type=Path, help="write the clip to this file instead of playing it")
    p.add_argument("--sink", default="realtime", choices=SINK_NAMES)
    p.add_argument("--folder", help="folder for the wav-dir sink")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    priority = MessagePriority.parse(args.priority)
    if args.out:
        engine = create_engine(args.engine, voice=args.voice, rate=args.rate)
        clip = Clip.from_bytes(engine.synthesize(args.text))
        args.out.write_bytes(clip.data)
        print(f"wrote {args.out} ({clip.format}, {clip.duration_ms / 1000:.2f} s)")
        return 0
    config = TTSConfig(max_retries=1)
    config.engine.name, config.engine.voice, config.engine.rate = args.engine, args.voice, args.rate
    manager = TTSQueueManager(config, sink=create_sink(args.sink, args.folder))
    events: list[dict[str, object]] = []
    manager.subscribe(events.append)
    manager.start()
    try:
        message_id = manager.add_message(args.text, priority, voice=args.voice)
        print(f"queued {message_id} ({priority.name}); speaking...")
        manager.wait_until_idle(timeout=120)
        time.sleep(0.05)  # let the event thread deliver the last event
    finally:
        manager.stop()
    for event in events:
        if event["event"] == "playback_finished":
            print(f"spoke {event['message_id']} in {int(event['duration_ms']) / 1000:.2f} s")  # type: ignore[call-overload]
            return 0
        if event["event"] in ("failed", "rejected"):
            print(f"{event['event']}: {event.get('error') or event.get('reason')}")
            return 1
    return 1
