"""The OBS script's Connections group: ticking "StreamElements" with a token connects the
running script to a (loopback) Astro gateway, live; a tip plays through the OBS sink, the
status line says the connector's state, and the token is never shown."""

from __future__ import annotations

import copy
import logging

from connector_support import started_obs_app
from doubles import EventLog, wait_until
from fakes.streamelements import FakeAstro
from fakes.streamelements_payloads import tip


def test_ticking_streamelements_with_a_token_connects_live_and_a_tip_plays(monkeypatch, tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="tts_core")
    monkeypatch.setenv("OBS_TTS_DATA_DIR", str(tmp_path))
    with FakeAstro() as server:
        token = server.grant("jwt")
        app, frames = started_obs_app({"persist": False})
        try:
            manager = app.manager
            assert manager is not None
            assert wait_until(lambda: "streamelements" in manager.get_stats()["connectors"])
            assert manager.get_stats()["connectors"]["streamelements"]["state"] == "disabled"
            assert "StreamElements" not in app.status_text()
            loopback = copy.deepcopy(manager.config)  # Astro's address is not a panel field
            loopback.connectors.streamelements.url = server.url
            manager.reconfigure(loopback)
            log = EventLog()
            manager.subscribe(log)
            app.settings_changed({**app.applied, "streamelements_enabled": True,
                                  "streamelements_token": f" {token} ", "streamelements_token_type": "jwt"})
            server.wait_subscribed()
            assert {r["data"]["token"] for r in server.subscribes()} == {token}  # trimmed
            assert wait_until(lambda: "StreamElements connected" in app.status_text()), app.status_text()
            server.publish("channel.tips", tip("t-obs", "PanelFan", 5, "EUR", "from the panel"))
            finished = log.wait_for("playback_finished", timeout=20)
            assert finished["text"] == "PanelFan donated 5 euros: from the panel"
            app.settings_changed({**app.applied, "streamelements_enabled": False})
            state = lambda: manager.get_stats()["connectors"]["streamelements"]["state"]  # noqa: E731
            assert wait_until(lambda: state() == "disabled")
            assert "StreamElements" not in app.status_text()
            assert wait_until(lambda: server.live() == [])
            logged = "\n".join(r.getMessage() for r in caplog.records)
            assert token not in logged and token not in app.status_text()
        finally:
            assert app.shutdown()
            frames.stop()
