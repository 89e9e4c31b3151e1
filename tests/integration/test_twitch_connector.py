"""The real Twitch connector against a loopback Twitch (tests/fakes/twitch.py: EventSub
WebSocket, Helix, OAuth) over real sockets, into the real queue: what plays is what the
recording sink was given."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from connector_support import (
    Running,
    connector_config,
    connector_config_file,
    log_lines,
    run_doctor,
    running_connector,
    serve_stats,
    wait_serve_played,
)
from doubles import RecordingSink, ToneEngine, assert_accounting, wait_until
from fakes.twitch import ALL_SCOPES, FakeTwitch
from fakes.twitch_payloads import CASES, REWARD

from tts_core import TTSConfig
from tts_core.config.sections import TWITCH_EVENTS
from tts_core.connectors.base import AUTH_FAILED, CONNECTED
from tts_core.connectors.twitch import TwitchConnector, tokens
from tts_core.ingest.translator import StreamerBotIntegration


def config(server: FakeTwitch, **settings: Any) -> TTSConfig:
    return connector_config("twitch", server.settings(reward_titles=[REWARD], **settings))


def connected(
    make_manager: Any, server: FakeTwitch, token_file: Path, **settings: Any
) -> AbstractContextManager[Running]:
    return running_connector(make_manager, config(server, **settings), TwitchConnector, token_file=token_file)


def logged_in(server: FakeTwitch, path: Path, **grant: Any) -> Path:
    tokens.save(tokens.Tokens(**server.grant(**grant)), path)
    return path


def chat(text: str, message_id: str, name: str = "Chatty", uid: str = "18") -> dict[str, Any]:
    return {
        "broadcaster_user_id": "1001",
        "chatter_user_id": uid,
        "chatter_user_login": name.lower(),
        "chatter_user_name": name,
        "message_id": message_id,
        "badges": [],
        "message": {"text": text, "fragments": [{"type": "text", "text": text}]},
    }


def test_every_event_type_is_spoken_exactly_and_a_repeated_message_id_once(make_manager, tmp_path):
    with (
        FakeTwitch() as server,
        connected(make_manager, server, logged_in(server, tmp_path / "t.json")) as running,
    ):
        assert server.wait_subscribed(len(TWITCH_EVENTS))
        assert wait_until(lambda: running.state()["state"] == CONNECTED)
        assert sorted(running.state()["subscribed"]) == sorted(TWITCH_EVENTS)
        assert running.state()["missing"] == {}
        bodies = {b["type"]: b for b in server.subscription_requests}
        assert bodies["channel.follow"]["version"] == "2"
        assert bodies["channel.follow"]["condition"] == {
            "broadcaster_user_id": "1001",
            "moderator_user_id": "1001",
        }
        assert bodies["channel.raid"]["condition"] == {"to_broadcaster_user_id": "1001"}
        for case in CASES:
            message_id = server.notify(case.kind, case.event)
            server.notify(case.kind, case.event, message_id=message_id)  # at least once: delivered twice
        server.notify("channel.follow", {"user_name": "Last", "user_login": "last"})
        running.assert_played_exactly([case.spoken for case in CASES], "Last just followed")
        state = running.state()
        assert state["duplicates"] == len(CASES) and state["not_understood"] == 0
        assert state["account"] == "streamer" and "bits:read" in state["scopes"]
        assert_accounting(running.manager)


def test_a_deleted_line_a_cleared_viewer_and_a_ban_remove_pending_messages(make_manager, tmp_path):
    with (
        FakeTwitch() as server,
        connected(make_manager, server, logged_in(server, tmp_path / "t.json")) as running,
    ):
        assert server.wait_subscribed(len(TWITCH_EVENTS))
        running.manager.pause()
        server.notify("channel.chat.message", chat("!tts keep me", "m-1", "Keeper", "1"))
        server.notify("channel.chat.message", chat("!tts delete me", "m-2", "Keeper", "1"))
        server.notify("channel.chat.message", chat("!tts spam", "m-3", "Troll", "666"))
        server.notify("channel.chat.message", chat("!tts rude", "m-4", "Rude", "777"))
        assert wait_until(lambda: running.manager.get_stats()["accepted"] == 4)
        server.notify(
            "channel.chat.message_delete",
            {
                "broadcaster_user_id": "1001",
                "target_user_id": "1",
                "target_user_login": "keeper",
                "message_id": "m-2",
            },
        )
        server.notify(
            "channel.ban",
            {
                "user_id": "666",
                "user_login": "troll",
                "user_name": "Troll",
                "is_permanent": True,
                "banned_at": "2026-12-02T10:00:00Z",
                "ends_at": None,
            },
        )
        server.notify(
            "channel.chat.clear_user_messages",
            {"broadcaster_user_id": "1001", "target_user_id": "777", "target_user_login": "rude"},
        )
        assert wait_until(lambda: running.manager.get_stats()["dropped"] == 3)
        server.notify("channel.chat.message", chat("!tts after", "m-5", "Keeper", "1"))
        running.manager.resume()
        running.wait_played("Keeper says: after")
        assert running.manager.wait_until_idle(20)
        assert running.played() == ["Keeper says: keep me", "Keeper says: after"]
        assert_accounting(running.manager)


def test_session_reconnect_loses_and_repeats_nothing_and_needs_no_new_subscriptions(make_manager, tmp_path):
    with (
        FakeTwitch() as server,
        connected(make_manager, server, logged_in(server, tmp_path / "t.json")) as running,
    ):
        assert server.wait_subscribed(len(TWITCH_EVENTS))
        server.notify("channel.chat.message", chat("!tts one", "r-1"))
        running.wait_played("Chatty says: one")
        old, (sent,) = server.reconnect(
            then=(("channel.chat.message", chat("!tts two", "r-2")),)
        )  # on the old
        assert server.wait(lambda: server.welcomes == 2 and old.closed)
        (new,) = server.live()
        server.notify(
            "channel.chat.message", chat("!tts two", "r-2"), message_id=sent, session=new
        )  # a repeat
        server.notify("channel.chat.message", chat("!tts three", "r-3"), session=new)
        running.wait_played("Chatty says: three")
        assert running.manager.wait_until_idle(20)
        assert running.played() == ["Chatty says: one", "Chatty says: two", "Chatty says: three"]
        state = running.state()
        assert state["reconnects_followed"] == 1 and state["state"] == CONNECTED
        assert server.accepted == len(TWITCH_EVENTS)  # the subscriptions carried over


def test_silence_past_the_keepalive_means_a_new_session_with_new_subscriptions(
    make_manager, tmp_path, caplog
):
    caplog.set_level(logging.INFO, logger="tts_core.connectors")
    with (
        FakeTwitch(keepalive=2) as server,
        connected(make_manager, server, logged_in(server, tmp_path / "t.json")) as running,
    ):
        assert server.wait_subscribed(len(TWITCH_EVENTS))
        (first,) = server.live()
        server.silent = True
        assert server.wait(lambda: server.welcomes >= 2, 30), running.state()
        server.silent = False
        assert server.wait_subscribed(2 * len(TWITCH_EVENTS))
        assert wait_until(lambda: running.state()["state"] == CONNECTED)
        assert first.closed and first not in server.live()
        lines = log_lines(caplog, "cannot reach")
        assert any("nothing from Twitch for 3 s (keepalive 2 s)" in line for line in lines), lines
        server.notify("channel.raid", {"from_broadcaster_user_name": "Back", "viewers": 3})
        running.wait_played("Back is raiding with 3 viewers")


def test_settings_apply_live_fewer_events_are_a_new_session_with_only_those(make_manager, tmp_path):
    with (
        FakeTwitch() as server,
        connected(make_manager, server, logged_in(server, tmp_path / "t.json")) as running,
    ):
        assert server.wait_subscribed(len(TWITCH_EVENTS))
        running.manager.reconfigure(config(server, events=["channel.follow", "channel.raid"]))
        assert server.wait_subscribed(len(TWITCH_EVENTS) + 2)
        assert wait_until(lambda: running.state()["state"] == CONNECTED and len(server.live()) == 1)
        (session,) = server.live()
        assert sorted(session.subscriptions) == ["channel.follow", "channel.raid"]
        assert sorted(running.state()["subscribed"]) == ["channel.follow", "channel.raid"]
        server.notify("channel.follow", {"user_name": "Live"})
        running.wait_played("Live just followed")


def test_a_dropped_socket_leads_to_a_new_session_and_new_subscriptions(make_manager, tmp_path):
    with (
        FakeTwitch() as server,
        connected(make_manager, server, logged_in(server, tmp_path / "t.json")) as running,
    ):
        assert server.wait_subscribed(len(TWITCH_EVENTS))
        server.drop()
        assert server.wait_subscribed(2 * len(TWITCH_EVENTS))
        assert wait_until(lambda: running.state()["state"] == CONNECTED)
        server.notify("channel.follow", {"user_name": "Again"})
        running.wait_played("Again just followed")
        assert len(server.live()) == 1


def test_a_revocation_shows_the_event_and_the_reason(make_manager, tmp_path):
    with (
        FakeTwitch() as server,
        connected(make_manager, server, logged_in(server, tmp_path / "t.json")) as running,
    ):
        assert server.wait_subscribed(len(TWITCH_EVENTS))
        server.revoke("channel.cheer", "authorization_revoked")
        assert wait_until(lambda: "channel.cheer" in running.state()["missing"])
        state = running.state()
        assert "authorization_revoked" in state["missing"]["channel.cheer"]
        assert "channel.cheer" not in state["subscribed"] and state["state"] == CONNECTED
        from tts_core.connectors.running import status_line

        assert status_line(running.manager) == "Twitch connected (1 event types missing)"
        server.notify("channel.follow", {"user_name": "StillHere"})
        running.wait_played("StillHere just followed")


def test_missing_scopes_are_named_and_nothing_needing_them_is_asked_for(make_manager, tmp_path):
    scopes = [s for s in ALL_SCOPES if s not in ("bits:read", "channel:moderate")]
    token_file = logged_in(server := FakeTwitch().start(), tmp_path / "t.json", scopes=scopes)
    try:
        seen_at_first_request: list[dict[str, str]] = []
        server.on_subscribe = lambda body: seen_at_first_request.append(dict(running.connector.missing))
        with connected(make_manager, server, token_file) as running:
            assert server.wait_subscribed(len(TWITCH_EVENTS) - 2)
            assert seen_at_first_request[0] == {
                "channel.cheer": "the login lacks the scope bits:read",
                "channel.ban": "the login lacks the scope channel:moderate",
            }
            assert wait_until(lambda: running.state()["state"] == CONNECTED)
            missing = running.state()["missing"]
            assert missing == {
                "channel.cheer": "the login lacks the scope bits:read",
                "channel.ban": "the login lacks the scope channel:moderate",
            }
            assert {b["type"] for b in server.subscription_requests} == set(TWITCH_EVENTS) - set(missing)
    finally:
        server.stop()


def test_no_client_id_not_logged_in_or_no_needed_scope_are_auth_failed(make_manager, tmp_path):
    with FakeTwitch() as server:
        with connected(make_manager, server, tmp_path / "none.json") as running:
            assert wait_until(lambda: running.state()["state"] == AUTH_FAILED)
            assert "obs-tts twitch login" in running.state()["reason"]
        with connected(
            make_manager, server, logged_in(server, tmp_path / "t0.json"), client_id=""
        ) as running:
            assert wait_until(lambda: running.state()["state"] == AUTH_FAILED)
            assert "no Client ID" in running.state()["reason"]
        token_file = logged_in(server, tmp_path / "t.json", scopes=["user:read:chat"])
        with connected(make_manager, server, token_file, events=["channel.cheer"]) as running:
            assert wait_until(lambda: running.state()["state"] == AUTH_FAILED)
            assert "bits:read" in running.state()["reason"]
            assert server.subscription_requests == [] and server.welcomes == 0


def test_an_expiring_login_is_renewed_before_use_and_stored_for_the_user_only(make_manager, tmp_path):
    with FakeTwitch() as server:
        token_file = logged_in(server, tmp_path / "t.json", expires_in=60)  # within the renewal margin
        before = tokens.load(token_file)
        assert before is not None
        with connected(make_manager, server, token_file) as running:
            assert server.wait_subscribed(len(TWITCH_EVENTS))
            assert wait_until(lambda: running.state()["state"] == CONNECTED)
        after = tokens.load(token_file)
        assert server.refreshes == 1 and after is not None
        assert after.access_token != before.access_token and after.expires_at > before.expires_at + 3600
        if sys.platform != "win32":
            assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600


def test_obs_tts_twitch_login_shows_the_code_stores_the_tokens_and_logout_forgets_them(tmp_path):
    with FakeTwitch() as server:
        config_file = tmp_path / "config.json"
        config_file.write_text(__import__("json").dumps({"connectors": {"twitch": server.settings()}}))
        env = {**os.environ, "OBS_TTS_DATA_DIR": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
        child = subprocess.Popen(
            [sys.executable, "-m", "tts_core.cli", "twitch", "login", "--config", str(config_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        try:
            assert child.stdout is not None
            lines = []
            for line in child.stdout:
                lines.append(line)
                if "code" in line.lower() and "CODE" in line:
                    break
            shown = "".join(lines)
            user_code = next(w for w in shown.split() if w.startswith("CODE"))
            assert f"http://{server.base}/activate" in shown
            server.approve(user_code)
            rest, _ = child.communicate(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
        output = shown + rest
        assert child.returncode == 0, output
        path = tmp_path / "data" / tokens.TOKEN_FILE
        stored = tokens.load(path)
        assert stored is not None and stored.login == "streamer" and sorted(stored.scopes) == ALL_SCOPES
        assert stored.access_token not in output and stored.refresh_token not in output
        if sys.platform != "win32":
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert "streamer" in output
        done = subprocess.run(
            [sys.executable, "-m", "tts_core.cli", "twitch", "logout"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0 and not path.exists(), done.stdout + done.stderr


def test_obs_tts_doctor_tries_twitch_and_says_which_scopes_the_login_has(tmp_path):

    with FakeTwitch() as server:
        data = tmp_path / "data"
        logged_in(server, data / tokens.TOKEN_FILE, scopes=[s for s in ALL_SCOPES if s != "bits:read"])
        config_file = connector_config_file(tmp_path / "config.json", "twitch", server.settings())
        done = run_doctor(config_file, env={**os.environ, "OBS_TTS_DATA_DIR": str(data)})
        out = done.stdout.splitlines()
        connector = next(line for line in out if "connector twitch" in line)
        login = next(line for line in out if "twitch login" in line)
        assert connector.startswith("  FAIL  connector twitch: ") and "channel.cheer" in connector, out
        assert "bits:read" in connector
        assert login.startswith("  FAIL  twitch login: valid for streamer") and "lacks bits:read" in login, (
            out
        )
        stored = tokens.load(data / tokens.TOKEN_FILE)
        assert stored is not None and stored.access_token not in done.stdout + done.stderr


def test_obs_tts_serve_starts_twitch_with_the_login_in_its_data_folder(tmp_path):
    import json

    from listener_support import serving

    with FakeTwitch() as server:
        logged_in(server, tmp_path / "data" / tokens.TOKEN_FILE)  # serving() uses --data-dir tmp_path/data
        config_file = connector_config_file(tmp_path / "config.json", "twitch", server.settings())
        with serving(tmp_path, config_file) as (url, lines, _process):
            assert server.wait_subscribed(len(TWITCH_EVENTS)), lines
            assert any("connector twitch: Twitch EventSub at " in line for line in lines), lines
            server.notify("channel.follow", {"user_name": "ServedFan"})
            wait_serve_played(lines, "ServedFan just followed")
            stats = serve_stats(url)["stats"]
            state = stats["connectors"]["twitch"]
            assert state["state"] == CONNECTED and state["events"] == 1 and state["account"] == "streamer"
            assert "access_token" not in json.dumps(stats) and "access-" not in json.dumps(stats)


def test_a_login_from_the_panel_shows_the_code_and_the_waiting_connector_connects_at_once(
    make_manager, tmp_path
):
    token_file = tmp_path / "data" / tokens.TOKEN_FILE
    with FakeTwitch() as server, connected(make_manager, server, token_file) as running:
        assert wait_until(
            lambda: running.state()["state"] == AUTH_FAILED
        )  # not logged in: retried after 60 s
        settings = running.connector.settings
        login = tokens.BackgroundLogin(
            settings.auth_url,
            settings.client_id,
            ALL_SCOPES,
            token_file,
            on_done=lambda _tokens: running.connector.login_changed(),
        ).start()
        assert wait_until(lambda: "enter the code CODE" in login.message), login.message
        user_code = login.message.rsplit(" ", 1)[1]
        assert f"open http://{server.base}/activate" in login.message
        server.approve(user_code)
        assert login.finished.wait(20) and login.succeeded, login.message
        assert login.message == "Twitch login: logged in as streamer"
        assert server.wait_subscribed(len(TWITCH_EVENTS), 20)  # long before the 60 s retry
        assert wait_until(lambda: running.state()["state"] == CONNECTED)
        stored = tokens.load(token_file)
        assert stored is not None and stored.access_token not in login.message
        if sys.platform != "win32":
            assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600


def test_a_panel_login_without_a_client_id_says_so_and_a_refused_one_says_why(tmp_path):
    login = tokens.BackgroundLogin("http://127.0.0.1:9/oauth2", " ", [], tmp_path / "t.json").start()
    assert login.finished.is_set() and "Client ID" in login.message and not login.succeeded
    with FakeTwitch() as server:
        refused = tokens.BackgroundLogin(
            server.settings()["auth_url"], "not-our-app", [], tmp_path / "t.json"
        )
        assert refused.start().finished.wait(20)
        assert refused.message.startswith("Twitch login failed: Twitch refused the login (HTTP 400")
        assert not (tmp_path / "t.json").exists()


def test_the_obs_panel_button_opens_the_browser_shows_the_code_and_connects_at_once(make_manager, tmp_path):
    from types import SimpleNamespace

    from tts_core.obs.script import twitch_login

    with FakeTwitch() as server:
        config_ = config(server)
        config_.data_dir = str(tmp_path / "data")
        sink = RecordingSink(speed=0.0)
        manager = make_manager(config_, engine=ToneEngine(1), sink=sink)
        connector = TwitchConnector(manager, StreamerBotIntegration(manager))  # its login in data_dir
        manager.start()
        connector.start()
        try:
            assert wait_until(lambda: connector.state == AUTH_FAILED)
            opened: list[str] = []
            login = twitch_login.start(
                SimpleNamespace(manager=manager, connectors=[connector]), opened.append
            )
            shown = twitch_login.wait_for_code(login, 20)
            assert shown.startswith(f"Twitch login: open http://{server.base}/activate?device-code=CODE")
            assert opened == [shown.split()[3]] and twitch_login.message() == shown
            again = twitch_login.start(
                SimpleNamespace(manager=manager, connectors=[connector]), opened.append
            )
            assert again is login and len(opened) == 1  # one login at a time
            server.approve(shown.rsplit(" ", 1)[1])
            assert login.finished.wait(20) and login.succeeded, login.message
            assert server.wait_subscribed(len(TWITCH_EVENTS), 20)  # at once, not at the 60 s retry
            assert wait_until(lambda: connector.state == CONNECTED)
            assert (tmp_path / "data" / tokens.TOKEN_FILE).exists()
        finally:
            connector.close()
    not_running = twitch_login.start(SimpleNamespace(manager=None, connectors=[]), opened.append)
    assert "not running" in twitch_login.wait_for_code(not_running, 1)


# -- a followed session_reconnect leaks no socket and no thread ------------------------------------

CLOSED_BY_CLIENT = 1000  # the fake's close code when our side closed the socket (1006: it went silent)


def _connector_threads() -> list[str]:
    import threading

    return [t.name for t in threading.enumerate() if t.name.startswith("tts-connector-twitch")]


def _followed_reconnect(server: FakeTwitch, running: Running) -> Any:
    """Twitch moves the connection; the session the connector moved to."""
    assert server.wait_subscribed(len(TWITCH_EVENTS))
    old, _ = server.reconnect()
    assert server.wait(lambda: server.welcomes == 2 and old.closed)
    assert wait_until(lambda: running.state()["reconnects_followed"] == 1), running.state()
    (moved,) = server.live()
    return moved


def test_stop_after_a_followed_reconnect_closes_the_new_socket_and_ends_every_thread(make_manager, tmp_path):
    with (
        FakeTwitch() as server,
        connected(make_manager, server, logged_in(server, tmp_path / "t.json")) as running,
    ):
        moved = _followed_reconnect(server, running)
        running.connector.stop()
        assert not running.connector.is_running and _connector_threads() == []
        assert server.wait(lambda: moved.closed), "the socket Twitch moved us to is still open after stop()"
        assert moved.close_code == CLOSED_BY_CLIENT, f"closed with {moved.close_code}: left open by the stop"
        assert server.live() == []


def test_a_moved_connection_that_goes_silent_is_closed_before_the_next_session(make_manager, tmp_path):
    with (
        FakeTwitch(keepalive=2) as server,
        connected(make_manager, server, logged_in(server, tmp_path / "t.json")) as running,
    ):
        moved = _followed_reconnect(server, running)
        server.silent = True
        assert server.wait(lambda: server.welcomes >= 3, 30), running.state()  # it gave up on the moved one
        server.silent = False
        assert server.wait(lambda: moved.closed, 10), "the moved socket was left open after it went silent"
        assert moved.close_code == CLOSED_BY_CLIENT
        assert server.wait_subscribed(2 * len(TWITCH_EVENTS))
        assert wait_until(lambda: running.state()["state"] == CONNECTED and len(server.live()) == 1)
        server.notify("channel.follow", {"user_name": "Onward"})
        running.wait_played("Onward just followed")
