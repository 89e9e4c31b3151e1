"""`obs-tts say TEXT`: speak one text through the configured engine chain (or write it
to a file with --out)."""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from tts_core.cli.engine_args import add_engine_options, load_config
from tts_core.cli.obs_args import add_obs_options, obs_sink_options
from tts_core.config import TTSConfig
from tts_core.domain.audio import Clip
from tts_core.domain.events import Event
from tts_core.domain.message import MessagePriority, TTSMessage
from tts_core.domain.retries import RetryPolicy
from tts_core.engines.chain import engine_from_config
from tts_core.runtime.manager import TTSQueueManager
from tts_core.sinks import SINK_NAMES, create_sink

MAX_RETRY_WAIT_SECONDS = 10.0  # a command waits less between retries than the queue does
SPEAK_TIMEOUT_SECONDS = 120.0
FINAL_EVENTS = ("playback_finished", "skipped", "failed", "rejected", "dropped")


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("say", help="speak one text through the queue and the configured engines")
    p.add_argument("text", help="the text to speak (quote it: \"hello chat\")")
    p.add_argument("--priority", default="NORMAL", help="URGENT, HIGH, NORMAL (default) or LOW")
    add_engine_options(p)
    p.add_argument("--rate", type=int, help="words per minute")
    p.add_argument("--out", type=Path, help="write the clip to this file instead of playing it")
    p.add_argument("--sink", default="realtime", choices=SINK_NAMES,
                   help="realtime (default): wait as long as the clip plays, play nothing; wav-dir: write "
                        "the clip to --folder; obs: play it through a running OBS (options below)")
    p.add_argument("--folder", help="folder for the wav-dir sink")
    add_obs_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    priority = MessagePriority.parse(args.priority)
    config = load_config(args, max_retries=1)
    if args.out:
        return write_clip(config, args.text, args.out)
    sink = create_sink(args.sink, args.folder, **obs_sink_options(args, config))
    manager = TTSQueueManager(config, sink=sink)
    events: list[Event] = []
    ended = threading.Event()

    def on_event(event: Event) -> None:
        events.append(event)
        if event["event"] in FINAL_EVENTS:  # the only message there is
            ended.set()

    manager.subscribe(on_event)
    manager.start()
    try:
        message_id = manager.add_message(args.text, priority, voice=args.voice)
        print(f"queued {message_id} ({priority.name}); speaking...")
        ended.wait(SPEAK_TIMEOUT_SECONDS)
    finally:
        manager.stop()
    for event in events:
        if event["event"] == "playback_finished":
            print(f"spoke {event['message_id']} in {int(event['duration_ms']) / 1000:.2f} s"
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
    retries = RetryPolicy(config.max_retries, config.retry_backoff_seconds, MAX_RETRY_WAIT_SECONDS)
    while True:
        msg.attempts += 1
        try:
            clip = Clip.from_bytes(
                chain.synthesize_message(msg, engine_cfg.voice, engine_cfg.rate, engine_cfg.volume))
            break
        except Exception as exc:  # noqa: BLE001 - the retry policy decides what it means
            verdict = retries.after_failure(exc, msg.attempts)
            if not verdict.retry:
                print(f"failed after {msg.attempts} attempt(s): {verdict.error}" if msg.attempts > 1
                      else f"failed: {verdict.error}")
                return 1
            time.sleep(verdict.delay)  # the back-off itself, not a wait for another thread
    out.write_bytes(clip.data)
    note = ""
    if out.suffix.lower().lstrip(".") in ("wav", "mp3") and out.suffix.lower().lstrip(".") != clip.format:
        note = f" (the clip is {clip.format.upper()}; the file name says {out.suffix})"
    event = {"engine": msg.engine, "fallback_from": msg.fallback_from, "spoken_voice": msg.spoken_voice}
    print(f"wrote {out} ({clip.format}, {clip.duration_ms / 1000:.2f} s{_engine_note(event)}){note}")
    return 0


def _engine_note(event: Mapping[str, object]) -> str:
    """", engine E[ instead of F], voice V": the engine that really spoke, and its voice."""
    if not event.get("engine"):
        return ""
    note = f", engine {event['engine']}"
    if event.get("fallback_from"):
        note += f" instead of {event['fallback_from']}"
    if event.get("spoken_voice"):
        note += f", voice {event['spoken_voice']}"
    return note
