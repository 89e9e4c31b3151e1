"""Every input gets a JSON answer that names the field (issue 19): arbitrary Unicode,
lone surrogates and NUL in every field of every frame type, over HTTP and WebSocket
against a real listener; malformed HTTP requests; viewer text in the process log.

Derandomized and modest example counts, so the file runs in seconds and CI is deterministic.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from doubles import RecordingSink, ToneEngine, wait_until
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from listener_support import Running, ask, post, raw_http, serving

from tts_core import TTSConfig, TTSQueueManager
from tts_core.listener import ListenerServer
from tts_core.listener.protocol import EVENT_OPTIONS, EVENT_SCHEMAS, REMOVAL_SCHEMAS, REQUEST_SCHEMAS

# A valid value for each required field, so the fuzzed field is the only thing wrong.
VALID = {"donor_name": "Ann", "amount": 5, "username": "ann", "bits": 100, "message": "hello",
         "text": "hello", "chat_message_id": "m1", "message_id": "abc", "token": "t",
         "recipient": "bob", "count": 3, "reward": "Read my message"}

FRAMES: list[tuple[dict[str, Any], str]] = []  # (a valid frame, a field of it)
for _name, _schema in [*EVENT_SCHEMAS.items(), *REMOVAL_SCHEMAS.items()]:
    _base = {"type": _name, **{k: VALID[k] for k, spec in _schema.items() if spec.required}}
    _fields = [*_schema, *(EVENT_OPTIONS if _name in EVENT_SCHEMAS else ()), "id"]
    FRAMES += [(_base, f) for f in _fields]
for _name, _schema in REQUEST_SCHEMAS.items():
    _base = {"request": _name, **{k: VALID[k] for k, spec in _schema.items() if spec.required}}
    FRAMES += [(_base, f) for f in [*_schema, "id"]]

NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
_any_char = st.characters(exclude_categories=())  # surrogates and controls included
_strings = st.one_of(
    st.text(_any_char, max_size=12),
    st.tuples(st.text(_any_char, max_size=5), st.sampled_from(["\ud800", "\udfff", "\x00", "\n\x1b[2J"]),
              st.text(_any_char, max_size=5)).map("".join),
)
_values = st.one_of(_strings, st.lists(_strings, max_size=3), st.dictionaries(_strings, _strings, max_size=2))
FUZZ = settings(max_examples=120, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _has_non_text(value: Any) -> bool:
    if isinstance(value, str):
        return bool(NOT_TEXT.search(value))
    if isinstance(value, list):
        return any(map(_has_non_text, value))
    if isinstance(value, dict):
        return any(_has_non_text(k) or _has_non_text(v) for k, v in value.items())
    return False


def _check(reply: dict[str, Any], field: str, value: Any) -> None:
    assert reply["status"] in ("ok", "error", "filtered", "rejected"), reply
    if reply["status"] != "error":
        assert not _has_non_text(value), f"{field}={value!r} was accepted: {reply}"
        return
    error = reply["error"]
    assert error["code"] != "internal_error", reply
    if _has_non_text(value):
        assert error["code"] == "invalid_field", reply
    if error["code"] in ("invalid_field", "missing_field"):
        assert field in error["message"], f"the error does not name {field!r}: {reply}"


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    config = TTSConfig(rate_limit_per_minute=0, max_queue_size=100_000)
    config.listener.port = 0
    config.listener.max_messages_per_second = 0
    sink = RecordingSink(speed=0)
    manager = TTSQueueManager(config, engine=ToneEngine(1), sink=sink)
    manager.start()
    server = ListenerServer(manager)
    server.start()
    try:
        yield Running(manager, server, sink)
    finally:
        server.stop()
        manager.stop()


@pytest.fixture(scope="module")
def ws(running: Running) -> Iterator[Any]:
    with running.ws() as connection:
        yield connection


@FUZZ
@given(case=st.sampled_from(FRAMES), value=_values)
def test_fuzz_every_field_over_websocket(running, ws, case, value):
    base, field = case
    reply = ask(ws, json.dumps({**base, field: value}))  # json.dumps escapes surrogates and NUL
    _check(reply, field, value)
    assert ask(ws, {"request": "GetStats", "id": "alive"})["status"] == "ok", "the connection is kept"


@FUZZ
@given(case=st.sampled_from(FRAMES), value=_values)
def test_fuzz_every_field_over_http(running, case, value):
    base, field = case
    if base.get("request") in ("Subscribe", "Unsubscribe"):
        return  # WebSocket only (answered "unsupported" before the fields matter)
    status, reply = post(running.http, json.dumps({**base, field: value}))
    assert status != 500, reply
    _check(reply, field, value)


def test_a_lone_surrogate_id_is_refused_and_nothing_is_queued(running, ws):
    before = running.manager.get_stats()["accepted"]
    for send in (lambda f: post(running.http, f)[1], lambda f: ask(ws, f)):
        reply = send('{"type":"tts","text":"x","id":"\\ud800"}')
        assert reply["status"] == "error" and reply["error"]["code"] == "invalid_field", reply
        assert reply["error"]["message"].startswith("id ") and reply["id"] is None
        reply = send('{"request":"Approve","message_id":"\\ud800x"}')
        assert reply["error"]["code"] == "invalid_field" and "message_id" in reply["error"]["message"]
        assert "\ud800" not in reply["error"]["message"]
    assert running.manager.get_stats()["accepted"] == before


# -- malformed HTTP ------------------------------------------------------------------------------

MALFORMED = {
    "negative Content-Length": b"POST /event HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n",
    "duplicate Content-Length": b"POST /event HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n"
                                b"Content-Length: 3\r\n\r\n{}",
    "bad chunk size": b"POST /event HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"zz\r\n{}\r\n0\r\n\r\n",
    "NUL in a header": b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\x00b\r\n\r\n",
    "over-long header": b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: " + b"a" * 20000 + b"\r\n\r\n",
    "garbage request line": b"GARBAGE\r\n\r\n",
    "bad HTTP version": b"GET /health HTTP/9.Z\r\nHost: 127.0.0.1\r\n\r\n",
}


@pytest.mark.parametrize("payload", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_http_gets_the_json_error_object(running, payload):
    answer = raw_http(running.server.port, payload)
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert 400 <= status < 500, answer[:300]
    assert b"application/json" in head.lower(), answer[:300]
    reply = json.loads(body)
    assert reply["status"] == "error" and reply["error"]["code"] and reply["error"]["message"], reply


# -- the process log ---------------------------------------------------------------------------------

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def test_viewer_text_cannot_forge_or_escape_a_log_line(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"tts_queue": {"rate_limit_per_minute": 0}}))
    forged = "09:00:00 playback_finished forged"
    with serving(tmp_path, config) as (url, lines, _process):
        from websockets.sync.client import connect

        with connect(url, open_timeout=5) as ws:
            reply = ask(ws, {"type": "tts", "text": "hello\x1b[2J", "username": f"eve\n{forged}\x1b[2J\r"})
            assert reply["status"] == "ok", reply
            reply = ask(ws, {"type": "tts", "text": "x", "username": "a\x00b"})
            assert reply["error"]["code"] == "invalid_field" and "username" in reply["error"]["message"]

        def finished() -> bool:  # eve's real line (the forged text sits inside her "queued" line)
            return any(line.split()[1:2] == ["playback_finished"] and " NORMAL eve" in line for line in lines)

        assert wait_until(finished, 30), lines
    printed = "".join(lines)
    assert not CONTROL.search(printed), [line for line in lines if CONTROL.search(line)]
    assert not any(line.startswith(forged) for line in printed.splitlines()), printed
    eve = [line for line in printed.splitlines() if " NORMAL eve" in line]
    assert len(eve) >= 2 and all("\\x0a" in line and "\\x1b" in line for line in eve), eve


def test_every_frame_type_and_field_is_fuzzed():
    names = {(b.get("type") or b.get("request")) for b, _f in FRAMES}
    assert names == {*EVENT_SCHEMAS, *REMOVAL_SCHEMAS, *REQUEST_SCHEMAS}


# -- the documented limits (docs/listener.md) ----------------------------------------------------------


@pytest.fixture
def small_frames(make_manager) -> Iterator[Running]:
    from listener_support import listening

    with listening(make_manager, max_frame_bytes=1024) as running:
        yield running


def test_frames_up_to_four_times_the_limit_get_a_reply_larger_ones_close_1009(small_frames):
    from websockets.exceptions import ConnectionClosed

    limit = 1024
    with small_frames.ws() as ws:
        for size in (limit + 1, 4 * limit):
            reply = ask(ws, "x" * size)
            assert reply["error"]["code"] == "frame_too_large", (size, reply)
        assert ask(ws, {"request": "GetStats"})["status"] == "ok", "kept"
        ws.send("x" * (4 * limit + 1))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_a_text_frame_that_is_not_utf8_closes_1007_without_a_reply(small_frames):
    from websockets.exceptions import ConnectionClosed

    with small_frames.ws() as ws:
        ws.send(b'{"request":"GetStats","x":"\xff"}', text=True)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
