"""One client's conversation, sans-I/O: authentication, rate limit, error budget and
subscription around the dispatcher that runs frames against the queue.

The transports (``tts_core.listener.server``) create a Session per WebSocket connection
(or per HTTP request), feed it each frame with the current time, and do what the
returned Outcome says: send the reply, change the pushed events, close.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tts_core.events import EVENT_NAMES
from tts_core.integration import EventResult, StreamerBotIntegration
from tts_core.listener.guard import ClientAttempts
from tts_core.listener.protocol import (
    REMOVAL_SCHEMAS,
    ErrorCode,
    Frame,
    ProtocolError,
    error_reply,
    ok_reply,
    parse_frame,
)
from tts_core.manager import TTSQueueManager
from tts_core.queue import QueueFull
from tts_core.store import StorageError

log = logging.getLogger(__name__)

MAX_QUEUE_LIMIT = 1000
MAX_ERROR_STREAK = 100  # consecutive error replies before a connection is closed
MAX_UNAUTHENTICATED_ERRORS = 5  # refused frames before an unauthenticated client is closed
CLOSE_POLICY_VIOLATION = 1008


# -- dispatch ----------------------------------------------------------------------------


class Dispatcher:
    """Runs frames against the queue: events through the integration, requests on the
    manager. Parameters: ``manager``, ``integration`` (whose ``submit`` queues events).

    ``handle`` returns the ok-reply fields or raises ProtocolError; it never lets
    another exception out (an unexpected one becomes ``internal_error``, logged).
    """

    def __init__(self, manager: TTSQueueManager, integration: StreamerBotIntegration) -> None:
        self.manager = manager
        self.integration = integration
        self._requests: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "Speak": self._speak, "Stop": self._skip, "Skip": self._skip, "Pause": self._pause,
            "Resume": self._resume, "Clear": self._clear, "Enable": self._enable,
            "Disable": self._disable, "Replay": self._replay, "GetQueue": self._get_queue,
            "GetStats": self._get_stats, "Approve": self._approve, "Reject": self._reject,
            "Remove": self._remove,
        }

    def handles(self, request: str) -> bool:
        return request in self._requests

    def handle(self, frame: Frame) -> dict[str, Any]:
        try:
            if frame.kind == "event":
                return self._event(frame)
            return self._requests[frame.name](frame.fields)
        except ProtocolError:
            raise
        except QueueFull as exc:
            raise ProtocolError(ErrorCode.QUEUE_FULL, str(exc), frame.id) from None
        except StorageError as exc:  # exc.code is "storage_full" or "storage_error"
            raise ProtocolError(exc.code, str(exc), frame.id) from None
        except (ValueError, TypeError) as exc:
            raise ProtocolError(ErrorCode.INVALID_FIELD, str(exc), frame.id) from None
        except LookupError as exc:
            raise ProtocolError(ErrorCode.NOT_FOUND, str(exc).strip("'\""), frame.id) from None
        except Exception:
            log.exception("listener: %s %s failed", frame.kind, frame.name)
            raise ProtocolError(ErrorCode.INTERNAL_ERROR, f"{frame.name} failed; see the log",
                                frame.id) from None

    def _event(self, frame: Frame) -> dict[str, Any]:
        if frame.name in REMOVAL_SCHEMAS:
            return self.integration.remove(frame.name, frame.fields)
        return _result_fields(self.integration.submit(frame.name, frame.fields))

    def _speak(self, fields: dict[str, Any]) -> dict[str, Any]:
        # badWordFilter is accepted for Speaker.bot compatibility; moderation always applies.
        result = self.integration.submit("tts", {"text": fields["message"], "voice": fields.get("voice"),
                                                 "priority": fields.get("priority")})
        return _result_fields(result)

    def _skip(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"skipped": self.manager.skip()}

    def _pause(self, fields: dict[str, Any]) -> dict[str, Any]:
        self.manager.pause()
        return {"paused": True}

    def _resume(self, fields: dict[str, Any]) -> dict[str, Any]:
        self.manager.resume()
        return {"paused": False}

    def _clear(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"cleared": self.manager.clear()}

    def _enable(self, fields: dict[str, Any]) -> dict[str, Any]:
        self.manager.enable()
        return {"enabled": True}

    def _disable(self, fields: dict[str, Any]) -> dict[str, Any]:
        self.manager.disable()
        return {"enabled": False}

    def _replay(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"message_id": self.manager.replay(fields.get("message_id"))}

    def _get_queue(self, fields: dict[str, Any]) -> dict[str, Any]:
        limit = min(fields.get("limit", 100), MAX_QUEUE_LIMIT)
        return {"queue": self.manager.get_queue(limit), "now_playing": self.manager.now_playing,
                "pending": len(self.manager.queue)}

    def _get_stats(self, fields: dict[str, Any]) -> dict[str, Any]:
        return {"stats": self.manager.get_stats()}

    def _approve(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self._moderate(self.manager.approve, fields["message_id"], "approved", "held")

    def _reject(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self._moderate(self.manager.reject, fields["message_id"], "rejected", "pending")

    def _remove(self, fields: dict[str, Any]) -> dict[str, Any]:
        if set(fields) <= {"message_id"} and "message_id" in fields:
            return self._moderate(self.manager.remove, fields["message_id"], "removed", "pending")
        if not set(fields) - {"skip_playing"}:
            raise ProtocolError(ErrorCode.MISSING_FIELD, "Remove needs message_id, chat_message_id, "
                                "username or user_id")
        return self.integration.remove("remove", fields)

    @staticmethod
    def _moderate(action: Callable[[str], bool], message_id: str, done: str, state: str) -> dict[str, Any]:
        if not action(message_id):
            raise LookupError(f"message {message_id} is not {state}")
        return {done: message_id}


def _result_fields(result: EventResult) -> dict[str, Any]:
    """An event's reply: ``ok`` with ``message_id``, or ``filtered``/``rejected`` with the
    ``stage`` and ``reason`` (a rejected one was counted, so it has a ``message_id``)."""
    if result.status == "ok":
        fields: dict[str, Any] = {"message_id": result.message_id}
        if result.voice:
            fields["voice"] = result.voice
        if result.message_filtered:
            fields["message_filtered"] = result.message_filtered
        return fields
    fields = {"status": result.status, "stage": result.stage, "reason": result.reason,
              "detail": result.detail}
    if result.message_id is not None:
        fields["message_id"] = result.message_id
    return fields


# -- one client's conversation ---------------------------------------------------------------


@dataclass
class Outcome:
    """What the transport must do after a frame: send ``reply``; if ``subscribe`` is
    set, push exactly those event names from now on (empty: none); if ``close`` is set,
    close the connection with that (code, reason) after sending the reply."""

    reply: dict[str, Any]
    subscribe: frozenset[str] | None = None
    close: tuple[int, str] | None = None


class RateLimit:
    """Token bucket on a caller-supplied clock: ``per_second`` frames, bursts of one second.

    Parameters: ``per_second`` (0 = unlimited).
    """

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self.capacity = max(1.0, per_second)
        self._tokens = self.capacity
        self._last: float | None = None

    def allow(self, now: float) -> bool:
        if self.per_second <= 0:
            return True
        if self._last is not None:
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.per_second)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


@dataclass
class Session:
    """One client connection's state: authentication, rate limit, error budget, subscription.

    Parameters: ``dispatcher``; ``token`` (required secret, "" = none);
    ``authenticated`` (the handshake already carried the token); ``max_frame_bytes``;
    ``max_per_second`` (frames, 0 = unlimited); ``transport`` ("websocket" or "http":
    HTTP cannot subscribe and its bodies arrive as bytes); ``rate`` (a RateLimit to
    share, e.g. across HTTP requests; default: a new one of ``max_per_second``);
    ``attempts`` (this client address's wrong-token counter: ``Authenticate`` is refused
    with too_many_attempts while it is locked out; None: no limit).
    """

    dispatcher: Dispatcher
    token: str = ""
    authenticated: bool = False
    max_frame_bytes: int = 65536
    max_per_second: float = 0.0
    transport: str = "websocket"
    rate: RateLimit | None = None
    attempts: ClientAttempts | None = None
    subscribed: frozenset[str] = frozenset()
    error_streak: int = 0
    refused_unauthenticated: int = 0

    def __post_init__(self) -> None:
        self.authenticated = self.authenticated or not self.token
        if self.rate is None:
            self.rate = RateLimit(self.max_per_second)

    def receive(self, data: str | bytes, now: float) -> Outcome:
        """Handle one frame received at monotonic time ``now``; never raises."""
        try:
            outcome = self._serve(data, now)
        except ProtocolError as exc:
            outcome = Outcome(error_reply(exc.frame_id, exc.code, exc.message))
        return self._account(outcome)

    def _serve(self, data: str | bytes, now: float) -> Outcome:
        text = self._decode(data)
        frame = parse_frame(text)
        if frame.kind == "request" and frame.name == "Authenticate":
            return self._authenticate(frame, now)
        if not self.authenticated:
            raise ProtocolError(ErrorCode.UNAUTHORIZED, 'send {"request":"Authenticate","token":...} '
                                "first (or the token in the URL or an Authorization header)", frame.id)
        if self.rate is not None and not self.rate.allow(now):
            raise ProtocolError(ErrorCode.RATE_LIMITED, f"more than {self.max_per_second:g} frames per "
                                "second on this connection; slow down", frame.id)
        if frame.kind == "request" and frame.name in ("Subscribe", "Unsubscribe"):
            return self._subscribe(frame)
        reply = ok_reply(frame.id, **self.dispatcher.handle(frame))
        if frame.ignored:
            reply["ignored_fields"] = list(frame.ignored)
        return Outcome(reply)

    def _decode(self, data: str | bytes) -> str:
        limit = self.max_frame_bytes
        too_large = ProtocolError(ErrorCode.FRAME_TOO_LARGE, f"frame is larger than {limit} bytes")
        if isinstance(data, str):
            # Characters <= bytes <= 4 * characters: encode only when it can matter.
            if len(data) > limit or (len(data) * 4 > limit and len(data.encode("utf-8", "replace")) > limit):
                raise too_large
            return data
        if self.transport == "websocket":
            raise ProtocolError(ErrorCode.BINARY_FRAME, "binary frames are not supported; send JSON as text")
        if len(data) > limit:
            raise too_large
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(ErrorCode.BAD_JSON, "the body is not UTF-8 text") from None

    def _authenticate(self, frame: Frame, now: float) -> Outcome:
        if not self.token:
            self.authenticated = True
            return Outcome(ok_reply(frame.id, authenticated=True))
        wait = self.attempts.locked(now) if self.attempts is not None else 0.0
        if wait > 0:
            raise ProtocolError(ErrorCode.TOO_MANY_ATTEMPTS, "too many wrong tokens from this address; "
                                f"try again in {wait:.0f} s", frame.id)
        ok = _same_secret(frame.fields["token"], self.token)
        if self.attempts is not None:
            self.attempts.record(ok, now)
        if ok:
            self.authenticated = True
            return Outcome(ok_reply(frame.id, authenticated=True))
        self.authenticated = False
        raise ProtocolError(ErrorCode.UNAUTHORIZED, "wrong token", frame.id)

    def _subscribe(self, frame: Frame) -> Outcome:
        if self.transport != "websocket":
            raise ProtocolError(ErrorCode.UNSUPPORTED, f"{frame.name} needs a WebSocket connection", frame.id)
        if frame.name == "Unsubscribe":
            self.subscribed = frozenset()
        else:
            self.subscribed = frozenset(frame.fields.get("events") or EVENT_NAMES)
        names = sorted(self.subscribed, key=EVENT_NAMES.index)
        return Outcome(ok_reply(frame.id, subscribed=names), subscribe=self.subscribed)

    def _account(self, outcome: Outcome) -> Outcome:
        if outcome.reply["status"] != "error":
            self.error_streak = 0
            return outcome
        self.error_streak += 1
        if outcome.reply["error"]["code"] in (ErrorCode.UNAUTHORIZED, ErrorCode.TOO_MANY_ATTEMPTS):
            self.refused_unauthenticated += 1
            if self.refused_unauthenticated >= MAX_UNAUTHENTICATED_ERRORS:
                outcome.close = (CLOSE_POLICY_VIOLATION, "not authenticated")
        if self.error_streak >= MAX_ERROR_STREAK:
            outcome.close = (CLOSE_POLICY_VIOLATION, f"{MAX_ERROR_STREAK} bad frames in a row")
        return outcome


# -- security checks shared by both transports -----------------------------------------------


def _same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def check_token(given: str | None, expected: str) -> bool:
    """True if no token is required or ``given`` matches it (constant-time)."""
    return not expected or (given is not None and _same_secret(given, expected))


def origin_allowed(origin: str | None, allowed: Iterable[str]) -> bool:
    """Requests without an Origin header come from programs (bots, curl) and are allowed;
    a browser page always sends one, and only allow-listed origins get in (so a web page
    the streamer visits cannot make the stream speak)."""
    if origin is None:
        return True
    wanted = origin.strip().rstrip("/").lower()
    return any(wanted == item.strip().rstrip("/").lower() for item in allowed)
