"""`obs-tts say TEXT`: speak one text through the configured engine chain (or write it
to a file with --out)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from pathlib import Path

from tts_core.audio import Clip
from tts_core.commands.engine_args import add_engine_options, load_config
from tts_core.config import TTSConfig
from tts_core.engines.base import EngineError, EngineRateLimited, PermanentEngineError
from tts_core.fallback import engine_from_config
from tts_core.manager import TTSQueueManager
from tts_core.message import MessagePriority, TTSMessage
from tts_core.sinks import SINK_NAMES, create_sink

MAX_RETRY_WAIT_SECONDS = 10.0


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("say", help="speak one text through the queue and the configured engines")
    p.add_argument("text")
    p.add_argument("--priority", default="NORMAL", help="URGENT, HIGH, NORMAL or LOW")
    add_engine_options(p)
    p.add_argument("--rate", type=int, help="words per minute")
    p.add_argument("--out", type=Path, help="write the clip to this file instead of playing it")
    p.add_argument("--sink", default="realtime", choices=SINK_NAMES)
    p.add_argument("--folder", help="folder for the wav-dir sink")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    priority = MessagePriority.parse(args.priority)
    config = load_config(args, max_retries=1)
    if args.out:
        return write_clip(config, args.text, args.out)
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
            print(f"spoke {event['message_id']} in {int(event['duration_ms']) / 1000:.2f} s"  # type: ignore[call-overload]
                  f"{_engine_note(event)}")
            return 0
        if event["event"] in ("failed", "rejected"):
            print(f"{event['event']}: {event.get('error') or event.get('reason')}")
            return 1
    return 1


def write_clip(config: TTSConfig, text: str, out: Path) -> int:
    """Synthesize through the chain with the queue's retry rules; write the clip as is."""
    chain = engine_from_config(config)
    msg = TTSMessage(text, MessagePriority.NORMAL, 0)
    engine_cfg = config.engine
    while True:
        msg.attempts += 1
        try:
            data = chain.synthesize_message(msg, engine_cfg.voice, engine_cfg.rate, engine_cfg.volume)
            break
        except PermanentEngineError as exc:
            print(f"failed: {exc}")
            return 1
        except EngineError as exc:
            if msg.attempts > config.max_retries:
                print(f"failed after {msg.attempts} attempt(s): {exc}")
                return 1
            wait = config.retry_backoff_seconds * 2 ** (msg.attempts - 1)
            if isinstance(exc, EngineRateLimited) and exc.retry_after:
                wait = max(wait, exc.retry_after)
            time.sleep(min(wait, MAX_RETRY_WAIT_SECONDS))
    clip = Clip.from_bytes(data)
    out.write_bytes(clip.data)
    note = ""
    if out.suffix.lower().lstrip(".") in ("wav", "mp3") and out.suffix.lower().lstrip(".") != clip.format:
        note = f" (the clip is {clip.format.upper()}; the file name says {out.suffix})"
    event = {"engine": msg.engine, "fallback_from": msg.fallback_from}
    print(f"wrote {out} ({clip.format}, {clip.duration_ms / 1000:.2f} s{_engine_note(event)}){note}")
    return 0


def _engine_note(event: Mapping[str, object]) -> str:
    if not event.get("engine"):
        return ""
    if event.get("fallback_from"):
        return f", engine {event['engine']} instead of {event['fallback_from']}"
    return f", engine {event['engine']}"
