"""The listener's pure defences: Host names, origins, wrong-token lock-out, the gate, log limits."""

from __future__ import annotations

import logging

import pytest

from tts_core.config import ListenerConfig
from tts_core.listener.guard import (
    MAX_FAILED_TOKENS,
    Gate,
    HostAllowList,
    RateLimitedLog,
    TokenAttempts,
    Visitor,
    affordable_connections,
    host_name,
    same_origin,
    usable_origins,
)
from tts_core.listener.protocol import ErrorCode


@pytest.mark.parametrize(("header", "name"), [
    ("127.0.0.1:8765", "127.0.0.1"), ("[::1]:8765", "::1"), ("[::1]", "::1"), ("LocalHost", "localhost"),
    ("example.com.", "example.com"),
])
def test_host_name(header, name):
    assert host_name(header) == name


def test_host_allow_list():
    hosts = HostAllowList.build("0.0.0.0", ["streampc.local"])
    for ok in (None, "localhost:8765", "127.0.0.1", "[::1]:1", "10.0.0.7:8765", "StreamPC.local:8765"):
        assert hosts.allows(ok), ok
    for bad in ("evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "127.0.0.1:8765; x", "a b", ""):
        assert not hosts.allows(bad), bad
    assert HostAllowList.build("tts-box", []).allows("tts-box:8765")


def test_null_is_never_a_usable_origin(caplog):
    assert usable_origins(["http://localhost:3000", "null", " NULL "]) == ["http://localhost:3000"]
    assert "sandboxed iframe" in caplog.text
    assert same_origin("http://127.0.0.1:8765", "127.0.0.1:8765")
    assert not same_origin("null", "127.0.0.1:8765")
    assert not same_origin("http://127.0.0.1:3000", "127.0.0.1:8765")


def test_token_attempts_lock_out_and_expire():
    attempts = TokenAttempts(max_failures=3, window=10, lockout=30)
    for t in (0, 1):
        attempts.record("1.2.3.4", ok=False, now=t)
    assert attempts.locked("1.2.3.4", now=2) == 0
    attempts.record("1.2.3.4", ok=False, now=2)
    assert attempts.locked("1.2.3.4", now=3) == 29 and attempts.locked("5.6.7.8", now=3) == 0
    assert attempts.locked("1.2.3.4", now=33) == 0
    attempts.record("9.9.9.9", ok=False, now=0)
    attempts.record("9.9.9.9", ok=False, now=20)  # the first fell out of the window
    attempts.record("9.9.9.9", ok=False, now=21)
    assert attempts.locked("9.9.9.9", now=21) == 0
    attempts.record("9.9.9.9", ok=True, now=22)  # a right token (a bot on the same address) ...
    attempts.record("9.9.9.9", ok=False, now=23)  # ... does not wipe a guesser's count
    assert attempts.locked("9.9.9.9", now=23) == 30


def test_rate_limited_log_keeps_a_flood_to_a_few_lines():
    flt = RateLimitedLog(burst=3, interval=60)
    record = lambda n: logging.LogRecord("x", logging.ERROR, __file__, 1, "accept failed: %s", (n,), None)  # noqa: E731
    passed = [flt.filter(record(n)) for n in range(1000)]
    assert passed.count(True) == 3
    flt._windows[("x", "accept failed: %s")][0] -= 61  # the interval is over
    late = record(1000)
    assert flt.filter(late) and "997 more like this" in late.getMessage()


def test_affordable_connections_stays_under_half_the_descriptor_limit():
    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert affordable_connections(10) == min(10, soft // 2)
    assert affordable_connections(10**9) <= soft // 2


def test_one_line_errors_hide_tokens_the_request_quoted():
    import sys

    from tts_core.listener.guard import OneLine

    try:
        raise ValueError("Bad line 'GET /event?token=s3cret&x=1 HTTP/1.1'\nAuthorization: Bearer abc123")
    except ValueError:
        info = sys.exc_info()
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "Error from %s", ("1.2.3.4",), info)
    assert OneLine().filter(record)
    message = record.getMessage()
    assert record.exc_info is None and "\n" not in message
    assert message.startswith("Error from 1.2.3.4: ValueError")
    assert "s3cret" not in message and "abc123" not in message and "token=***" in message


# -- the gate: one check for HTTP requests and WebSocket handshakes --------------------------------


def _gate(token: str = "", **listener) -> Gate:
    return Gate.build(ListenerConfig(token=token, **listener), TokenAttempts(), clock=lambda: 100.0)


def _code(reply) -> str | None:
    return None if reply is None else reply["error"]["code"]


def test_the_gate_checks_the_host_first_then_the_origin():
    gate = _gate(allowed_origins=["http://localhost:3000"])
    program = Visitor(host="127.0.0.1:8765", origin=None, token=None, address="127.0.0.1")
    assert gate.admit(program, "GET /health") is None
    rebound = Visitor(host="evil.example", origin="https://evil.example", token=None, address="127.0.0.1")
    assert _code(gate.admit(rebound, "a WebSocket")) == ErrorCode.FORBIDDEN_HOST
    page = Visitor(host="127.0.0.1:8765", origin="https://evil.example", token=None, address="127.0.0.1")
    assert _code(gate.admit(page, "POST /event")) == ErrorCode.FORBIDDEN_ORIGIN
    for origin in ("http://localhost:3000", "http://127.0.0.1:8765"):  # allow-listed; the listener's own page
        assert gate.admit(Visitor("127.0.0.1:8765", origin, None, "127.0.0.1"), "a WebSocket") is None


def test_the_gate_checks_a_carried_token_and_locks_out_guessers():
    gate = _gate(token="s3cret")
    carried = lambda token: Visitor("127.0.0.1", None, token, "10.0.0.5")  # noqa: E731
    assert gate.check_token(carried(None)) is None  # no token yet: its session asks for one
    assert gate.check_token(carried("s3cret")) is None
    codes = [_code(gate.check_token(carried(f"guess{n}"))) for n in range(MAX_FAILED_TOKENS)]
    assert codes == [ErrorCode.UNAUTHORIZED] * MAX_FAILED_TOKENS
    assert _code(gate.check_token(carried("s3cret"))) == ErrorCode.TOO_MANY_ATTEMPTS
    assert _gate().check_token(carried("anything")) is None  # no token configured: any passes
