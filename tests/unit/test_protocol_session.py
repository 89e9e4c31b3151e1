"""A client's session without sockets: token, rate limit, error budget, subscriptions,
frame size and binary frames; plus a property-based fuzz test that nothing crashes."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tts_core import TTSConfig, TTSQueueManager
from tts_core.events import EVENT_NAMES
from tts_core.integration import StreamerBotIntegration
from tts_core.listener.protocol import EVENT_SCHEMAS, REMOVAL_SCHEMAS, REQUEST_SCHEMAS, ErrorCode
from tts_core.listener.session import (
    CLOSE_POLICY_VIOLATION,
    MAX_ERROR_STREAK,
    MAX_UNAUTHENTICATED_ERRORS,
    Dispatcher,
    RateLimit,
    Session,
    origin_allowed,
)

MANAGER = TTSQueueManager(TTSConfig(max_queue_size=100_000))
DISPATCHER = Dispatcher(MANAGER, StreamerBotIntegration(MANAGER))


def make(**kwargs) -> Session:
    return Session(DISPATCHER, **kwargs)


def send(session: Session, frame: dict | str | bytes, now: float = 0.0):
    return session.receive(json.dumps(frame) if isinstance(frame, dict) else frame, now)


def code(outcome) -> str | None:
    return outcome.reply["error"]["code"] if outcome.reply["status"] == "error" else None


def test_without_a_token_everyone_is_authenticated():
    session = make()
    assert session.authenticated
    assert send(session, {"request": "Authenticate", "token": "anything"}).reply["status"] == "ok"


def test_a_token_is_required_first_and_the_session_works_after_it():
    session = make(token="s3cret")
    refused = send(session, {"request": "GetStats", "id": 1})
    assert code(refused) == ErrorCode.UNAUTHORIZED and refused.reply["id"] == 1 and refused.close is None
    wrong = send(session, {"request": "Authenticate", "token": "guess"})
    assert code(wrong) == ErrorCode.UNAUTHORIZED
    assert send(session, {"request": "Authenticate", "token": "s3cret"}).reply["authenticated"] is True
    assert send(session, {"request": "GetStats"}).reply["status"] == "ok"


def test_an_unauthenticated_client_that_keeps_trying_is_closed():
    session = make(token="s3cret")
    outcomes = [send(session, {"request": "Authenticate", "token": f"guess{i}"})
                for i in range(MAX_UNAUTHENTICATED_ERRORS)]
    assert all(o.close is None for o in outcomes[:-1])
    assert outcomes[-1].close is not None and outcomes[-1].close[0] == CLOSE_POLICY_VIOLATION


def test_a_handshake_token_authenticates_the_session():
    assert make(token="s3cret", authenticated=True).authenticated


def test_rate_limit_refuses_beyond_the_burst_then_refills():
    session = make(max_per_second=10)
    results = [code(send(session, {"request": "GetStats"}, now=100.0)) for _ in range(12)]
    assert results[:10] == [None] * 10 and results[10:] == [ErrorCode.RATE_LIMITED] * 2
    assert code(send(session, {"request": "GetStats"}, now=100.5)) is None  # 5 tokens back


def test_rate_limit_zero_is_unlimited():
    bucket = RateLimit(0)
    assert all(bucket.allow(1.0) for _ in range(10_000))


def test_a_flood_of_errors_closes_the_connection_but_one_good_frame_resets_the_count():
    session = make()
    for _ in range(MAX_ERROR_STREAK - 1):
        assert send(session, "garbage").close is None
    assert send(session, {"request": "GetStats"}).reply["status"] == "ok"
    outcomes = [send(session, "garbage") for _ in range(MAX_ERROR_STREAK)]
    assert outcomes[-1].close == (CLOSE_POLICY_VIOLATION, f"{MAX_ERROR_STREAK} bad frames in a row")


def test_binary_frames_are_refused_on_websocket_and_decoded_on_http():
    assert code(make().receive(b'{"request":"GetStats"}', 0)) == ErrorCode.BINARY_FRAME
    http = make(transport="http")
    assert http.receive(b'{"request":"GetStats"}', 0).reply["status"] == "ok"
    assert code(http.receive(b"\xff\xfe", 0)) == ErrorCode.BAD_JSON


def test_oversize_frames_are_refused_by_their_utf8_size():
    session = make(max_frame_bytes=1000)
    frame = json.dumps({"type": "tts", "text": "é" * 600})  # 600 characters, 1200 bytes
    assert code(session.receive(frame, 0)) == ErrorCode.FRAME_TOO_LARGE
    assert code(session.receive(json.dumps({"type": "tts", "text": "e" * 600}), 0)) is None


def test_subscribe_sets_the_pushed_events_and_unsubscribe_clears_them():
    session = make()
    everything = send(session, {"request": "Subscribe"})
    assert everything.subscribe == frozenset(EVENT_NAMES)
    assert everything.reply["subscribed"] == list(EVENT_NAMES)
    some = send(session, {"request": "Subscribe", "events": ["playback_finished"]})
    assert some.subscribe == frozenset({"playback_finished"})
    assert send(session, {"request": "Unsubscribe"}).subscribe == frozenset()


def test_http_cannot_subscribe():
    outcome = make(transport="http").receive(b'{"request":"Subscribe","id":2}', 0)
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


def _check(outcome, session: Session) -> None:
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
    session = make(token="", max_frame_bytes=65536)
    _check(session.receive(json.dumps(frame), 0.0), session)


@settings(max_examples=300, deadline=None)
@given(data=st.text(alphabet=string.printable + "{}[]\":,é\x00", max_size=200) | st.binary(max_size=200))
def test_fuzz_arbitrary_text_and_bytes_never_crash(data):
    for transport in ("websocket", "http"):
        session = make(transport=transport, max_frame_bytes=256)
        _check(session.receive(data, 0.0), session)


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
    session = make()
    outcome = session.receive(json.dumps(frame), 0.0)
    _check(outcome, session)
    if outcome.reply["status"] == "error":
        assert outcome.reply["error"]["code"] in (ErrorCode.MISSING_FIELD, ErrorCode.INVALID_FIELD)
