"""The OBS script's Connections group: ticking "Streamer.bot" connects the running
script to a (loopback) Streamer.bot, live; its events play through the OBS sink and the
status line says the connector's state."""

from __future__ import annotations

from connector_support import started_obs_app
from doubles import EventLog, wait_until
from fakes.streamerbot import FakeStreamerBot

from tts_core.obs.script.settings import DEFAULTS, config_from_settings


def test_the_panel_maps_to_the_connectors_section():
    config = config_from_settings({**DEFAULTS, "streamerbot_enabled": True, "streamerbot_url": "ws://pc:8080/",
                                   "streamerbot_password": " pw ",
                                   "streamerbot_reward_titles": "TTS, Say it"})
    bot = config.connectors.streamerbot
    assert (bot.enabled, bot.url, bot.password, bot.reward_titles) == (True, "ws://pc:8080/", " pw ",
                                                                       ["TTS", "Say it"])
    assert config_from_settings(DEFAULTS).connectors.streamerbot.enabled is False


def test_ticking_streamerbot_connects_live_and_its_events_play(monkeypatch, tmp_path):
    monkeypatch.setenv("OBS_TTS_DATA_DIR", str(tmp_path))
    with FakeStreamerBot(password="pw") as server:
        app, frames = started_obs_app({"persist": False, "streamerbot_url": server.url})
        try:
            manager = app.manager
            assert manager is not None
            assert wait_until(lambda: "streamerbot" in manager.get_stats()["connectors"])
            assert manager.get_stats()["connectors"]["streamerbot"]["state"] == "disabled"
            assert "Streamer.bot" not in app.status_text()
            log = EventLog()
            manager.subscribe(log)
            app.settings_changed({**app.applied, "streamerbot_enabled": True, "streamerbot_password": "pw",
                                  "streamerbot_reward_titles": "Read my message"})
            assert server.wait_subscribed()
            assert wait_until(lambda: "Streamer.bot connected" in app.status_text()), app.status_text()
            assert "pw" not in app.status_text().replace("playback", "")
            server.send_event("Twitch", "RewardRedemption", {"user": {"name": "Pointy"},
                                                             "reward": {"title": "Read my message"},
                                                             "user_input": "from the panel"})
            finished = log.wait_for("playback_finished", timeout=20)
            assert finished["text"] == "Pointy says: from the panel"
            app.settings_changed({**app.applied, "streamerbot_enabled": False})
            assert wait_until(lambda: manager.get_stats()["connectors"]["streamerbot"]["state"] == "disabled")
            assert "Streamer.bot" not in app.status_text()
        finally:
            assert app.shutdown()
            frames.stop()
