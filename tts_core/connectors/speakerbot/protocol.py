"""Speaker.bot's WebSocket and UDP API, sans-I/O: requests in, wrapped replies out, and
the queue's events as Speaker.bot's ``TextToSpeech`` events (docs/speakerbot.md).

Streamer.bot is the client. A request is ``{"request": "Speak", "id": "..", ...}``; the
reply echoes the ``id`` and is wrapped: ``{"id", "status": "ok", "result": {...}}`` or
``{"id", "status": "error", "error": ".."}``. Request names are matched without regard to
case. Events use Streamer.bot's envelope: ``{"timeStamp", "event": {"source", "type"},
"data"}``. A UDP datagram is ``{"command": "speak", "id", "voice", "message"}`` and gets
no reply.
"""

from __future__ import annotations

import datetime
import json
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tts_core.domain.events import Event

SPEAKERBOT_NAME = "Speaker.bot"
SPEAKERBOT_VERSION = "0.1.4"  # Streamer.bot 0.2.4 and later refuse an older Speaker.bot
API_VERSION = 2
EVENT_SOURCE = "TextToSpeech"
EVENT_TYPES = ("TextQueued", "EngineProcessed", "Playing", "Finished", "Deleted", "Error")

# The requests this server answers, as Speaker.bot spells them (the Commands reply).
REQUESTS = ("Speak", "Stop", "Pause", "Resume", "Clear", "Enable", "Disable", "Events", "Mode",
            "GetInfo", "Commands", "GetState", "GetAliases", "GetEvents", "Subscribe", "UnSubscribe")
_NAMES = {name.casefold(): name for name in REQUESTS}
_NAMES.update({"on": "Enable", "off": "Disable"})  # older names Speaker.bot also takes
# UDP commands (lower case on the wire) -> request names.
UDP_COMMANDS = {"speak": "Speak", "stop": "Stop", "pause": "Pause", "resume": "Resume", "clear": "Clear",
                "events": "Events", "enable": "Enable", "on": "Enable", "disable": "Disable",
                "off": "Disable"}
# What Speak answers and the events say about the voice's settings (the queue's engine has its own).
VOICE_SETTINGS = {"pitch": 1.0, "volume": 1.0, "rate": 0.0}
REMEMBERED_DURATIONS = 1000  # clip durations kept between Playing and Finished


class RequestError(Exception):
    """A request that cannot be run; ``message`` is the reply's ``error``."""

    def __init__(self, message: str, request_id: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id


@dataclass(frozen=True)
class Request:
    """One request: ``name`` as REQUESTS spells it (as sent when ``known`` is False), its
    ``id`` (echoed in the reply; None for UDP) and the whole ``body``."""

    name: str
    id: object
    body: Mapping[str, Any] = field(default_factory=dict)
    known: bool = True


def parse_request(data: str | bytes, max_bytes: int) -> Request:
    """The request in one WebSocket text frame. Raises RequestError for a frame over
    ``max_bytes``, one that is not a JSON object, or one without a ``request`` name."""
    body = _json_object(data, max_bytes, "request")
    request_id = body.get("id")
    name = body.get("request")
    if not isinstance(name, str) or not name.strip():
        raise RequestError('a request needs "request": the name of what to do, e.g. "Speak"', request_id)
    canonical = _NAMES.get(name.strip().casefold())
    return Request(canonical or name.strip(), request_id, body, canonical is not None)


def parse_datagram(data: bytes, max_bytes: int) -> Request:
    """The command in one UDP datagram (``{"command": "speak", ...}``); RequestError if it
    is too large, not a JSON object, or no command this server knows."""
    body = _json_object(data, max_bytes, "datagram")
    command = body.get("command")
    if not isinstance(command, str) or not command.strip():
        raise RequestError('a datagram needs "command", e.g. "speak"')
    name = UDP_COMMANDS.get(command.strip().casefold())
    return Request(name or command.strip(), body.get("id"), body, name is not None)


def _json_object(data: str | bytes, max_bytes: int, what: str) -> dict[str, Any]:
    size = len(data.encode("utf-8", "replace") if isinstance(data, str) else data)
    if size > max_bytes:
        raise RequestError(f"{what} too large: {size} bytes, at most {max_bytes} "
                           "(connectors.speakerbot.max_frame_bytes)")
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(f"{what} is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise RequestError(f"{what} must be a JSON object, got {type(body).__name__}")
    return body


@dataclass(frozen=True)
class SpeakFields:
    """What a Speak request asks: the ``message``, the voice ``alias`` (None: the default
    voice), and Streamer.bot's flags ``bad_word_filter`` and ``silent``."""

    message: str
    alias: str | None
    bad_word_filter: bool = True
    silent: bool = False


def speak_fields(request: Request) -> SpeakFields:
    """The fields of a Speak request or a UDP speak; RequestError naming a wrong one."""
    body = request.body
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        raise RequestError('Speak needs "message": the text to speak', request.id)
    alias = body.get("voice")
    if alias is not None and not isinstance(alias, str):
        raise RequestError(f'Speak: "voice" must be a voice alias (text), got {type(alias).__name__}',
                           request.id)
    flags = {}
    for key in ("badWordFilter", "silent"):
        value = body.get(key, key == "badWordFilter")
        if not isinstance(value, bool):
            raise RequestError(f'Speak: "{key}" must be true or false, got {value!r}', request.id)
        flags[key] = value
    return SpeakFields(message, alias.strip() or None if alias else None, flags["badWordFilter"],
                       flags["silent"])


def choice(request: Request, key: str, allowed: tuple[str, ...]) -> str:
    """The value of ``key`` (one of ``allowed``, any case) in ``request``; RequestError otherwise."""
    value = request.body.get(key)
    if isinstance(value, str) and value.strip().casefold() in allowed:
        return value.strip().casefold()
    wanted = " or ".join(f'"{a}"' for a in allowed)
    raise RequestError(f'{request.name} needs "{key}": {wanted}, got {value!r}', request.id)


# -- replies -------------------------------------------------------------------------------


def ok_reply(request_id: object, result: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"id": request_id, "status": "ok", "result": dict(result or {})}


def error_reply(request_id: object, message: str) -> dict[str, Any]:
    return {"id": request_id, "status": "error", "error": message}


def encode(frame: Mapping[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def info_result(instance_id: str) -> dict[str, Any]:
    """GetInfo: who we say we are (Streamer.bot checks the name and the version)."""
    return {"instanceId": instance_id, "name": SPEAKERBOT_NAME, "version": SPEAKERBOT_VERSION,
            "os": "windows", "apiVersion": API_VERSION}


def speak_result(speech_id: str, text: str, voice: str | None) -> dict[str, Any]:
    return {"speechId": speech_id, "text": text, "voiceName": voice or "", **VOICE_SETTINGS}


# -- events ----------------------------------------------------------------------------------


def local_time(ts: float | None = None) -> str:
    """An ISO 8601 time with this PC's UTC offset, as Streamer.bot writes its own."""
    moment = datetime.datetime.now() if ts is None else datetime.datetime.fromtimestamp(ts)
    return moment.astimezone().isoformat()


def envelope(event_type: str, data: Mapping[str, Any], ts: float | None = None) -> dict[str, Any]:
    """A ``TextToSpeech`` event in Streamer.bot's envelope."""
    return {"timeStamp": local_time(ts), "event": {"source": EVENT_SOURCE, "type": event_type},
            "data": dict(data)}


class TextToSpeechEvents:
    """Turns the queue's events into Speaker.bot's ``TextToSpeech`` events.

    ``queued`` -> TextQueued; ``playback_started`` -> EngineProcessed (the clip is ready)
    and Playing; ``playback_finished`` and ``skipped`` -> Finished (``duration``: the
    clip's length in ms, ``filename``: where the clip is on disk, "" when it is no longer
    kept); ``dropped`` -> Deleted; ``failed`` and ``rejected`` -> Error. Events without
    a message (``filtered``) are not sent.

    Parameters: ``clip_path(message_id) -> str | None`` (where a played clip is kept).
    Not thread-safe: call ``translate`` from one thread.
    """

    def __init__(self, clip_path: Callable[[str], str | None] = lambda _id: None) -> None:
        self.clip_path = clip_path
        self._durations: OrderedDict[str, int] = OrderedDict()

    def translate(self, event: Event) -> list[dict[str, Any]]:
        name, message_id = event.get("event"), event.get("message_id")
        if not message_id:
            return []
        ts = event.get("ts")
        if name == "queued":
            return [envelope("TextQueued", self._data(event, 0), ts)]
        if name == "playback_started":
            duration = int(event.get("duration_ms") or 0)
            self._remember(message_id, duration)
            data = self._data(event, duration)
            return [envelope("EngineProcessed", data, ts), envelope("Playing", data, ts)]
        if name in ("playback_finished", "skipped"):
            remembered = self._durations.pop(message_id, None)
            duration = int(event.get("duration_ms") or 0) if remembered is None else remembered
            data = self._data(event, duration, self.clip_path(message_id) or "")
            if name == "skipped":
                data["skipped"] = True
            return [envelope("Finished", data, ts)]
        if name in ("dropped", "failed", "rejected"):
            self._durations.pop(message_id, None)
            data = self._data(event, 0)
            data["reason"] = str(event.get("reason") or event.get("error") or name)
            return [envelope("Deleted" if name == "dropped" else "Error", data, ts)]
        return []

    def _remember(self, message_id: str, duration: int) -> None:
        self._durations[message_id] = duration
        while len(self._durations) > REMEMBERED_DURATIONS:
            self._durations.popitem(last=False)

    @staticmethod
    def _data(event: Event, duration: int, filename: str = "") -> dict[str, Any]:
        return {"id": event["message_id"], "timestamp": local_time(event.get("ts")),
                "text": event.get("text", ""), "duration": duration,
                "engineName": event.get("engine") or "obs-tts", "voiceName": event.get("voice") or "",
                **VOICE_SETTINGS, "filename": filename}
