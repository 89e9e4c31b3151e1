"""The Connections group's StreamElements fields -> connectors.streamelements; the token is
a secret (kept as typed but trimmed, never shown)."""

from __future__ import annotations

import pytest

from tts_core.config import ConfigError
from tts_core.obs.script.settings import DEFAULTS, SECRET_SETTINGS, config_from_settings, plan_changes


def test_the_streamelements_fields_fill_the_streamelements_connector_settings():
    off = config_from_settings(DEFAULTS).connectors.streamelements
    assert not off.enabled and off.token == "" and off.token_type == "jwt" and off.channel_id == ""
    values = {**DEFAULTS, "streamelements_enabled": True, "streamelements_token": "  eyJhbGc.secret  ",
              "streamelements_token_type": "apikey", "streamelements_channel_id": " 5ad23dcc ",
              "streamelements_reward_titles": "Text to speech, Say it"}
    section = config_from_settings(values).connectors.streamelements
    assert section.enabled and section.token == "eyJhbGc.secret" and section.token_type == "apikey"
    assert section.channel_id == "5ad23dcc" and section.reward_titles == ["Text to speech", "Say it"]
    assert section.url == "wss://astro.streamelements.com/"  # StreamElements' own gateway
    assert "eyJhbGc.secret" not in repr(section)


def test_the_token_is_a_secret_and_its_change_applies_live():
    assert "streamelements_token" in SECRET_SETTINGS
    changes = plan_changes(DEFAULTS, {**DEFAULTS, "streamelements_token": "new"})
    assert changes.live and not changes.listener and not changes.reload


def test_an_unknown_token_type_names_the_setting():
    with pytest.raises(ConfigError, match="token_type must be one of jwt, oauth2, apikey"):
        config_from_settings({**DEFAULTS, "streamelements_token_type": "bearer"})
