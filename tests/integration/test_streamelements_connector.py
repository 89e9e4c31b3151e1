"""The real StreamElements connector against a loopback Astro gateway
(tests/fakes/streamelements.py) over real sockets, into the real queue: what plays is what
the recording sink was given. Nothing leaves the machine."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import time
from contextlib import AbstractContextManager
from typing import Any

import pytest
from connector_support import (
    Running,
    connector_config,
    connector_config_file,
    run_doctor,
    running_connector,
    serve_stats,
    wait_serve_played,
)
from doubles import RecordingSink, ToneEngine, assert_accounting, wait_until
from fakes.streamelements import ROOM, FakeAstro
from fakes.streamelements_payloads import CASES, REWARD, activity, tip

from tts_core import TTSConfig
from tts_core.connectors.base import AUTH_FAILED, CONNECTED, DISABLED
from tts_core.connectors.running import status_line
from tts_core.connectors.streamelements import StreamElementsConnector
from tts_core.connectors.streamelements.client import RATE_LIMIT_SECONDS, RATE_LIMITED
from tts_core.ingest.translator import StreamerBotIntegration

ACTIVITIES, TIPS = "channel.activities", "channel.tips"


def config(server: FakeAstro, token: str, **settings: Any) -> TTSConfig:
    return connector_config("streamelements", server.settings(token, reward_titles=[REWARD], **settings))


def connected(
    make_manager: Any, server: FakeAstro, token: str, **settings: Any
) -> AbstractContextManager[Running]:
    return running_connector(make_manager, config(server, token, **settings), StreamElementsConnector)


def follow(name: str, activity_id: str) -> dict[str, Any]:
    return activity("follow", activity_id, username=name.lower(), displayName=name)


def test_both_topics_are_subscribed_with_the_token_and_every_event_is_spoken_once(make_manager):
    with FakeAstro() as server, connected(make_manager, server, token := server.grant("jwt")) as running:
        server.wait_subscribed()
        state = running.wait_state(CONNECTED)
        subscribes = server.subscribes()
        assert sorted(r["data"]["topic"] for r in subscribes) == [ACTIVITIES, TIPS]
        for request in subscribes:
            assert request["data"] == {"topic": request["data"]["topic"], "room": ROOM, "token": token,
                                       "token_type": "jwt"}
            assert request["nonce"]
        assert len({r["nonce"] for r in subscribes}) == 2
        assert sorted(state["subscribed"]) == [ACTIVITIES, TIPS] and state["room"] == ROOM
        assert state["missing"] == {} and state["token_type"] == "jwt"
        for case in CASES:
            server.publish(case.topic, case.data)
        server.publish(ACTIVITIES, CASES[2].data)  # the same follow delivered again, as a new message
        server.publish(TIPS, tip("t-held", "Sneaky", 99, message="not yet", approved="pending"))
        server.publish(ACTIVITIES, activity("merch", "a-merch", username="shopper"))  # not read
        server.publish(ACTIVITIES, follow("Last", "a-last"))
        tip_activity = next(c for c in CASES if c.data.get("type") == "tip")  # read from channel.tips only
        expected = [c.spoken for c in CASES if c is not tip_activity]
        running.assert_played_exactly(expected, "Last just followed")
        state = running.state()
        assert state["duplicates"] == 1 and state["not_understood"] == 0
        assert state["not_read"] == {"tips are read from channel.tips": 1, "not approved (pending)": 1}
        assert state["events"] == len(CASES) + 4
        assert status_line(running.manager) == "StreamElements connected"
        assert_accounting(running.manager)


@pytest.mark.parametrize("token_type", ["oauth2", "apikey"])
def test_oauth2_and_overlay_tokens_are_sent_with_their_type(make_manager, token_type):
    with FakeAstro() as server, connected(make_manager, server, token := server.grant(token_type)) as running:
        server.wait_subscribed()
        running.wait_state(CONNECTED)
        assert {(r["data"]["token"], r["data"]["token_type"]) for r in server.subscribes()} == {
            (token, token_type)}
        server.publish(TIPS, tip("t-tt", "Typed", 2, "CAD", "hello"))
        running.wait_played("Typed donated 2 Canadian dollars: hello")


def test_a_refused_token_is_auth_failed_naming_the_problem_never_the_token_and_a_new_token_applies_at_once(
        make_manager, caplog):
    caplog.set_level(logging.DEBUG, logger="tts_core")
    wrong = "jwt-not-a-token-we-know-1234567890"
    with FakeAstro() as server, connected(make_manager, server, wrong, token_type="jwt") as running:
        state = running.wait_state(AUTH_FAILED)
        assert "err_unauthorized: invalid token" in state["reason"]
        assert "JWT Token" in state["reason"] and "connectors.streamelements.token" in state["reason"]
        assert status_line(running.manager) == "StreamElements auth failed"
        assert len(server.subscribes()) == 2
        good = server.grant("jwt")
        started = time.monotonic()
        running.manager.reconfigure(config(server, good))  # the panel's token field, changed
        server.wait_subscribed()
        running.wait_state(CONNECTED)
        assert time.monotonic() - started < 20  # at once, not at the 60 s retry
        shown = json.dumps(running.manager.get_stats()) + status_line(running.manager)
        logged = "\n".join(r.getMessage() for r in caplog.records)
        for token in (wrong, good):
            assert token not in shown and token not in logged
            assert token not in repr(running.connector.settings)
        assert any("refused the connection" in r.getMessage() for r in caplog.records)
        # the new token: "connecting", "connected", and no stale "cannot reach" line about the old one
        assert not any("cannot reach" in r.getMessage() for r in caplog.records), logged


def test_no_token_at_all_is_auth_failed_without_connecting(make_manager):
    with FakeAstro() as server, connected(make_manager, server, "") as running:
        state = running.wait_state(AUTH_FAILED)
        assert state["reason"].startswith("no token: copy the JWT Token")
        assert server.attempts == []


def test_one_topic_refused_is_connected_with_it_missing_and_tips_then_come_from_activities(make_manager):
    with FakeAstro() as server, \
            connected(make_manager, server, server.grant(topics=(ACTIVITIES,))) as running:
        server.wait_subscribed((ACTIVITIES,))
        state = running.wait_state(CONNECTED)
        assert state["subscribed"] == [ACTIVITIES]
        assert state["missing"] == {TIPS: "refused by StreamElements (err_unauthorized: invalid token)"}
        assert status_line(running.manager) == "StreamElements connected (1 event types missing)"
        server.publish(ACTIVITIES, activity("tip", "a-tip", username="fan", displayName="Fan", amount=5,
                                            currency="EUR", message="from the feed"))
        running.wait_played("Fan donated 5 euros: from the feed")


def test_a_subscribe_rate_limit_is_a_state_and_is_waited_out_before_trying_again(make_manager, caplog):
    caplog.set_level(logging.INFO, logger="tts_core.connectors")
    with FakeAstro() as server:
        server.limit_subscribes = 1
        with connected(make_manager, server, server.grant()) as running:
            state = running.wait_state(RATE_LIMITED)
            assert "rate_limit_exceeded" in state["last_error"] and state["retry_in_s"] > 0
            assert status_line(running.manager) == "StreamElements rate limited"
            server.wait_subscribed(timeout=RATE_LIMIT_SECONDS + 20)
            running.wait_state(CONNECTED)
            assert len(server.attempts) == 2
            assert server.attempts[1] - server.attempts[0] >= RATE_LIMIT_SECONDS - 0.5
            lines = [r.getMessage() for r in caplog.records if "rate limited" in r.getMessage()]
            assert len(lines) == 1, lines  # one line per change of state


def test_http_429_on_connecting_honours_retry_after(make_manager):
    with FakeAstro() as server:
        server.refuse_connections, server.retry_after = 2, 3
        with connected(make_manager, server, server.grant()) as running:
            state = running.wait_state(RATE_LIMITED)
            assert "HTTP 429" in state["last_error"] and "waiting 3 s" in state["last_error"]
            server.wait_subscribed(timeout=30)
            running.wait_state(CONNECTED)
            gaps = [b - a for a, b in zip(server.attempts, server.attempts[1:], strict=False)]
            assert len(server.attempts) == 3 and all(gap >= 3 - 0.5 for gap in gaps), gaps


def test_astros_pings_are_answered_and_the_connection_stays(make_manager):
    with FakeAstro(ping_every=0.3, pong_timeout=5.0) as server, \
            connected(make_manager, server, server.grant()) as running:
        first = server.wait_subscribed()
        assert server.wait(lambda: first.pongs >= 5, 20), first.pongs
        assert not first.closed and server.live() == [first] and len(server.attempts) == 1
        assert running.state()["state"] == CONNECTED
        server.publish(ACTIVITIES, follow("Pinged", "a-ping"))
        running.wait_played("Pinged just followed")


def test_reconnect_is_followed_with_its_token_keeping_the_subscriptions_and_losing_nothing(make_manager):
    with FakeAstro() as server, connected(make_manager, server, server.grant()) as running:
        server.wait_subscribed()
        server.publish(ACTIVITIES, follow("Before", "a-before"))
        running.wait_played("Before just followed")
        old, _token = server.reconnect()
        assert server.wait(lambda: old.closed and len(server.live()) == 1)
        (new,) = server.live()
        assert new.restored and new.subscriptions == {ACTIVITIES, TIPS}  # the token was taken
        assert len(server.subscribes()) == 2  # nothing subscribed again
        server.publish(ACTIVITIES, follow("After", "a-after"))
        server.publish(TIPS, tip("t-after", "Tipper", 1, "USD", "still here"))
        running.wait_played("After just followed")
        running.wait_played("Tipper donated 1 dollar: still here")
        state = running.state()
        assert state["reconnects_followed"] == 1 and state["state"] == CONNECTED
        assert running.played().count("Before just followed") == 1


def test_a_reconnect_token_astro_refuses_means_a_new_connection_that_subscribes_with_the_token(make_manager):
    with FakeAstro() as server, connected(make_manager, server, token := server.grant()) as running:
        first = server.wait_subscribed()
        server.reconnect(valid=False)
        assert server.wait(lambda: first.closed and len(server.subscribes()) == 4, 30), running.state()
        second = server.wait_subscribed()
        assert second is not first and not second.restored
        assert all(r["data"]["token"] == token for r in server.subscribes())
        running.wait_state(CONNECTED)
        server.publish(TIPS, tip("t-new", "Fresh", 3, "USD"))
        running.wait_played("Fresh donated 3 dollars")


def test_a_dropped_socket_reconnects_and_subscribes_again(make_manager):
    with FakeAstro() as server, connected(make_manager, server, server.grant()) as running:
        first = server.wait_subscribed()
        server.drop()
        second = server.wait_subscribed()
        assert second is not first and len(server.subscribes()) == 4
        running.wait_state(CONNECTED)
        server.publish(ACTIVITIES, follow("Again", "a-again"))
        running.wait_played("Again just followed")


def test_switched_off_and_on_live(make_manager):
    with FakeAstro() as server, connected(make_manager, server, token := server.grant()) as running:
        server.wait_subscribed()
        running.manager.reconfigure(config(server, token, enabled=False))
        running.wait_state(DISABLED)
        assert server.wait(lambda: server.live() == [])
        assert status_line(running.manager) == ""
        running.manager.reconfigure(config(server, token))
        server.wait_subscribed()
        running.wait_state(CONNECTED)
        server.publish(ACTIVITIES, follow("Back", "a-back"))
        running.wait_played("Back just followed")


def test_a_gateway_that_never_answers_delays_nothing(make_manager):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)  # accepts TCP, never answers the WebSocket handshake
    try:
        sink = RecordingSink(speed=0.0)
        manager = make_manager(TTSConfig.from_dict({
            "tts_queue": {"rate_limit_per_minute": 0},
            "connectors": {"streamelements": {"enabled": True, "token": "t",
                                              "url": f"ws://127.0.0.1:{silent.getsockname()[1]}/"}}}),
            engine=ToneEngine(1), sink=sink)
        connector = StreamElementsConnector(manager, StreamerBotIntegration(manager))
        manager.start()
        connector.start()
        try:
            started = time.monotonic()
            StreamerBotIntegration(manager).submit("follow", {"username": "Meanwhile"})
            assert wait_until(lambda: [p.text for p in sink.played] == ["Meanwhile just followed"])
            assert time.monotonic() - started < 10
            assert connector.report()["state"] == "connecting"
        finally:
            connector.close()
    finally:
        silent.close()


def _doctor(tmp_path: Any, settings: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    config_file = connector_config_file(tmp_path / "config.json", "streamelements", settings)
    return run_doctor(config_file, env={**os.environ, "OBS_TTS_DATA_DIR": str(tmp_path / "data")})


def test_obs_tts_doctor_tries_streamelements_and_says_why_not(tmp_path):
    with FakeAstro() as server:
        good = _doctor(tmp_path, server.settings(server.grant()))
        line = next(x for x in good.stdout.splitlines() if "connector streamelements" in x)
        assert line == "  ok    connector streamelements", good.stdout
        wrong = "jwt-wrong-0987654321"
        bad = _doctor(tmp_path, server.settings(wrong))
        line = next(x for x in bad.stdout.splitlines() if "connector streamelements" in x)
        assert line.startswith("  FAIL  connector streamelements: StreamElements at "), bad.stdout
        assert "err_unauthorized" in line
        assert wrong not in bad.stdout + bad.stderr
    off = _doctor(tmp_path, {"enabled": False})
    line = next(x for x in off.stdout.splitlines() if "connector streamelements" in x)
    assert line == "  --    connector streamelements: off (connectors.streamelements.enabled)", off.stdout


def test_obs_tts_serve_starts_it_and_getstats_shows_its_state_but_never_the_token(tmp_path):
    from listener_support import serving

    with FakeAstro() as server:
        token = server.grant()
        settings = server.settings(token)
        config_file = connector_config_file(tmp_path / "config.json", "streamelements", settings)
        with serving(tmp_path, config_file) as (url, lines, _process):
            server.wait_subscribed()
            assert any("connector streamelements: StreamElements at " in line for line in lines), lines
            server.publish(TIPS, tip("t-served", "ServedFan", 7, "EUR", "from serve"))
            wait_serve_played(lines, "ServedFan donated 7 euros")
            reply = serve_stats(url)
            state = reply["stats"]["connectors"]["streamelements"]
            assert state["state"] == CONNECTED and state["events"] == 1 and state["room"] == ROOM
            assert token not in json.dumps(reply) and token not in "".join(lines)


def test_stop_after_a_followed_reconnect_closes_the_new_socket_and_ends_every_thread(make_manager):
    import threading

    with FakeAstro() as server, connected(make_manager, server, server.grant()) as running:
        server.wait_subscribed()
        old, _token = server.reconnect()
        assert server.wait(lambda: old.closed and len(server.live()) == 1)
        assert wait_until(lambda: running.state()["reconnects_followed"] == 1), running.state()
        (moved,) = server.live()
        running.connector.stop()
        assert not running.connector.is_running
        assert [t.name for t in threading.enumerate() if t.name.startswith("tts-connector-streamelements")
                ] == []
        assert server.wait(lambda: moved.closed), "the socket Astro moved us to is still open after stop()"
        # 1000: the connector closed it; 1008: Astro gave up on a socket nobody answered
        assert moved.close_code == 1000, f"closed with {moved.close_code}: left open by the connector"
        assert server.live() == []


def test_a_tip_held_for_approval_is_read_once_when_it_comes_again_approved(make_manager):
    with FakeAstro() as server, connected(make_manager, server, server.grant()) as running:
        server.wait_subscribed()
        running.wait_state(CONNECTED)
        server.publish(TIPS, tip("t-mod", "Held", 5, "EUR", "after review", approved="pending"))
        server.publish(ACTIVITIES, follow("Marker", "a-marker"))  # the held tip was handled before this
        running.wait_played("Marker just followed")
        assert running.played() == ["Marker just followed"]
        assert running.state()["not_read"] == {"not approved (pending)": 1}
        server.publish(TIPS, tip("t-mod", "Held", 5, "EUR", "after review"))  # a moderator approved it
        server.publish(TIPS, tip("t-mod", "Held", 5, "EUR", "after review"))  # delivered again
        server.publish(TIPS, tip("t-no", "Rude", 5, "EUR", "bad words", approved="rejected"))
        server.publish(ACTIVITIES, follow("Last", "a-last"))
        running.wait_played("Last just followed")
        assert running.manager.wait_until_idle(20)
        assert running.played() == ["Marker just followed", "Held donated 5 euros: after review",
                                    "Last just followed"]
        state = running.state()
        assert state["duplicates"] == 1
        assert state["not_read"] == {"not approved (pending)": 1, "not approved (rejected)": 1}
        assert_accounting(running.manager)
