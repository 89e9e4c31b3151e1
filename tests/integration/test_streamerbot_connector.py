"""The real Streamer.bot connector against a loopback Streamer.bot WebSocket Server
(tests/fakes/streamerbot.py) over a real socket, into the real queue: what plays is
what the recording sink was given."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from typing import Any

import pytest
from connector_support import (
    Running,
    connector_config_file,
    log_lines,
    run_doctor,
    running_connector,
    serve_stats,
    wait_serve_played,
)
from doubles import RecordingSink, ToneEngine, assert_accounting, wait_until
from fakes.streamerbot import FakeStreamerBot
from fakes.streamerbot_payloads import CASES, REWARD

from tts_core import TTSConfig
from tts_core.connectors.base import AUTH_FAILED, CONNECTED, DISABLED
from tts_core.connectors.streamerbot import StreamerBotConnector
from tts_core.ingest.translator import StreamerBotIntegration


def config(url: str, **settings: Any) -> TTSConfig:
    return TTSConfig.from_dict({
        "tts_queue": {"rate_limit_per_minute": 0, "max_queue_size": 500},
        "connectors": {"streamerbot": {"enabled": True, "url": url, "reward_titles": [REWARD], **settings}},
    })


def connected(make_manager: Any, server: FakeStreamerBot, **settings: Any) -> AbstractContextManager[Running]:
    return running_connector(make_manager, config(server.url, **settings), StreamerBotConnector)


def test_every_event_type_of_every_generation_is_spoken_exactly_and_once(make_manager):
    with FakeStreamerBot() as server, connected(make_manager, server) as running:
        assert server.wait_subscribed()
        assert wait_until(lambda: running.state()["state"] == CONNECTED)
        subscribed = server.subscriptions()[0]
        assert ("twitch", "Follow") in subscribed and ("general", "Custom") in subscribed
        assert ("twitch", "PresentViewers") not in subscribed  # offered, but not one we read
        for n, case in enumerate(CASES):
            assert server.send_event(case.source, case.kind, case.data, f"2026-01-01T00:00:{n:02d}") == 1
            if case.data.get("messageId") or case.data.get("eventId"):  # delivered twice: one is dropped
                server.send_event(case.source, case.kind, case.data, f"2026-01-01T00:01:{n:02d}")
        test = {"user": {"name": "Tester"}, "isTest": True}
        server.send_event("Twitch", "Follow", test, "test-1")
        server.send_event("Twitch", "Follow", test, "test-1")  # the same frame again: dropped
        server.send_event("Twitch", "Follow", test, "test-2")  # the test button pressed again: spoken
        server.send_event("Twitch", "Follow", {"user": {"name": "Last"}}, "last")
        expected = [case.spoken for case in CASES] + ["Tester just followed"] * 2
        running.assert_played_exactly(expected, "Last just followed")
        state = running.state()
        with_ids = sum(1 for c in CASES if c.data.get("messageId") or c.data.get("eventId"))
        assert state["duplicates"] == with_ids + 1
        assert state["not_understood"] == 0
        assert state["server"] == {"name": "Streamer.bot", "version": "0.2.6"}
        assert_accounting(running.manager)


def test_a_deleted_line_and_a_banned_viewers_waiting_messages_never_play(make_manager):
    with FakeStreamerBot() as server, connected(make_manager, server) as running:
        assert server.wait_subscribed()
        running.manager.pause()

        def chat(name: str, uid: str, text: str, message_id: str) -> None:
            user = {"id": uid, "login": name.lower(), "name": name, "role": 1}
            server.send_event("Twitch", "ChatMessage", {"user": user, "text": text, "messageId": message_id})

        chat("Keeper", "1", "!tts keep me", "m-1")
        chat("Keeper", "1", "!tts delete me", "m-2")
        chat("Troll", "666", "!tts spam one", "m-3")
        chat("Troll", "666", "!tts spam two", "m-4")
        assert wait_until(lambda: running.manager.get_stats()["accepted"] == 4)
        server.send_event("Twitch", "ChatMessageDeleted", {"targetMessageId": "m-2", "message": "delete me"})
        server.send_event("Twitch", "UserBanned", {"target_user_login": "troll", "target_user_id": "666",
                                                  "moderation_action": "ban"})
        assert wait_until(lambda: running.manager.get_stats()["dropped"] == 3)
        chat("Troll", "666", "!tts I am back", "m-5")  # blocked after the ban
        chat("Keeper", "1", "!tts after the ban", "m-6")
        # the banned viewer's line is refused (counted as accepted and rejected), the other queued
        assert wait_until(lambda: running.manager.get_stats()["accepted"] == 6)
        assert running.manager.get_stats()["rejected"] == 1
        running.manager.resume()
        running.wait_played("Keeper says: after the ban")
        assert running.manager.wait_until_idle(20)
        assert running.played() == ["Keeper says: keep me", "Keeper says: after the ban"]
        assert_accounting(running.manager)


def test_with_the_right_password_events_arrive(make_manager):
    with FakeStreamerBot(password="s3cret") as server, \
            connected(make_manager, server, password="s3cret") as running:
        assert server.wait_subscribed()
        assert [r["request"] for r in server.requests][:3] == ["Authenticate", "GetEvents", "Subscribe"]
        server.send_event("Twitch", "Follow", {"user": {"name": "Secure"}})
        running.wait_played("Secure just followed")


def test_a_server_wanting_a_password_without_a_hello_to_answer_shows_auth_failed(make_manager):
    with FakeStreamerBot(password="s3cret", hello=False) as server, \
            connected(make_manager, server, password="s3cret") as running:
        assert wait_until(lambda: running.state()["state"] == AUTH_FAILED)
        assert "requires authentication" in running.state()["reason"] and server.subscribes == 0


def test_a_server_without_hello_and_old_source_names_is_handled(make_manager):
    with FakeStreamerBot(hello=False, lower_sources=True) as server, \
            connected(make_manager, server) as running:
        assert server.wait_subscribed()
        assert any(r.get("request") == "GetInfo" for r in server.requests)
        assert ("twitch", "Cheer") in server.subscriptions()[0]
        server.send_event("twitch", "Cheer", {"user": {"name": "OldServer"}, "bits": 5, "text": "hi"})
        running.wait_played("OldServer cheered 5 bits: hi")
        assert running.state()["state"] == CONNECTED


@pytest.mark.parametrize("password", ["wrong", ""], ids=["wrong-password", "no-password"])
def test_a_refused_password_shows_auth_failed_with_the_reason(make_manager, password, caplog):
    caplog.set_level(logging.INFO, logger="tts_core.connectors")
    with FakeStreamerBot(password="right") as server, \
            connected(make_manager, server, password=password) as running:
        assert wait_until(lambda: running.state()["state"] == AUTH_FAILED)
        state = running.state()
        assert ("refused the password" if password else "asks for a password") in state["reason"]
        assert "right" not in str(state) and (not password or password not in str(state))
        assert server.subscribes == 0
        # a setting fixes it, live
        running.manager.reconfigure(config(server.url, password="right"))
        assert server.wait_subscribed()
        assert wait_until(lambda: running.state()["state"] == CONNECTED)
    lines = log_lines(caplog, "refused the connection")
    assert len(lines) == 1 and "right" not in lines[0]


def test_a_restarted_server_is_reconnected_and_subscribed_again_nothing_lost_or_twice(make_manager):
    with FakeStreamerBot() as server, connected(make_manager, server) as running:
        assert server.wait_subscribed(1)
        server.send_event("Twitch", "ChatMessage", {"user": {"name": "Before"}, "text": "!tts one",
                                                    "messageId": "r-1"})
        running.wait_played("Before says: one")
        server.restart()
        assert server.wait_subscribed(2), running.state()
        assert wait_until(lambda: running.state()["state"] == CONNECTED)
        # Streamer.bot sends the last event again after the restart: it is not read twice
        server.send_event("Twitch", "ChatMessage", {"user": {"name": "Before"}, "text": "!tts one",
                                                    "messageId": "r-1"})
        server.send_event("Twitch", "ChatMessage", {"user": {"name": "After"}, "text": "!tts two",
                                                    "messageId": "r-2"})
        running.wait_played("After says: two")
        assert running.manager.wait_until_idle(20)
        assert running.played() == ["Before says: one", "After says: two"]
        assert running.state()["duplicates"] == 1 and server.connections_made == 2


def test_malformed_payloads_are_counted_logged_once_and_the_connection_goes_on(make_manager, caplog):
    with FakeStreamerBot() as server, connected(make_manager, server) as running:
        assert server.wait_subscribed()
        for n in range(3):
            server.send_event("Twitch", "Cheer", {"user": {"name": "NoBits"}, "note": n})
        server.send_event("General", "Custom", {"request": "Skip"})
        server.send_event("Twitch", "Follow", {"user": {"name": "Fine"}})
        running.assert_goes_on_after_malformed("Fine just followed", not_understood=4)
    lines = log_lines(caplog, "not understood")
    assert len(lines) == 2 and any("Twitch.Cheer" in line for line in lines)


def test_settings_apply_live_off_on_and_a_new_address(make_manager):
    with FakeStreamerBot() as first, FakeStreamerBot() as second, connected(make_manager, first) as running:
        assert first.wait_subscribed()
        running.manager.reconfigure(config(first.url, enabled=False))
        assert wait_until(lambda: running.state()["state"] == DISABLED)
        assert wait_until(lambda: not running.connector.is_running)
        running.manager.reconfigure(config(second.url))
        assert second.wait_subscribed()
        second.send_event("Kick", "Follow", {"user": {"name": "Moved"}})
        running.wait_played("Moved just followed")
        running.manager.reconfigure(config(second.url, events=["Twitch"]))  # Kick no longer taken
        assert second.wait_subscribed(2)
        assert all(source == "twitch" for source, _ in second.subscriptions()[0])


def test_an_unreachable_server_never_delays_the_queue(make_manager):
    with FakeStreamerBot() as server:
        url = server.url
    sink = RecordingSink(speed=0.0)
    manager = make_manager(config(url), engine=ToneEngine(1), sink=sink)
    bot = StreamerBotIntegration(manager)
    connector = StreamerBotConnector(manager, bot)
    manager.start()
    connector.start()
    try:
        assert wait_until(lambda: manager.get_stats()["connectors"]["streamerbot"]["last_error"] is not None)
        state = manager.get_stats()["connectors"]["streamerbot"]
        assert state["state"] == "connecting" and "refused" in state["last_error"]
        bot.submit("follow", {"username": "Local"})
        assert wait_until(lambda: [p.text for p in sink.played] == ["Local just followed"], 5)
    finally:
        connector.close()
    assert "streamerbot" not in manager.get_stats()["connectors"]


def test_obs_tts_serve_starts_the_enabled_connector_and_shows_its_state(tmp_path):
    from listener_support import serving

    with FakeStreamerBot() as server:
        settings = {"enabled": True, "url": server.url}
        config = connector_config_file(tmp_path / "config.json", "streamerbot", settings)
        with serving(tmp_path, config) as (url, lines, _process):
            assert server.wait_subscribed(), lines
            started = "connector streamerbot: Streamer.bot at " + server.url
            assert any(started in line for line in lines), lines
            server.send_event("Twitch", "Follow", {"user": {"name": "ServedFan"}})
            wait_serve_played(lines, "ServedFan just followed")
            stats = serve_stats(url)["stats"]
            state = stats["connectors"]["streamerbot"]
            assert state["state"] == CONNECTED and state["events"] == 1


def test_switched_off_and_on_at_once_it_connects_again(make_manager):
    with FakeStreamerBot() as server, connected(make_manager, server) as running:
        assert server.wait_subscribed(1)
        running.manager.reconfigure(config(server.url, enabled=False))
        running.manager.reconfigure(config(server.url))
        assert server.wait_subscribed(2)
        assert wait_until(lambda: running.state()["state"] == CONNECTED and running.connector.is_running)
        server.send_event("Twitch", "Follow", {"user": {"name": "Back"}})
        running.wait_played("Back just followed")


def test_obs_tts_doctor_tries_the_enabled_connector(tmp_path):

    with FakeStreamerBot(password="right") as server:
        lines = {}
        for password in ("right", "wrong"):
            config = connector_config_file(tmp_path / f"{password}.json", "streamerbot",
                                           {"enabled": True, "url": server.url, "password": password})
            done = run_doctor(config)
            out = done.stdout.splitlines()
            lines[password] = next(line for line in out if "connector streamerbot" in line)
    assert lines["right"].split() == ["ok", "connector", "streamerbot"]
    assert lines["wrong"].startswith("  FAIL  connector streamerbot: ")
    assert "refused the password" in lines["wrong"] and "wrong" not in lines["wrong"]  # never shown
