"""One client's conversation, sans-I/O: it reads a frame and says what to do with it.

A ``Session`` holds what one connection (or one HTTP request) has said so far:
authenticated or not, its rate limit, its run of errors, its subscription. ``receive``
turns a frame into an ``Outcome``: a reply that is ready (an error, ``Authenticate``,
``Subscribe``), or a ``command`` (a validated Frame) for the dispatcher to run against
the queue. ``complete`` makes the reply from the command's result, and ``settle``, called
in reply order, counts errors and says when to close. No sockets, no queue, no threads:
the transports (``conversation`` for WebSocket, ``routes`` for HTTP) do what it says.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tts_core.domain.events import EVENT_NAMES
from tts_core.domain.token_bucket import TokenBucket
from tts_core.ingest.translator import EventResult
from tts_core.listener.guard import TokenCheck
from tts_core.listener.protocol import ErrorCode, Frame, ProtocolError, error_reply, ok_reply, parse_frame

MAX_ERROR_STREAK = 100  # consecutive error replies before a connection is closed
# Errors that say how the queue is, not what the client sent: they do not count toward
# the streak (a bot that goes on during a full disk or a full queue is not flooding).
NOT_THE_CLIENTS_FAULT = frozenset({ErrorCode.QUEUE_FULL, ErrorCode.STORAGE_FULL, ErrorCode.STORAGE_ERROR,
                                   ErrorCode.INTERNAL_ERROR})
MAX_UNAUTHENTICATED_ERRORS = 5  # refused frames before an unauthenticated client is closed
CLOSE_POLICY_VIOLATION = 1008

# What running a command gave: an event's result, a request's reply fields, or its error.
Result = EventResult | dict[str, Any] | ProtocolError


@dataclass
class Outcome:
    """What the transport must do after a frame: run ``command`` (then ``complete``) when
    ``reply`` is None; send ``reply``; if ``subscribe`` is set, push exactly those event
    names from now on (empty: none); if ``close`` is set, close the connection with that
    (code, reason) after sending the reply."""

    reply: dict[str, Any] | None
    command: Frame | None = None
    subscribe: frozenset[str] | None = None
    close: tuple[int, str] | None = None


@dataclass
class Session:
    """One client connection's state: authentication, rate limit, error budget, subscription.

    Parameters: ``tokens`` (the listener's TokenCheck: the token, if any, and the
    wrong-token lock-out); ``address`` (the client's, for that lock-out);
    ``authenticated`` (the handshake already carried the right token);
    ``max_frame_bytes``; ``max_per_second`` (frames, 0 = unlimited); ``transport``
    ("websocket" or "http": HTTP cannot subscribe and its bodies arrive as bytes);
    ``rate`` (a TokenBucket to share, e.g. across HTTP requests; default: a new one of
    ``max_per_second``); ``clock`` (monotonic seconds, for the rate limit).
    """

    tokens: TokenCheck = field(default_factory=TokenCheck)
    address: str = "?"
    authenticated: bool = False
    max_frame_bytes: int = 65536
    max_per_second: float = 0.0
    transport: str = "websocket"
    rate: TokenBucket | None = None
    clock: Callable[[], float] = time.monotonic
    subscribed: frozenset[str] = frozenset()
    error_streak: int = 0
    refused_unauthenticated: int = 0

    def __post_init__(self) -> None:
        self.authenticated = self.authenticated or not self.tokens.required
        if self.rate is None:
            self.rate = TokenBucket.per_second(self.max_per_second, self.clock)

    def receive(self, data: str | bytes) -> Outcome:
        """Read one frame; never raises. Refusals of an unauthenticated client are counted
        here, in arrival order, so the one that closes the connection is known at once."""
        try:
            outcome = self._serve(data)
        except ProtocolError as exc:
            outcome = Outcome(error_reply(exc.frame_id, exc.code, exc.message))
        reply = outcome.reply
        if reply is not None and reply["status"] == "error" and reply["error"]["code"] in (
                ErrorCode.UNAUTHORIZED, ErrorCode.TOO_MANY_ATTEMPTS):
            self.refused_unauthenticated += 1
            if self.refused_unauthenticated >= MAX_UNAUTHENTICATED_ERRORS:
                outcome.close = (CLOSE_POLICY_VIOLATION, "not authenticated")
        return outcome

    def complete(self, outcome: Outcome, result: Result) -> Outcome:
        """The outcome of ``outcome.command`` once the dispatcher has run it."""
        command = outcome.command
        assert command is not None, "complete() is for an outcome with a command"
        if isinstance(result, ProtocolError):
            outcome.reply = error_reply(command.id, result.code, result.message)
            return outcome
        fields = _result_fields(result) if isinstance(result, EventResult) else result
        outcome.reply = ok_reply(command.id, **fields)
        if command.ignored:
            outcome.reply["ignored_fields"] = list(command.ignored)
        return outcome

    def settle(self, outcome: Outcome) -> Outcome:
        """Count a finished outcome in the run of errors; call it for every reply, in the
        order the replies are sent. Sets ``close`` after MAX_ERROR_STREAK errors in a row."""
        assert outcome.reply is not None, "settle() needs the reply"
        if outcome.reply["status"] != "error":
            self.error_streak = 0
            return outcome
        if outcome.reply["error"]["code"] in NOT_THE_CLIENTS_FAULT:
            return outcome
        self.error_streak += 1
        if self.error_streak >= MAX_ERROR_STREAK:
            outcome.close = (CLOSE_POLICY_VIOLATION, f"{MAX_ERROR_STREAK} bad frames in a row")
        return outcome

    def may_read_ahead(self, unsettled: int) -> bool:
        """Whether the next frame may be read while ``unsettled`` outcomes still wait for
        ``settle``: only if none of them can close the connection (even if all were
        errors), so a frame that a close would have cut off is never run."""
        return self.error_streak + unsettled < MAX_ERROR_STREAK

    def _serve(self, data: str | bytes) -> Outcome:
        frame = parse_frame(self._decode(data))
        if frame.kind == "request" and frame.name == "Authenticate":
            return self._authenticate(frame)
        if not self.authenticated:
            if self.transport != "websocket":  # one request per HTTP call: no Authenticate frame first
                raise ProtocolError(ErrorCode.UNAUTHORIZED, "send the token with the request: the header "
                                    "'Authorization: Bearer <token>' or ?token=<token> in the URL", frame.id)
            raise ProtocolError(ErrorCode.UNAUTHORIZED, 'send {"request":"Authenticate","token":...} '
                                "first (or the token in the URL or an Authorization header)", frame.id)
        assert self.rate is not None
        if self.rate.try_take() > 0:
            raise ProtocolError(ErrorCode.RATE_LIMITED, f"more than {self.max_per_second:g} frames per "
                                "second on this connection; slow down", frame.id)
        if frame.kind == "request" and frame.name in ("Subscribe", "Unsubscribe"):
            return self._subscribe(frame)
        return Outcome(None, command=frame)

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

    def _authenticate(self, frame: Frame) -> Outcome:
        try:
            self.tokens.check(frame.fields["token"], self.address, frame.id)
        except ProtocolError as exc:
            if exc.code == ErrorCode.UNAUTHORIZED:
                self.authenticated = False
            raise
        self.authenticated = True
        return Outcome(ok_reply(frame.id, authenticated=True))

    def _subscribe(self, frame: Frame) -> Outcome:
        if self.transport != "websocket":
            raise ProtocolError(ErrorCode.UNSUPPORTED, f"{frame.name} needs a WebSocket connection", frame.id)
        if frame.name == "Unsubscribe":
            self.subscribed = frozenset()
        else:
            self.subscribed = frozenset(frame.fields.get("events") or EVENT_NAMES)
        names = sorted(self.subscribed, key=EVENT_NAMES.index)
        return Outcome(ok_reply(frame.id, subscribed=names), subscribe=self.subscribed)


def _result_fields(result: EventResult) -> dict[str, Any]:
    """An event's reply: ``ok`` with ``message_id`` and what will be spoken (``priority``,
    ``state``, ``hold_reason`` when held, ``text``), or ``filtered``/``rejected`` with the
    ``stage`` and ``reason`` (a rejected one was counted, so it has a ``message_id``)."""
    if result.status == "ok":
        fields: dict[str, Any] = {"message_id": result.message_id}
        spoken = {"priority": result.priority, "state": result.state, "hold_reason": result.hold_reason,
                  "text": result.text, "voice": result.voice, "message_filtered": result.message_filtered}
        fields.update((key, value) for key, value in spoken.items() if value)
        return fields
    fields = {"status": result.status, "stage": result.stage, "reason": result.reason,
              "detail": result.detail}
    if result.message_id is not None:
        fields["message_id"] = result.message_id
    return fields
