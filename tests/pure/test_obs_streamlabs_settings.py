"""The Connections group's Streamlabs fields -> connectors.streamlabs (the token is a secret)."""

from __future__ import annotations

from tts_core.obs.script.settings import DEFAULTS, SECRET_SETTINGS, config_from_settings, normalize


def test_the_streamlabs_fields_fill_the_streamlabs_connector_settings():
    off = config_from_settings(DEFAULTS).connectors.streamlabs
    assert not off.enabled and off.socket_token == ""
    values = {**DEFAULTS, "streamlabs_enabled": True, "streamlabs_socket_token": "  eyJ0eXAi.token \n"}
    streamlabs = config_from_settings(values).connectors.streamlabs
    assert streamlabs.enabled and streamlabs.socket_token == "eyJ0eXAi.token"  # pasted with spaces
    assert streamlabs.url == "https://sockets.streamlabs.com"  # Streamlabs' own server


def test_switched_on_without_a_token_is_not_a_settings_error():
    streamlabs = config_from_settings({**DEFAULTS, "streamlabs_enabled": True}).connectors.streamlabs
    assert streamlabs.enabled and streamlabs.socket_token == ""  # the connector's state says what is missing


def test_the_socket_token_is_a_secret_setting_kept_as_typed():
    assert "streamlabs_socket_token" in SECRET_SETTINGS  # a password field in the panel, never shown
    assert normalize({"streamlabs_socket_token": " abc "})["streamlabs_socket_token"] == " abc "
    assert "abc" not in repr(config_from_settings({**DEFAULTS, "streamlabs_socket_token": "abc"}).connectors)


def test_the_loyalty_store_items_read_aloud_are_a_comma_separated_list():
    assert config_from_settings(DEFAULTS).connectors.streamlabs.reward_titles == []
    values = {**DEFAULTS, "streamlabs_reward_titles": "TTS message,  Say it \n"}
    assert config_from_settings(values).connectors.streamlabs.reward_titles == ["TTS message", "Say it"]
