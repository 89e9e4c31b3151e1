"""A client's session without sockets or threads: token, rate limit, error budget,
subscriptions, frame size, binary frames, the commands it hands out and the replies it
makes of their results; plus property-based fuzz tests that nothing crashes."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from listener_support import Served

from tts_core import TTSConfig, TTSQueueManager
from tts_core.domain.events import EVENT_NAMES
from tts_core.ingest.translator import EventResult
from tts_core.listener.guard import MAX_FAILED_TOKENS, TokenAttempts, TokenCheck, origin_allowed
from tts_core.listener.protocol import (
    EVENT_SCHEMAS,
    REMOVAL_SCHEMAS,
    REQUEST_SCHEMAS,
    ErrorCode,
    Frame,
    ProtocolError,
)
from tts_core.listener.session import (
    CLOSE_POLICY_VIOLATION,
    MAX_ERROR_STREAK,
    MAX_UNAUTHENTICATED_ERRORS,
    NOT_THE_CLIENTS_FAULT,
    Outcome,
    Session,
)

MANAGER = TTSQueueManager(TTSConfig(max_queue_size=100_000))


class FakeClock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make(token: str = "", **kwargs) -> Session:
    return Session(TokenCheck(token, TokenAttempts()), "10.0.0.1", **kwargs)


def answer(session: Session, frame: dict | str | bytes, result=None) -> Outcome:
    """One frame through the session as a transport runs it; a command "runs" to ``result``
    (default: an ok reply naming the command)."""
    outcome = session.receive(json.dumps(frame) if isinstance(frame, dict) else frame)
    if outcome.command is not None:
        outcome = session.complete(outcome, {"ran": outcome.command.name} if result is None else result)
    return session.settle(outcome)


def code(outcome) -> str | None:
    return outcome.reply["error"]["code"] if outcome.reply["status"] == "error" else None


def test_an_event_or_request_becomes_a_command_and_nothing_is_run_yet():
    outcome = make().receive(json.dumps({"type": "follow", "username": "a", "id": 4, "platform": "x"}))
    assert outcome.reply is None
    assert outcome.command == Frame(4, "event", "follow", {"username": "a"}, ("platform",))


def test_the_reply_is_made_from_the_command_result():
    session = make()
    assert answer(session, {"request": "Pause", "id": 1}, {"paused": True}).reply == {
        "id": 1, "status": "ok", "paused": True}
    failed = answer(session, {"request": "Approve", "message_id": "x", "id": 2},
                    ProtocolError(ErrorCode.NOT_FOUND, "message x is not held", 2))
    assert failed.reply == {"id": 2, "status": "error",
                            "error": {"code": "not_found", "message": "message x is not held"}}
    ignored = answer(session, {"type": "follow", "username": "a", "platform": "twitch"}, {"x": 1})
    assert ignored.reply["ignored_fields"] == ["platform"]


def test_an_accepted_event_says_what_will_be_spoken():
    result = EventResult("m1", voice="en-gb", priority="HIGH", state="held", hold_reason="needs approval",
                         text="a donated 5 dollars")
    assert answer(make(), {"type": "tts", "text": "x", "id": 3}, result).reply == {
        "id": 3, "status": "ok", "message_id": "m1", "priority": "HIGH", "state": "held",
        "hold_reason": "needs approval", "text": "a donated 5 dollars", "voice": "en-gb"}
    not_spoken = EventResult(None, "not_a_command", "filtered", "chat_command", "not a command")
    assert answer(make(), {"type": "tts", "text": "x"}, not_spoken).reply == {
        "id": None, "status": "filtered", "stage": "chat_command", "reason": "not_a_command",
        "detail": "not a command"}


def test_without_a_token_everyone_is_authenticated():
    session = make()
    assert session.authenticated
    assert answer(session, {"request": "Authenticate", "token": "anything"}).reply["status"] == "ok"


def test_a_token_is_required_first_and_the_session_works_after_it():
    session = make(token="s3cret")
    refused = answer(session, {"request": "GetStats", "id": 1})
    assert code(refused) == ErrorCode.UNAUTHORIZED and refused.reply["id"] == 1 and refused.close is None
    wrong = answer(session, {"request": "Authenticate", "token": "guess"})
    assert code(wrong) == ErrorCode.UNAUTHORIZED
    assert answer(session, {"request": "Authenticate", "token": "s3cret"}).reply["authenticated"] is True
    assert answer(session, {"request": "GetStats"}).reply["status"] == "ok"


def test_an_unauthenticated_client_that_keeps_trying_is_closed_and_it_is_known_at_once():
    session = make(token="s3cret")
    outcomes = [session.receive(json.dumps({"request": "Authenticate", "token": f"guess{i}"}))
                for i in range(MAX_UNAUTHENTICATED_ERRORS)]
    assert all(o.close is None for o in outcomes[:-1])
    assert outcomes[-1].close is not None and outcomes[-1].close[0] == CLOSE_POLICY_VIOLATION


def test_wrong_tokens_lock_the_address_out_on_the_sessions_clock():
    clock = FakeClock()
    tokens = TokenCheck("s3cret", TokenAttempts(), clock)
    for n in range(MAX_FAILED_TOKENS):
        assert code(answer(Session(tokens, "10.0.0.9"), {"request": "Authenticate", "token": f"g{n}"})) \
            == ErrorCode.UNAUTHORIZED
    locked = answer(Session(tokens, "10.0.0.9"), {"request": "Authenticate", "token": "s3cret"})
    assert code(locked) == ErrorCode.TOO_MANY_ATTEMPTS
    assert code(answer(Session(tokens, "10.0.0.8"), {"request": "Authenticate", "token": "s3cret"})) is None
    clock.now += 61
    assert code(answer(Session(tokens, "10.0.0.9"), {"request": "Authenticate", "token": "s3cret"})) is None


def test_a_handshake_token_authenticates_the_session():
    assert make(token="s3cret", authenticated=True).authenticated


def test_rate_limit_refuses_beyond_the_burst_then_refills():
    clock = FakeClock()
    session = make(max_per_second=10, clock=clock)
    results = [code(answer(session, {"request": "GetStats"})) for _ in range(12)]
    assert results[:10] == [None] * 10 and results[10:] == [ErrorCode.RATE_LIMITED] * 2
    clock.now += 0.5
    assert code(answer(session, {"request": "GetStats"})) is None  # 5 tokens back


def test_rate_limit_zero_is_unlimited():
    session = make(max_per_second=0, clock=FakeClock())
    assert all(code(answer(session, {"request": "GetStats"})) is None for _ in range(1000))


def test_a_flood_of_errors_closes_the_connection_but_one_good_frame_resets_the_count():
    session = make()
    for _ in range(MAX_ERROR_STREAK - 1):
        assert answer(session, "garbage").close is None
    assert answer(session, {"request": "GetStats"}).reply["status"] == "ok"
    outcomes = [answer(session, "garbage") for _ in range(MAX_ERROR_STREAK)]
    assert outcomes[-1].close == (CLOSE_POLICY_VIOLATION, f"{MAX_ERROR_STREAK} bad frames in a row")


def test_a_full_disk_or_queue_never_counts_as_a_flood():
    """storage_full, storage_error, queue_full and internal_error are about the queue, not
    the frame: a bot that goes on during a full disk is answered, never disconnected."""
    assert {ErrorCode.STORAGE_FULL, ErrorCode.STORAGE_ERROR, ErrorCode.QUEUE_FULL} <= NOT_THE_CLIENTS_FAULT
    session = make()
    for code_ in sorted(NOT_THE_CLIENTS_FAULT):
        for _ in range(MAX_ERROR_STREAK):
            speak = session.receive(json.dumps({"type": "tts", "text": "hello"}))
            assert session.settle(session.complete(speak, ProtocolError(code_, "refused"))).close is None
    for _ in range(MAX_ERROR_STREAK - 1):  # frames that are the client's fault still count
        assert answer(session, "garbage").close is None
    assert answer(session, "garbage").close is not None


def test_errors_from_commands_count_in_reply_order():
    session = make()
    for _ in range(MAX_ERROR_STREAK - 1):
        answer(session, "garbage")
    late = session.receive(json.dumps({"request": "Approve", "message_id": "x"}))  # still running
    assert session.may_read_ahead(0) and not session.may_read_ahead(1)  # it could be the 100th error
    done = session.complete(late, ProtocolError(ErrorCode.NOT_FOUND, "message x is not held"))
    assert session.settle(done).close is not None


def test_reading_ahead_stops_where_a_close_could_come():
    session = make()
    assert session.may_read_ahead(MAX_ERROR_STREAK - 1) and not session.may_read_ahead(MAX_ERROR_STREAK)
    for _ in range(10):
        answer(session, "garbage")
    assert not session.may_read_ahead(MAX_ERROR_STREAK - 10)


def test_binary_frames_are_refused_on_websocket_and_decoded_on_http():
    assert code(answer(make(), b'{"request":"GetStats"}')) == ErrorCode.BINARY_FRAME
    http = make(transport="http")
    assert answer(http, b'{"request":"GetStats"}').reply["status"] == "ok"
    assert code(answer(http, b"\xff\xfe")) == ErrorCode.BAD_JSON


def test_oversize_frames_are_refused_by_their_utf8_size():
    session = make(max_frame_bytes=1000)
    frame = json.dumps({"type": "tts", "text": "é" * 600})  # 600 characters, 1200 bytes
    assert code(answer(session, frame)) == ErrorCode.FRAME_TOO_LARGE
    assert code(answer(session, json.dumps({"type": "tts", "text": "e" * 600}))) is None


def test_subscribe_sets_the_pushed_events_and_unsubscribe_clears_them():
    session = make()
    everything = answer(session, {"request": "Subscribe"})
    assert everything.subscribe == frozenset(EVENT_NAMES)
    assert everything.reply["subscribed"] == list(EVENT_NAMES)
    some = answer(session, {"request": "Subscribe", "events": ["playback_finished"]})
    assert some.subscribe == frozenset({"playback_finished"})
    assert answer(session, {"request": "Unsubscribe"}).subscribe == frozenset()


def test_http_cannot_subscribe():
    outcome = answer(make(transport="http"), b'{"request":"Subscribe","id":2}')
    assert code(outcome) == ErrorCode.UNSUPPORTED and outcome.subscribe is None


@pytest.mark.parametrize(("origin", "allowed", "ok"), [
    (None, [], True),  # a program, not a browser page
    ("https://evil.example", [], False),
    ("null", [], False),  # sandboxed pages and file:// send "null"
    ("http://localhost:3000", ["http://localhost:3000/"], True),
    ("HTTP://LOCALHOST:3000", ["http://localhost:3000"], True),
    ("http://localhost:3001", ["http://localhost:3000"], False),
])
def test_origin_allow_list(origin, allowed, ok):
    assert origin_allowed(origin, allowed) is ok


# -- fuzz: whatever arrives, the session answers with a well-formed reply -----------------

_json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
_json_values = st.recursive(_json_scalars, lambda inner: st.lists(inner, max_size=4)
                            | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
_known_keys = sorted({k for schema in [*EVENT_SCHEMAS.values(), *REQUEST_SCHEMAS.values(),
                                       *REMOVAL_SCHEMAS.values()] for k in schema}
                     | {"id", "voice", "hold_seconds", "needs_approval", "username", "emotes", "first_time"})
_frames = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from([*EVENT_SCHEMAS, *REMOVAL_SCHEMAS, "nope"]) | _json_scalars,
    "request": st.sampled_from([*REQUEST_SCHEMAS, "Nope"]) | _json_scalars,
    **{key: _json_values for key in _known_keys if key not in ("type", "request")},
})


SERVED = Served(MANAGER)


def served(**kwargs) -> Served:
    """The real dispatcher on MANAGER, behind a new session."""
    SERVED.session = Session(**kwargs)
    return SERVED


def _check(outcome) -> None:
    reply = outcome.reply
    assert reply["status"] in ("ok", "error", "filtered", "rejected") and "id" in reply
    if reply["status"] in ("filtered", "rejected"):
        assert reply["stage"] and reply["reason"] and "error" not in reply
    if reply["status"] == "error":
        assert reply["error"]["code"] and isinstance(reply["error"]["message"], str)
        assert reply["error"]["code"] != ErrorCode.INTERNAL_ERROR, reply
    json.dumps(reply)  # always serializable


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=_frames)
def test_fuzz_structured_frames_never_crash(frame):
    _check(served().outcome(json.dumps(frame)))


@settings(max_examples=300, deadline=None)
@given(data=st.text(alphabet=string.printable + "{}[]\":,é\x00", max_size=200) | st.binary(max_size=200))
def test_fuzz_arbitrary_text_and_bytes_never_crash(data):
    for transport in ("websocket", "http"):
        _check(served(transport=transport, max_frame_bytes=256).outcome(data))


_field_values = (st.text(max_size=80) | st.integers(min_value=0, max_value=10**6)
                 | st.floats(min_value=0, max_value=1e6) | st.booleans()
                 | st.sampled_from(["https://x.co/a", "!tts hi Kappa", "sooooo", "URGENT", "low", "$", "€"]))


@st.composite
def _mostly_valid_events(draw):
    event_type = draw(st.sampled_from(sorted(EVENT_SCHEMAS)))
    keys = sorted(EVENT_SCHEMAS[event_type])
    frame = {"type": event_type, "id": draw(st.integers(0, 10**9))}
    for key in keys:
        if draw(st.integers(0, 5)):  # mostly present
            frame[key] = draw(_field_values)
    return frame


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=_mostly_valid_events())
def test_fuzz_mostly_valid_events_reach_the_queue_or_get_a_field_error(frame):
    outcome = served().outcome(json.dumps(frame))
    _check(outcome)
    if outcome.reply["status"] == "error":
        assert outcome.reply["error"]["code"] in (ErrorCode.MISSING_FIELD, ErrorCode.INVALID_FIELD)
