"""`obs-tts serve` (the queue + listener until Ctrl+C) and `obs-tts send` (a test client)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import json
import logging
import os
import re
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tts_core.cli.obs_args import add_obs_options, obs_sink_options
from tts_core.config import TTSConfig
from tts_core.config.ducking import ATTACK_MS_RANGE, DB_RANGE, RELEASE_MS_RANGE, DuckingConfig
from tts_core.connectors.running import build_connectors
from tts_core.domain.events import Event
from tts_core.domain.log_text import loggable
from tts_core.engines.auto_engine import who_speaks
from tts_core.engines.chain import engine_from_config
from tts_core.ingest.translator import StreamerBotIntegration
from tts_core.listener.server import ListenerServer
from tts_core.obs.ducking import Ducking
from tts_core.obs.remote.sink import RemoteObsSink
from tts_core.runtime.manager import TTSQueueManager
from tts_core.sinks import SINK_NAMES, Sink, create_sink

DEFAULT_URL = "ws://127.0.0.1:8765/"
TOKEN_ENV = "OBS_TTS_TOKEN"
FINAL_EVENTS = ("playback_finished", "skipped", "failed", "dropped", "rejected")

log = logging.getLogger(__name__)


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the queue with the WebSocket/HTTP listener until Ctrl+C")
    serve.add_argument("--config", type=Path, help="JSON config file (the seed's shape)")
    serve.add_argument("--sink", default="realtime", choices=SINK_NAMES,
                       help="realtime: hold each clip for its duration, play nothing; wav-dir: write clips "
                            "to --out; obs: play through a running OBS (options below)")
    serve.add_argument("--out", help="folder for --sink wav-dir")
    serve.add_argument("--host", help="listener address (default from config: 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listener port (default from config: 8765; 0 = any)")
    serve.add_argument("--token", help=f"require this token from clients (default: config, ${TOKEN_ENV})")
    serve.add_argument("--no-persist", dest="persist", action="store_false",
                       help="do not journal pending messages (they are lost on a crash)")
    serve.add_argument("--data-dir", help="folder for the journal (default: the per-user data folder)")
    obs = add_obs_options(serve)
    # docs/obs.md, "Ducking": each flag given overrides the config file's section ``ducking``
    obs.add_argument("--duck", action="append", metavar="SOURCE",
                     help="lower this OBS source while TTS speaks (repeat for more; replaces the config's "
                          "ducking.sources; --duck '' turns ducking off)")
    obs.add_argument("--duck-db", type=_in_range(DB_RANGE),
                     help="by how many dB (1-20; default: ducking.db, 12)")
    obs.add_argument("--duck-attack-ms", type=_in_range(ATTACK_MS_RANGE),
                     help="attack in ms (1-500; default: ducking.attack_ms, 5)")
    obs.add_argument("--duck-release-ms", type=_in_range(RELEASE_MS_RANGE),
                     help="release in ms (1-1000; default: ducking.release_ms, 60)")
    serve.set_defaults(func=run_serve)

    send = sub.add_parser("send", help="send one JSON frame to a running listener and print the reply")
    send.add_argument("frame", metavar="JSON", help='e.g. \'{"type":"tts","text":"hello"}\'')
    send.add_argument("--url", default=DEFAULT_URL, help=f"ws://... or http://... (default: {DEFAULT_URL})")
    send.add_argument("--token", default=os.environ.get(TOKEN_ENV), help=f"token (default: ${TOKEN_ENV})")
    send.add_argument("--wait", action="store_true",
                      help="WebSocket only: also wait until the queued message has played (or ended)")
    send.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a reply")
    send.set_defaults(func=run_send)


# -- serve ---------------------------------------------------------------------------------


def _in_range(bounds: tuple[int, int]) -> Callable[[str], int]:
    """An argparse type: a whole number within ``bounds``."""
    def number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if not bounds[0] <= value <= bounds[1]:
            raise argparse.ArgumentTypeError(f"must be {bounds[0]} to {bounds[1]}, got {value}")
        return value

    return number


# config key of the section ``ducking`` -> (argparse dest, the flag)
DUCKING_FLAGS = {"sources": ("duck", "--duck"), "db": ("duck_db", "--duck-db"),
                 "attack_ms": ("duck_attack_ms", "--duck-attack-ms"),
                 "release_ms": ("duck_release_ms", "--duck-release-ms")}


def ducking_flags(args: argparse.Namespace) -> dict[str, Any]:
    """The ``ducking`` keys given on the command line: each overrides the config file's
    (``--duck`` given at all replaces the whole list; ``--duck ''`` alone: an empty list)."""
    given = {key: getattr(args, dest, None) for key, (dest, _) in DUCKING_FLAGS.items()}
    if given["sources"] is not None:
        given["sources"] = [name for name in given["sources"] if name.strip()]
    return {key: value for key, value in given.items() if value is not None}


def overridden_ducking(args: argparse.Namespace, section: DuckingConfig) -> list[str]:
    """The flags whose value differs from the config file's ``section`` (they win)."""
    return [DUCKING_FLAGS[key][1] for key, value in ducking_flags(args).items()
            if getattr(section, key) != value]


def read_config_file(args: argparse.Namespace) -> TTSConfig:
    return TTSConfig.load(args.config) if args.config else TTSConfig()


def build_serve_config(args: argparse.Namespace, config: TTSConfig | None = None) -> TTSConfig:
    """The config file (or ``config``, read from it) with the command line's flags on top."""
    config = config or read_config_file(args)
    config.ducking = dataclasses.replace(config.ducking, **ducking_flags(args))
    listener = config.listener
    listener.host = args.host or listener.host
    listener.port = listener.port if args.port is None else args.port
    listener.token = args.token or listener.token or os.environ.get(TOKEN_ENV, "")
    config.persist = args.persist
    if args.data_dir:
        config.data_dir = args.data_dir
    config.validate()
    return config


def ducking_line(config: TTSConfig, sink: Sink) -> str:
    """What serve says at start about ducking ("" when it is off)."""
    ducking = Ducking.from_config(config.ducking)
    if not ducking.sources:
        return ""
    names = ", ".join(repr(name) for name in ducking.sources)
    if not isinstance(sink, RemoteObsSink):
        return f"ducking of {names} is off: it needs --sink obs"
    return (f"ducking {names} by {ducking.depth_db} dB while TTS speaks (attack {ducking.attack_ms} ms, "
            f"release {ducking.release_ms} ms; our filters go on once OBS is connected)")


def run_serve(args: argparse.Namespace) -> int:
    config = build_serve_config(args)
    engine_cfg = config.engine
    engine = engine_from_config(config)  # engine.name, its fallback engines and the clip cache
    sink = create_sink(args.sink, args.out, **obs_sink_options(args, config))
    manager = TTSQueueManager(config, engine=engine, sink=sink)
    if isinstance(sink, RemoteObsSink):
        manager.settings.add(sink)  # its ducking follows the config, like every other setting
    integration = StreamerBotIntegration(manager)
    listener = ListenerServer(manager, integration)
    connectors = build_connectors(manager, integration)  # each runs while its settings say enabled
    manager.subscribe(print_event)
    stop, reload = threading.Event(), threading.Event()
    # Ctrl+C and SIGTERM only set ``stop``: the shutdown below runs from one place (never
    # from a KeyboardInterrupt in the middle of a reload), also when serve was started in
    # the background by a shell that ignores SIGINT there.
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    previous_int = signal.signal(signal.SIGINT, lambda *_: stop.set())
    hangup = getattr(signal, "SIGHUP", None)  # not on Windows
    previous_hup = signal.signal(hangup, lambda *_: reload.set()) if hangup is not None else None
    manager.start()
    try:
        listener.start()
        port = listener.port
        print(f"obs-tts serve: listening on {listener.url} (HTTP: POST http://{listener.host}:{port}/event, "
              f"GET /health; dashboard http://{listener.host}:{port}/); engine {engine_cfg.name}"
              f"{who_speaks(engine_cfg.chain)}, "
              f"sink {args.sink}"
              f"{', token required' if config.listener.token else ''}; Ctrl+C stops", flush=True)
        if line := ducking_line(config, sink):
            print(f"obs-tts serve: {line}", flush=True)
        for connector in connectors:
            connector.start()
            if connector.settings.enabled:
                where = connector.report()["address"]
                print(f"obs-tts serve: connector {connector.name}: {where}", flush=True)
        while not stop.wait(0.2):
            if reload.is_set():
                reload.clear()
                reload_config(args, manager, sink)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)  # a second Ctrl+C while stopping: Python's default
        if hangup is not None:
            signal.signal(hangup, previous_hup)
        for connector in connectors:
            connector.close()
        listener.stop()
        manager.stop()
        sink.close()  # the manager closes only sinks it created itself
    stats = manager.get_stats()
    print(f"obs-tts serve: stopped; played {stats['played']}, failed {stats['failed']}, "
          f"dropped {stats['dropped']}, rejected {stats['rejected']}, pending {stats['pending']}", flush=True)
    return 0


def reload_config(args: argparse.Namespace, manager: TTSQueueManager, sink: Sink | None = None) -> bool:
    """SIGHUP: read the config file again (with the same command-line flags) and apply it
    live; on any error the previous configuration keeps running. One line says which,
    and what the OBS sink did with ``ducking`` (its filters change in OBS at once)."""
    source = args.config or "the command line"
    try:
        file_config = read_config_file(args)
        overridden = overridden_ducking(args, file_config.ducking)
        config = build_serve_config(args, file_config)
        moved = (config.listener.host, config.listener.port) != (manager.config.listener.host,
                                                                  manager.config.listener.port)
        manager.reconfigure(config)
    except (ValueError, RuntimeError, OSError) as exc:
        log.info("config %s not applied: %s", source, exc)
        print(f"obs-tts serve: config {source} not applied, the previous configuration keeps running: {exc}",
              flush=True)
        return False
    notes = [" (the listener address changes at the next start)"] if moved else []
    notes += [f"; {line}" for line in manager.alerts.refused]  # the other settings applied
    if overridden:
        notes.append(f"; {', '.join(overridden)} on the command line override the file's ducking")
    if isinstance(sink, RemoteObsSink):
        notes += [f"; {sink.ducking.note}"] if sink.ducking.note else []
    elif config.ducking.sources:
        notes.append("; ducking needs --sink obs")
    log.info("config %s applied", source)
    print(f"obs-tts serve: config {source} applied{''.join(notes)}", flush=True)
    return True


def format_event(event: Event) -> str:
    """One line per event: time, name, message id, priority, who, what (and why/how long)."""
    stamp = time.strftime("%H:%M:%S", time.localtime(event.get("ts", time.time())))
    # Viewer text (username, text, a moderation reason quoting it) goes through loggable:
    # one line, no control characters.
    who = " ".join(loggable(event[k], 60) for k in ("event_type", "username") if event.get(k))
    detail = []
    if "duration_ms" in event:
        detail.append(f"{event['duration_ms'] / 1000:.2f} s")
    for key in ("stage", "reason", "error"):
        if event.get(key):
            detail.append(f"{key}: {loggable(event[key])}")
    text = event.get("text", "")
    text = text if len(text) <= 80 else text[:77] + "..."
    tail = f" ({'; '.join(detail)})" if detail else ""
    # repr() escapes every unprintable character too
    return f"{stamp} {event['event']:<17} {event['message_id']} {event['priority']:<6} {who} {text!r}{tail}"


def print_event(event: Event) -> None:
    print(format_event(event), flush=True)


# -- send ----------------------------------------------------------------------------------

_ids = itertools.count(1)


def run_send(args: argparse.Namespace) -> int:
    frame, frame_id = _with_id(args.frame)
    if args.url.startswith(("http://", "https://")):
        reply = _send_http(args.url, frame, args.token, args.timeout)
        print(json.dumps(reply))
    else:
        reply = _send_websocket(args, frame, frame_id)
    return SEND_EXIT_CODES.get(str(reply.get("status")), 1)


# ok: queued or done; filtered/rejected: understood, but it will not be spoken; else an error.
SEND_EXIT_CODES = {"ok": 0, "filtered": 3, "rejected": 3}


def _with_id(text: str) -> tuple[str, object]:
    """Give a JSON object frame an id (to match the reply); anything else goes as typed."""
    try:
        data = json.loads(text)
    except ValueError:
        return text, None
    if isinstance(data, dict):
        data.setdefault("id", f"cli-{os.getpid()}-{next(_ids)}")
        return json.dumps(data), data["id"]
    return text, None


def _send_http(url: str, frame: str, token: str | None, timeout: float) -> dict[str, Any]:
    if url.rstrip("/").count("/") == 2:  # bare http://host:port
        url = url.rstrip("/") + "/event"
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=frame.encode("utf-8"), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()
    result: dict[str, Any] = json.loads(body)
    return result


def _send_websocket(args: argparse.Namespace, frame: str, frame_id: object) -> dict[str, Any]:
    return asyncio.run(_send_websocket_async(args, frame, frame_id))


async def _send_websocket_async(args: argparse.Namespace, frame: str, frame_id: object) -> dict[str, Any]:
    import aiohttp

    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=args.timeout, sock_read=None)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session, \
                session.ws_connect(args.url, headers=headers, max_msg_size=0) as ws:
            if args.wait:
                subscribe = {"request": "Subscribe", "events": list(FINAL_EVENTS), "id": "cli-subscribe"}
                await ws.send_str(json.dumps(subscribe))
                await _reply_to(ws, "cli-subscribe", args.timeout, quiet=True)
            await ws.send_str(frame)
            reply = await _reply_to(ws, frame_id, args.timeout)
            print(json.dumps(reply), flush=True)
            message_id = reply.get("message_id")
            if args.wait and reply.get("status") == "ok" and message_id:
                print(json.dumps(await _final_event(ws, message_id)), flush=True)
            return reply
    except aiohttp.WSServerHandshakeError as exc:
        raise RuntimeError(f"{_shown(args.url)}: refused with HTTP {exc.status} ({exc.message})") from None
    except aiohttp.ClientError as exc:
        raise RuntimeError(f"{_shown(args.url)}: {_hide_token(str(exc))}") from None
    except (TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11
        raise RuntimeError(f"{_shown(args.url)}: no reply within {args.timeout} s") from None


def _hide_token(text: str) -> str:
    return re.sub(r"(token=)[^&\s'\"]+", r"\1***", text)


def _shown(url: str) -> str:
    """The URL for an error message, its ?token= hidden."""
    return _hide_token(url)


async def _receive_json(ws: Any, timeout: float | None) -> dict[str, Any]:
    from aiohttp import WSMsgType

    msg = await ws.receive(timeout=timeout)
    if msg.type is not WSMsgType.TEXT:
        raise RuntimeError(f"the listener closed the connection (code {ws.close_code})")
    data: dict[str, Any] = json.loads(msg.data)
    return data


async def _reply_to(ws: Any, frame_id: object, timeout: float, quiet: bool = False) -> dict[str, Any]:
    """The reply carrying ``frame_id`` (pushed events received meanwhile are printed)."""
    deadline = time.monotonic() + timeout
    while True:
        data = await _receive_json(ws, max(0.0, deadline - time.monotonic()))
        if "status" in data and data.get("id") == frame_id:
            return data
        if not quiet and "event" in data:
            print(json.dumps(data), flush=True)


async def _final_event(ws: Any, message_id: str) -> dict[str, Any]:
    while True:  # no deadline: a message may wait behind a long queue
        data = await _receive_json(ws, None)
        if data.get("event") in FINAL_EVENTS and data.get("message_id") == message_id:
            return data
