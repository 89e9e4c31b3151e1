"""The real Streamlabs connector (python-socketio's AsyncClient) against a loopback Streamlabs
Socket API (tests/fakes/streamlabs.py: a real python-socketio AsyncServer on aiohttp) over real
sockets, into the real queue: what plays is what the recording sink was given."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from contextlib import AbstractContextManager
from typing import Any

import pytest
from connector_support import (
    Running,
    connector_config,
    connector_config_file,
    log_lines,
    run_doctor,
    running_connector,
    serve_stats,
    started_obs_app,
    wait_serve_played,
)
from doubles import RecordingSink, ToneEngine, assert_accounting, wait_until
from fakes.streamlabs import TOKEN, FakeStreamlabs
from fakes.streamlabs_payloads import CASES

from tts_core import TTSConfig
from tts_core.connectors.base import AUTH_FAILED, CONNECTED, CONNECTING, DISABLED
from tts_core.connectors.running import status_line
from tts_core.connectors.streamlabs import StreamlabsConnector
from tts_core.ingest.translator import StreamerBotIntegration


def config(server: FakeStreamlabs, **settings: Any) -> TTSConfig:
    return connector_config("streamlabs", server.settings(**settings))


def connected(make_manager: Any, server: FakeStreamlabs, **settings: Any) -> AbstractContextManager[Running]:
    return running_connector(make_manager, config(server, **settings), StreamlabsConnector)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(r.getMessage() for r in caplog.records)


def test_every_alert_type_is_spoken_exactly_and_a_repeated_event_id_once(make_manager, caplog):
    caplog.set_level(logging.DEBUG, logger="tts_core.connectors")
    with FakeStreamlabs() as server, connected(make_manager, server) as running:
        assert server.wait_connected()
        assert wait_until(lambda: running.state()["state"] == CONNECTED)
        for case in CASES:
            assert server.emit(case.frame()) == 1
            server.emit(case.frame())  # Streamlabs sends it again: the same event_id is read once
        server.send("streamlabels", [{"data": {"most_recent_follower": "x"}}], for_="streamlabs")
        server.send("follow", [{"name": "Last"}], for_="twitch_account", event_id="evt_last")
        running.assert_played_exactly([case.spoken for case in CASES], "Last just followed")
        state = running.state()
        assert state["duplicates"] == len(CASES) and state["not_understood"] == 0
        assert state["events"] == 2 * len(CASES) + 1  # the stream label is not an alert: not counted
        assert_accounting(running.manager)
    assert "streamlabs.streamlabels not read" in logged(caplog)
    assert TOKEN not in logged(caplog)


def test_a_gift_bomb_is_read_once_not_gift_by_gift(make_manager):
    with FakeStreamlabs() as server, connected(make_manager, server) as running:
        assert server.wait_connected()
        server.send(
            "subMysteryGift",
            [{"gifter": "santa", "gifter_display_name": "Santa", "amount": "3", "sub_plan": "1000"}],
            for_="twitch_account",
            event_id="evt_bomb",
        )
        for n in range(3):
            server.send(
                "subscription",
                [
                    {
                        "name": f"elf{n}",
                        "sub_type": "subgift",
                        "gifter": "santa",
                        "gifter_display_name": "Santa",
                        "months": 1,
                        "sub_plan": "1000",
                    }
                ],
                for_="twitch_account",
                event_id=f"evt_gift_{n}",
            )
        server.send("follow", [{"name": "After"}], for_="twitch_account", event_id="evt_after")
        running.wait_played("After just followed")
        assert running.manager.wait_until_idle(20)
        assert running.played() == ["Santa gifted 3 subs", "After just followed"]


@pytest.mark.parametrize("token", ["wrong-token", ""], ids=["wrong-token", "no-token"])
def test_a_refused_or_missing_token_is_auth_failed_named_and_never_shown(make_manager, token, caplog):
    caplog.set_level(logging.DEBUG)
    with FakeStreamlabs() as server, connected(make_manager, server, socket_token=token) as running:
        assert wait_until(lambda: running.state()["state"] == AUTH_FAILED)
        state = running.state()
        if token:
            assert state["reason"].startswith("Streamlabs refused the socket token (invalid token)")
            assert server.refused == 1
        else:
            assert state["reason"].startswith("no socket token") and server.refused == 0
        assert "Socket API Token" in state["reason"] and server.connections_made == 0
        assert status_line(running.manager) == "Streamlabs auth failed"
        # the right token, live: it connects at once, not at the next try a minute later
        running.manager.reconfigure(config(server))
        assert server.wait_connected(timeout=10)
        assert wait_until(lambda: running.state()["state"] == CONNECTED)
        server.send("follow", [{"name": "Fixed"}], for_="twitch_account", event_id="evt_fixed")
        running.wait_played("Fixed just followed")
        shown = json.dumps(running.manager.get_stats())
    lines = log_lines(caplog, "refused the connection")
    assert len(lines) == 1  # one line per change of state, not one per try
    for secret in (TOKEN, token or TOKEN):
        assert secret not in logged(caplog) and secret not in shown


def test_a_restarted_server_is_reconnected_nothing_lost_or_twice(make_manager):
    with FakeStreamlabs() as server, connected(make_manager, server) as running:
        assert server.wait_connected(1)
        server.send("follow", [{"name": "Before"}], for_="twitch_account", event_id="evt_r1")
        running.wait_played("Before just followed")
        server.restart()
        assert server.wait_connected(2), running.state()
        assert wait_until(lambda: running.state()["state"] == CONNECTED)
        # the same alert again after the restart is not read twice
        server.send("follow", [{"name": "Before"}], for_="twitch_account", event_id="evt_r1")
        server.send("follow", [{"name": "After"}], for_="twitch_account", event_id="evt_r2")
        running.wait_played("After just followed")
        assert running.manager.wait_until_idle(20)
        assert running.played() == ["Before just followed", "After just followed"]
        assert running.state()["duplicates"] == 1 and server.connections_made == 2


def test_settings_apply_live_off_on_and_a_new_address(make_manager):
    with (
        FakeStreamlabs() as first,
        FakeStreamlabs(token="second-token") as second,
        connected(make_manager, first) as running,
    ):
        assert first.wait_connected()
        running.manager.reconfigure(config(first, enabled=False))
        assert wait_until(lambda: running.state()["state"] == DISABLED)
        assert wait_until(lambda: not running.connector.is_running and not first.sids)
        assert status_line(running.manager) == ""
        running.manager.reconfigure(config(first))
        assert first.wait_connected(2)
        assert wait_until(lambda: running.state()["state"] == CONNECTED and running.connector.is_running)
        running.manager.reconfigure(config(second))  # another server and another token
        assert second.wait_connected()
        assert wait_until(lambda: not first.sids and running.state()["state"] == CONNECTED)
        assert running.state()["address"] == f"Streamlabs at {second.url}"
        second.send(
            "donation",
            [{"name": "Moved", "amount": "1.00", "currency": "USD", "message": ""}],
            event_id="evt_moved",
        )
        running.wait_played("Moved donated 1 dollar")
        assert status_line(running.manager) == "Streamlabs connected"


def test_an_unreachable_server_never_delays_the_queue(make_manager):
    with FakeStreamlabs() as server:
        gone = config(server)
    sink = RecordingSink(speed=0.0)
    manager = make_manager(gone, engine=ToneEngine(1), sink=sink)
    bot = StreamerBotIntegration(manager)
    connector = StreamlabsConnector(manager, bot)
    manager.start()
    connector.start()
    try:
        assert wait_until(lambda: manager.get_stats()["connectors"]["streamlabs"]["last_error"] is not None)
        state = manager.get_stats()["connectors"]["streamlabs"]
        assert state["state"] == CONNECTING and state["last_error"] == f"connection refused by {server.url}"
        bot.submit("follow", {"username": "Local"})
        assert wait_until(lambda: [p.text for p in sink.played] == ["Local just followed"], 5)
    finally:
        connector.close()
    assert "streamlabs" not in manager.get_stats()["connectors"]


def test_without_python_socketio_the_state_says_what_to_install(make_manager, monkeypatch):
    monkeypatch.setitem(sys.modules, "socketio", None)  # as if the extra were not installed
    with FakeStreamlabs() as server, connected(make_manager, server) as running:
        assert running.connector.wait_until_settled(20)
        state = running.state()
        assert state["state"] == CONNECTING and server.connections_made == 0
        assert state["last_error"].startswith("python-socketio is not installed: pip install")
        assert "obs-tts-queue[streamlabs]" in state["last_error"]


def test_malformed_alerts_are_counted_logged_once_and_the_connection_goes_on(make_manager, caplog):
    with FakeStreamlabs() as server, connected(make_manager, server) as running:
        assert server.wait_connected()
        for n in range(3):
            server.send("donation", [{"name": "NoAmount", "note": n}], event_id=f"evt_bad_{n}")
        server.emit("not an object")
        server.send("follow", [{"name": "Fine"}], for_="twitch_account", event_id="evt_fine")
        running.assert_goes_on_after_malformed("Fine just followed", not_understood=4)
    lines = log_lines(caplog, "not understood")
    assert len(lines) == 2 and any("streamlabs.donation not understood: no amount" in line for line in lines)


def test_obs_tts_doctor_tries_streamlabs_and_never_prints_the_token(tmp_path):
    with FakeStreamlabs() as server:
        lines = {}
        for name, token in (("right", server.token), ("wrong", "wrong-" + server.token)):
            config_file = connector_config_file(
                tmp_path / f"{name}.json", "streamlabs", server.settings(socket_token=token)
            )
            done = run_doctor(config_file)
            lines[name] = next(line for line in done.stdout.splitlines() if "connector streamlabs" in line)
            assert server.token not in done.stdout + done.stderr
    assert lines["right"].split() == ["ok", "connector", "streamlabs"]
    assert lines["wrong"].startswith(f"  FAIL  connector streamlabs: Streamlabs at {server.url}: ")
    assert "refused the socket token" in lines["wrong"]


def test_obs_tts_serve_starts_streamlabs_and_getstats_shows_its_state(tmp_path):
    from listener_support import serving

    with FakeStreamlabs() as server:
        config_file = connector_config_file(tmp_path / "config.json", "streamlabs", server.settings())
        with serving(tmp_path, config_file) as (url, lines, process):
            assert server.wait_connected(), lines
            assert any(f"connector streamlabs: Streamlabs at {server.url}" in line for line in lines), lines
            server.send(
                "bits",
                [{"name": "served", "display_name": "ServedFan", "amount": "50", "message": "Cheer50 hi"}],
                for_="twitch_account",
                event_id="evt_served",
            )
            wait_serve_played(lines, "ServedFan cheered 50 bits: hi")
            stats = serve_stats(url)["stats"]
            state = stats["connectors"]["streamlabs"]
            assert state["state"] == CONNECTED and state["events"] == 1
            assert server.token not in json.dumps(stats) and not any(server.token in line for line in lines)
        assert process.stderr is not None and server.token not in process.stderr.read()


def test_ticking_streamlabs_in_the_obs_panel_connects_live_and_its_alerts_play(monkeypatch, tmp_path):
    import copy

    from doubles import EventLog

    monkeypatch.setenv("OBS_TTS_DATA_DIR", str(tmp_path))
    with FakeStreamlabs() as server:
        app, frames = started_obs_app({"persist": False})
        try:
            manager = app.manager
            assert manager is not None
            assert wait_until(lambda: "streamlabs" in manager.get_stats()["connectors"])
            assert manager.get_stats()["connectors"]["streamlabs"]["state"] == DISABLED
            log = EventLog()
            manager.subscribe(log)
            # Streamlabs' address is not a panel field: the config under the panel points at the loopback
            # server (as a JSON config would), then the panel's fields switch it on
            pointed = copy.deepcopy(manager.config)
            pointed.connectors.streamlabs.url = server.url
            manager.reconfigure(pointed)
            base = app.applied
            app.settings_changed(
                {**base, "streamlabs_enabled": True, "streamlabs_socket_token": server.token + "\n"}
            )
            assert server.wait_connected(timeout=20), manager.get_stats()["connectors"]["streamlabs"]
            assert wait_until(lambda: "Streamlabs connected" in app.status_text()), app.status_text()
            assert server.token not in app.status_text()
            server.send(
                "donation",
                [{"name": "PanelFan", "amount": "2.50", "currency": "USD", "message": "hi"}],
                event_id="evt_panel",
            )
            finished = log.wait_for("playback_finished", timeout=20)
            assert finished["text"] == "PanelFan donated 2 dollars and 50 cents: hi"
            app.settings_changed({**app.applied, "streamlabs_enabled": False})
            assert wait_until(lambda: manager.get_stats()["connectors"]["streamlabs"]["state"] == DISABLED)
            assert "Streamlabs" not in app.status_text()
        finally:
            assert app.shutdown()
            frames.stop()


def _self_signed(folder: Any) -> tuple[str, str]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return str(cert), str(key)


def test_over_https_like_streamlabs_a_trusted_certificate_connects_and_an_unchecked_one_says_why(tmp_path):
    import os

    cert, key = _self_signed(tmp_path)
    with FakeStreamlabs(tls=(cert, key)) as server:
        assert server.url.startswith("https://")
        config_file = connector_config_file(tmp_path / "config.json", "streamlabs", server.settings())
        lines = {}
        for name, env in (
            ("trusted", {**os.environ, "SSL_CERT_FILE": cert}),
            ("untrusted", dict(os.environ)),
        ):
            env.pop("SSL_CERT_DIR", None)
            if name == "untrusted":
                env.pop("SSL_CERT_FILE", None)
            done = run_doctor(config_file, env)
            lines[name] = next(line for line in done.stdout.splitlines() if "connector streamlabs" in line)
            assert server.token not in done.stdout + done.stderr
    assert lines["trusted"].split() == ["ok", "connector", "streamlabs"], lines
    assert lines["untrusted"] == (
        f"  FAIL  connector streamlabs: Streamlabs at {server.url}: cannot reach "
        f"{server.url}: its TLS certificate could not be checked (is this Python's "
        "certificate store installed and the clock right?)"
    )


def test_a_listed_loyalty_store_item_is_read_and_merch_is_left_out_saying_why(make_manager, caplog):
    caplog.set_level(logging.DEBUG, logger="tts_core.connectors")
    with FakeStreamlabs() as server, \
            connected(make_manager, server, reward_titles=["TTS message"]) as running:
        assert server.wait_connected()
        assert wait_until(lambda: running.state()["state"] == CONNECTED)

        def redeem(product: str, text: str, event_id: str) -> None:
            server.send("loyalty_store_redemption", [{"_id": event_id, "name": "Ann", "from": "Ann",
                                                      "to": {"name": "streamer"}, "product": product,
                                                      "message": text}], for_="streamlabs", event_id=event_id)

        redeem("TTS Message", "hello chat", "evt_l1")
        redeem("TTS Message", "hello chat", "evt_l1")  # delivered again
        redeem("Hydrate", "drink water", "evt_l2")  # not a TTS item
        server.send("merch", [{"_id": "m1", "name": "Bob", "from": "Bob", "product": "Hoodie",
                               "message": "love it"}], for_="streamlabs", event_id="evt_m1")
        server.send("follow", [{"name": "Last"}], for_="twitch_account", event_id="evt_last")
        running.wait_played("Last just followed")
        assert running.manager.wait_until_idle(20)
        # sorted: the follow (HIGH) may be played before the redemption (NORMAL)
        assert sorted(running.played()) == ["Ann says: hello chat", "Last just followed"]
        state = running.state()
        assert state["duplicates"] == 1 and state["not_understood"] == 0
    assert "streamlabs.merch not read (a store purchase" in logged(caplog)
