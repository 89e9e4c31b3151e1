"""The listener's wire protocol, sans-I/O: what a frame is, how it is parsed and
validated, what replies and error codes look like. No sockets and no queue here:
``session`` runs frames against the queue, ``server`` carries them over WebSocket/HTTP.

A frame is a JSON object with either ``"type"`` (an event: donation, chat, ...) or
``"request"`` (a command: Speak, Skip, GetQueue, ...), and optionally ``"id"``.
Every frame gets exactly one reply, ``{"id": <the frame's id or null>, "status":
"ok", ...}`` or ``{"id": ..., "status": "error", "error": {"code": ..., "message":
...}}``. Numbers and booleans may also arrive as strings ("25.00", "true") because
bot templates often quote their variables.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tts_core.domain.events import EVENT_NAMES
from tts_core.domain.events import EVENT_OPTIONS as EVENT_OPTION_NAMES
from tts_core.domain.message import MessagePriority

MAX_ID_LENGTH = 200
# Largest accepted numbers: beyond these a value is a mistake or an attack (a 400-digit
# integer, 1e307), answered with invalid_field instead of reaching the queue.
MAX_AMOUNT = 1_000_000_000.0
MAX_HOLD_SECONDS = 86_400.0
MAX_COUNT = 1_000_000_000


class ErrorCode:
    """Machine-readable ``error.code`` values (see docs/listener.md)."""

    BAD_JSON = "bad_json"
    INVALID_FRAME = "invalid_frame"
    BINARY_FRAME = "binary_frame"
    FRAME_TOO_LARGE = "frame_too_large"
    UNKNOWN_TYPE = "unknown_type"
    UNKNOWN_REQUEST = "unknown_request"
    MISSING_FIELD = "missing_field"
    INVALID_FIELD = "invalid_field"
    UNAUTHORIZED = "unauthorized"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    FORBIDDEN_ORIGIN = "forbidden_origin"
    FORBIDDEN_HOST = "forbidden_host"
    RATE_LIMITED = "rate_limited"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    QUEUE_FULL = "queue_full"
    STORAGE_FULL = "storage_full"
    STORAGE_ERROR = "storage_error"
    NOT_FOUND = "not_found"
    UNSUPPORTED = "unsupported"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    INTERNAL_ERROR = "internal_error"


HTTP_STATUS = {
    ErrorCode.BAD_JSON: 400, ErrorCode.INVALID_FRAME: 400, ErrorCode.BINARY_FRAME: 400,
    ErrorCode.FRAME_TOO_LARGE: 413, ErrorCode.UNKNOWN_TYPE: 400, ErrorCode.UNKNOWN_REQUEST: 400,
    ErrorCode.MISSING_FIELD: 400, ErrorCode.INVALID_FIELD: 400, ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.FORBIDDEN_ORIGIN: 403, ErrorCode.RATE_LIMITED: 429, ErrorCode.QUEUE_FULL: 503,
    ErrorCode.STORAGE_FULL: 507, ErrorCode.STORAGE_ERROR: 503,
    ErrorCode.TOO_MANY_ATTEMPTS: 429, ErrorCode.FORBIDDEN_HOST: 421, ErrorCode.TOO_MANY_CONNECTIONS: 503,
    ErrorCode.NOT_FOUND: 404, ErrorCode.UNSUPPORTED: 400, ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.INTERNAL_ERROR: 500,
}


class ProtocolError(Exception):
    """A frame that cannot be served; ``code`` is an ErrorCode, ``frame_id`` the frame's id if known."""

    def __init__(self, code: str, message: str, frame_id: object = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.frame_id = frame_id


# -- replies -------------------------------------------------------------------------


def ok_reply(frame_id: object, **fields: Any) -> dict[str, Any]:
    """A successful reply; ``fields`` may set ``status`` to ``filtered`` or ``rejected``
    (an event that was served but will not be spoken)."""
    return {"id": frame_id, "status": "ok", **fields}


NOT_SPOKEN_STATUSES = ("filtered", "rejected")  # error-free replies: served, not spoken


def error_reply(frame_id: object, code: str, message: str) -> dict[str, Any]:
    return {"id": frame_id, "status": "error", "error": {"code": code, "message": message}}


def encode(reply: Mapping[str, Any]) -> str:
    """The reply as compact JSON text (what both transports send); always encodable as
    UTF-8 (a lone surrogate that got this far is written as a ``\\ud800`` escape)."""
    text = json.dumps(reply, separators=(",", ":"), ensure_ascii=False, default=str)
    if _SURROGATE.search(text):
        text = json.dumps(reply, separators=(",", ":"), ensure_ascii=True, default=str)
    return text


def http_status(reply: Mapping[str, Any]) -> int:
    """The HTTP status that carries ``reply`` (200 for ok)."""
    if reply.get("status") == "ok" or reply.get("status") in NOT_SPOKEN_STATUSES:
        return 200
    return HTTP_STATUS.get(reply["error"]["code"], 400)


# -- text: every string of a frame must be text a UTF-8 encoder and a log line can take --

_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` is not acceptable text (a NUL, a lone surrogate), or None."""
    found = _NOT_TEXT.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character"
    return f"contains a lone surrogate (U+{ord(found.group()):04X}), which is not text"


def field_label(key: str) -> str:
    """A field's name for an error message, printable whatever the client sent."""
    return _clip(key.encode("ascii", "backslashreplace").decode("ascii"), 60)


def _check_text(data: Mapping[str, Any], frame_id: object) -> None:
    """Refuse a frame with a string anywhere (field names too) that is not text; the
    error names the top-level field. Iterative: nesting depth costs no stack."""
    for key, value in data.items():
        problem = text_problem(key)
        if problem is not None:
            raise ProtocolError(ErrorCode.INVALID_FIELD, f"the field name {field_label(key)!r} {problem}",
                                frame_id)
        stack = [value]
        while stack:
            item, problem = stack.pop(), None
            if isinstance(item, str):
                problem = text_problem(item)
            elif isinstance(item, dict):
                problem = next((p for p in map(text_problem, item) if p), None)
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
            if problem is not None:
                raise ProtocolError(ErrorCode.INVALID_FIELD, f"{field_label(key)} {problem}", frame_id)


# -- field validation -------------------------------------------------------------------

_NUMBER_TEXT = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")
_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string, got {_json_type(value)}")
    return value


def _name(value: object) -> str:
    text = _text(value)
    if not text.strip():
        raise ValueError("must not be empty")
    return text


def _number_up_to(maximum: float) -> Callable[[object], float]:
    """A converter for numbers from 0 to ``maximum`` (numbers in strings too)."""

    def number(value: object) -> float:
        if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value):
            value = float(value)  # "1e999" -> inf, refused below
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number, got {_json_type(value)}")
        if isinstance(value, int) and not 0 <= value <= maximum:  # before float(): 10**400 overflows
            raise ValueError(f"must be a number from 0 to {maximum:,.0f}, got {_number_text(value)}")
        number = float(value)
        if not math.isfinite(number) or not 0 <= number <= maximum:
            raise ValueError(f"must be a number from 0 to {maximum:,.0f}, got {_number_text(value)}")
        return number

    return number


_amount = _number_up_to(MAX_AMOUNT)
_seconds = _number_up_to(MAX_HOLD_SECONDS)


def _count(value: object) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        if len(value.strip()) > len(str(MAX_COUNT)):
            raise ValueError(f"must be a whole number from 0 to {MAX_COUNT:,}, got {_clip(value.strip())}")
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be a whole number, got {_json_type(value)}")
    if not 0 <= value <= MAX_COUNT:
        raise ValueError(f"must be a whole number from 0 to {MAX_COUNT:,}, got {_number_text(value)}")
    return value


def _number_text(value: int | float) -> str:
    """A number for an error message, shortened ("1234567890123... (400 digits)")."""
    if isinstance(value, float):
        return f"{value:g}"
    digits = str(abs(value))
    sign = "-" if value < 0 else ""
    return f"{sign}{digits}" if len(digits) <= 20 else f"{sign}{digits[:12]}... ({len(digits)} digits)"


def _positive_count(value: object) -> int:
    count = _count(value)
    if count < 1:
        raise ValueError("must be >= 1")
    return count


def _flag(value: object) -> bool:
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, got {_json_type(value)}")
    return value


def _priority(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"must be URGENT, HIGH, NORMAL or LOW, got {_json_type(value)}")
    return MessagePriority.parse(value).name  # ValueError names the choices


def _tier(value: object) -> str | int:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"must be a string or a number, got {_json_type(value)}")
    return value


def _badges(value: object) -> list[str]:
    """Badge names: ["moderator", "subscriber/12"] or [{"name": "moderator"}, ...]."""
    if not isinstance(value, list):
        raise ValueError(f"must be a list of badge names, got {_json_type(value)}")
    names = []
    for item in value:
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            item = item["name"]
        if not isinstance(item, str):
            raise ValueError(f"must be a list of badge names, found {_json_type(item)}")
        names.append(item)
    return names


def _id_text(value: object) -> str:
    """A platform id: a non-empty string, or a whole number (sent as a string)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _name(value)


def _emotes(value: object) -> list[tuple[int, int]]:
    from tts_core.ingest.moderation.removal import emote_spans

    return emote_spans(value)


def _event_names(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"must be a list of event names, got {_json_type(value)}")
    unknown = [v for v in value if v not in EVENT_NAMES]
    if unknown:
        raise ValueError(f"unknown event {unknown[0]!r}; expected some of {', '.join(EVENT_NAMES)}")
    return list(value)


@dataclass(frozen=True)
class FieldSpec:
    """One field of a frame: its converter (raises ValueError) and whether it is required."""

    convert: Callable[[object], Any]
    required: bool = False


def _req(convert: Callable[[object], Any]) -> FieldSpec:
    return FieldSpec(convert, required=True)


def _opt(convert: Callable[[object], Any]) -> FieldSpec:
    return FieldSpec(convert)


# How each of the options every event may carry (domain.events.EVENT_OPTIONS) is checked.
_OPTION_CHECKS = {"voice": _opt(_name), "hold_seconds": _opt(_seconds), "needs_approval": _opt(_flag),
                  "chat_message_id": _opt(_id_text), "user_id": _opt(_id_text), "emotes": _opt(_emotes),
                  "first_time": _opt(_flag)}
EVENT_OPTIONS = {name: _OPTION_CHECKS[name] for name in EVENT_OPTION_NAMES}  # a new option needs its check

EVENT_SCHEMAS: dict[str, dict[str, FieldSpec]] = {
    "donation": {"donor_name": _req(_name), "amount": _req(_amount), "message": _opt(_text),
                 "currency": _opt(_name)},
    "subscription": {"username": _req(_name), "months": _opt(_count), "tier": _opt(_tier),
                     "message": _opt(_text), "gift": _opt(_flag), "gifter": _opt(_text)},
    "follow": {"username": _req(_name)},
    "raid": {"username": _req(_name), "viewers": _opt(_count)},
    "cheer": {"username": _req(_name), "bits": _req(_positive_count), "message": _opt(_text)},
    "chat": {"username": _req(_name), "message": _req(_text), "is_mod": _opt(_flag),
             "is_subscriber": _opt(_flag), "badges": _opt(_badges)},
    "tts": {"text": _req(_name), "priority": _opt(_priority), "username": _opt(_text)},
    "gift_sub": {"username": _req(_name), "recipient": _req(_name), "tier": _opt(_tier),
                 "message": _opt(_text)},
    "gift_bomb": {"username": _req(_name), "count": _req(_positive_count), "tier": _opt(_tier),
                  "message": _opt(_text)},
    "redemption": {"username": _req(_name), "reward": _req(_name), "message": _opt(_text)},
}
# Events that remove pending messages instead of adding one (tts_core.ingest.moderation.removal).
REMOVAL_SCHEMAS: dict[str, dict[str, FieldSpec]] = {
    "chat_deleted": {"chat_message_id": _req(_id_text), "skip_playing": _opt(_flag)},
    "user_banned": {"username": _opt(_name), "user_id": _opt(_id_text), "skip_playing": _opt(_flag)},
    "user_timeout": {"username": _opt(_name), "user_id": _opt(_id_text), "duration_seconds": _opt(_seconds),
                     "skip_playing": _opt(_flag)},
}
# Alternative spellings bots use; the value is the schema's name.
FIELD_ALIASES = {"donation": {"username": "donor_name"}}

_MESSAGE_ID = _req(_name)
REQUEST_SCHEMAS: dict[str, dict[str, FieldSpec]] = {
    "Speak": {"message": _req(_name), "voice": _opt(_name), "priority": _opt(_priority),
              "badWordFilter": _opt(_flag)},
    "Stop": {}, "Skip": {}, "Pause": {}, "Resume": {}, "Clear": {}, "Enable": {}, "Disable": {},
    "Replay": {"message_id": _opt(_name)},
    "GetQueue": {"limit": _opt(_positive_count)},
    "GetStats": {},
    "GetHistory": {"limit": _opt(_positive_count)},
    "Approve": {"message_id": _MESSAGE_ID}, "Reject": {"message_id": _MESSAGE_ID},
    "Remove": {"message_id": _opt(_name), "chat_message_id": _opt(_id_text), "username": _opt(_name),
               "user_id": _opt(_id_text), "skip_playing": _opt(_flag)},
    "Subscribe": {"events": _opt(_event_names)}, "Unsubscribe": {},
    "Authenticate": {"token": _req(_text)},
}
_REQUESTS_BY_LOWER = {name.lower(): name for name in REQUEST_SCHEMAS}
RESERVED_KEYS = ("id", "type", "request")


@dataclass(frozen=True)
class Frame:
    """A parsed, validated frame. ``kind`` is "event" or "request"; ``name`` the event
    type or the canonical request name; ``fields`` converted values; ``ignored`` the
    keys that mean nothing here (reported back, not an error)."""

    id: str | int | None
    kind: str
    name: str
    fields: dict[str, Any]
    ignored: tuple[str, ...] = ()


def parse_frame(text: str) -> Frame:
    """Decode and validate one frame; raises ProtocolError (with the frame's id when known)."""
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(ErrorCode.BAD_JSON, f"not valid JSON: {_short(exc)}") from None
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.INVALID_FRAME, f"a frame must be a JSON object, got {_json_type(data)}")
    frame_id = _frame_id(data)
    _check_text(data, frame_id)
    has_type, has_request = "type" in data, "request" in data
    if has_type == has_request:
        raise ProtocolError(ErrorCode.INVALID_FRAME,
                            'a frame needs exactly one of "type" (an event) or "request"', frame_id)
    if has_type:
        kind, name = "event", data["type"]
        if not isinstance(name, str):
            raise ProtocolError(ErrorCode.INVALID_FIELD, f"type must be a string, got {_json_type(name)}",
                                frame_id)
        if name in REMOVAL_SCHEMAS:
            schema = REMOVAL_SCHEMAS[name]
        elif name not in EVENT_SCHEMAS:
            raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown event type {_clip(name)!r}; expected one "
                                f"of {', '.join([*EVENT_SCHEMAS, *REMOVAL_SCHEMAS])}", frame_id)
        else:
            schema = {**EVENT_SCHEMAS[name], **EVENT_OPTIONS}
        data = _apply_aliases(data, FIELD_ALIASES.get(name, {}))
    else:
        kind, raw = "request", data["request"]
        if not isinstance(raw, str):
            raise ProtocolError(ErrorCode.INVALID_FIELD, f"request must be a string, got {_json_type(raw)}",
                                frame_id)
        canonical = _REQUESTS_BY_LOWER.get(raw.lower())
        if canonical is None:
            raise ProtocolError(ErrorCode.UNKNOWN_REQUEST, f"unknown request {_clip(raw)!r}; expected one "
                                f"of {', '.join(REQUEST_SCHEMAS)}", frame_id)
        name, schema = canonical, REQUEST_SCHEMAS[canonical]
    fields = _validate(data, schema, frame_id)
    ignored = tuple(sorted(k for k in data if k not in schema and k not in RESERVED_KEYS))
    return Frame(frame_id, kind, name, fields, ignored)


def _validate(data: Mapping[str, Any], schema: Mapping[str, FieldSpec], frame_id: object) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, spec in schema.items():
        value = data.get(key)
        if value is None:
            if spec.required:
                raise ProtocolError(ErrorCode.MISSING_FIELD, f"missing field {key!r}", frame_id)
            continue
        try:
            fields[key] = spec.convert(value)
        except ValueError as exc:
            raise ProtocolError(ErrorCode.INVALID_FIELD, f"{key} {exc}", frame_id) from None
    return fields


def _apply_aliases(data: dict[str, Any], aliases: Mapping[str, str]) -> dict[str, Any]:
    if not any(alias in data for alias in aliases):
        return data
    data = dict(data)
    for alias, key in aliases.items():
        if alias in data:
            value = data.pop(alias)
            data.setdefault(key, value)
    return data


def _frame_id(data: Mapping[str, Any]) -> str | int | None:
    frame_id = data.get("id")
    if frame_id is None:
        return None
    if isinstance(frame_id, bool) or not isinstance(frame_id, (str, int)):
        raise ProtocolError(ErrorCode.INVALID_FIELD, f"id must be a string or an integer, got "
                            f"{_json_type(frame_id)}")
    if isinstance(frame_id, str) and (problem := text_problem(frame_id)) is not None:
        raise ProtocolError(ErrorCode.INVALID_FIELD, f"id {problem}")
    if isinstance(frame_id, str) and len(frame_id) > MAX_ID_LENGTH:
        raise ProtocolError(ErrorCode.INVALID_FIELD, f"id is longer than {MAX_ID_LENGTH} characters")
    if isinstance(frame_id, int) and abs(frame_id) >= 2**63:
        raise ProtocolError(ErrorCode.INVALID_FIELD, "id is out of the 64-bit range")
    return frame_id


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _short(exc: BaseException) -> str:
    return _clip(str(exc) or type(exc).__name__, 120)


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
