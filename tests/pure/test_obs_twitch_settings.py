"""The Connections group's Twitch fields -> connectors.twitch (the login is not a setting)."""

from __future__ import annotations

from tts_core.obs.script.settings import DEFAULTS, SECRET_SETTINGS, config_from_settings


def test_the_twitch_fields_fill_the_twitch_connector_settings():
    off = config_from_settings(DEFAULTS).connectors.twitch
    assert not off.enabled and off.client_id == "" and off.reward_titles == []
    values = {**DEFAULTS, "twitch_enabled": True, "twitch_client_id": " abc123 ",
              "twitch_channel": "Streamer", "twitch_reward_titles": "Text to speech, Say it"}
    twitch = config_from_settings(values).connectors.twitch
    assert twitch.enabled and twitch.client_id == "abc123" and twitch.channel == "Streamer"
    assert twitch.reward_titles == ["Text to speech", "Say it"]
    assert twitch.eventsub_url == "wss://eventsub.wss.twitch.tv/ws"  # Twitch's own addresses


def test_switched_on_without_a_client_id_is_not_a_settings_error():
    twitch = config_from_settings({**DEFAULTS, "twitch_enabled": True}).connectors.twitch
    assert twitch.enabled and twitch.client_id == ""  # the connector's state says what is missing


def test_no_twitch_token_is_a_panel_setting():
    assert not any("token" in key for key in DEFAULTS if key.startswith("twitch_"))
    assert not any(key.startswith("twitch_") for key in SECRET_SETTINGS)
