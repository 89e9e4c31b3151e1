"""The OBS script's settings: keys (a public contract), defaults, mapping to TTSConfig."""

from __future__ import annotations

import pytest

from tts_core.config import EVENT_TYPES, ConfigError
from tts_core.obs.script.settings import DEFAULTS, config_from_settings, normalize, plan_changes

CONTRACT_KEYS = {"engine", "voice", "listener_host", "listener_port", "listener_token", "media_source",
                 "rate_limit_per_minute", "max_queue_size", "max_concurrent_workers", "max_retries",
                 "persist", "urgent_donation_amount", *(f"priority_{t}" for t in EVENT_TYPES)}


def test_every_contract_key_exists() -> None:
    assert set(DEFAULTS) >= CONTRACT_KEYS


def test_defaults_make_a_valid_config_that_persists() -> None:
    config = config_from_settings({})
    assert config.persist is True  # inside OBS the queue survives a restart by default
    assert config.engine.name == "espeak" and config.engine.voice is None
    assert config.listener.port == 8765 and config.listener.host == "127.0.0.1"
    assert config.streamer_bot.priorities["donation"] == "HIGH"


def test_settings_map_onto_the_config() -> None:
    config = config_from_settings({
        "engine": "pyttsx3", "voice": "en-us", "speaking_rate": 200, "volume": 50, "listener_port": 9000,
        "listener_token": " secret ", "max_queue_size": 10, "max_concurrent_workers": 2, "max_retries": 1,
        "rate_limit_per_minute": 30, "persist": False, "priority_chat": "high", "urgent_donation_amount": 20,
        "pause_between_clips_ms": 250,
    })
    assert (config.engine.name, config.engine.voice, config.engine.rate, config.engine.volume) == (
        "pyttsx3", "en-us", 200, 0.5)
    assert config.listener.port == 9000 and config.listener.token == " secret "
    assert (config.max_queue_size, config.max_concurrent_workers, config.max_retries) == (10, 2, 1)
    assert config.rate_limit_per_minute == 30 and config.persist is False
    assert config.streamer_bot.priorities["chat"] == "HIGH"
    assert config.streamer_bot.urgent_donation_amount == 20.0
    assert config.pause_between_clips_ms == 250


def test_zero_rate_and_full_volume_mean_the_engine_default() -> None:
    engine = config_from_settings({"speaking_rate": 0, "volume": 100}).engine
    assert engine.rate is None and engine.volume is None
    assert config_from_settings({"speaking_rate": 10}).engine.rate == 80  # clamped to what engines take


def test_wrong_types_fall_back_to_defaults() -> None:
    values = normalize({"listener_port": "8765", "persist": 1, "max_queue_size": True})
    assert values["listener_port"] == 8765 and values["persist"] is True and values["max_queue_size"] == 1000


def test_bad_values_name_the_setting() -> None:
    with pytest.raises(ConfigError, match="priority_raid"):
        config_from_settings({"priority_raid": "LOUD"})
    with pytest.raises(ConfigError, match="max_queue_size"):
        config_from_settings({"max_queue_size": 0})


@pytest.mark.parametrize(("key", "value", "flag"), [
    ("voice", "de", None), ("listener_port", 9999, "listener"), ("max_concurrent_workers", 1, None),
    ("persist", False, None), ("media_source", "Other", None), ("priority_follow", "LOW", "live"),
    ("max_queue_size", 5, "live"), ("packages_dir", "/x", "reload"),
])
def test_plan_changes_says_what_each_key_needs(key: str, value: object, flag: str | None) -> None:
    changes = plan_changes(DEFAULTS, {**DEFAULTS, key: value})
    assert changes.keys == {key}
    flags = [name for name in ("listener", "live", "reload") if getattr(changes, name)]
    assert flags == ([flag] if flag else [])


def test_no_change_plans_nothing() -> None:
    assert not plan_changes(DEFAULTS, dict(DEFAULTS))


def test_moderation_and_voices_groups_map_onto_their_sections() -> None:
    config = config_from_settings({**DEFAULTS, "moderation_links": "drop",
                                   "moderation_bad_words": "scam,\nfrick*",
                                   "moderation_max_words": 12, "hold_seconds": 5.0,
                                   "approve_first_time_chatters": True, "approve_event_types": "raid",
                                   "remove_on_ban": False, "voice_aliases": "brian=en-gb\namy = en-us",
                                   "voice_inline": False})
    mod = config.moderation
    assert (mod.links, mod.bad_words, mod.max_words) == ("drop", ["scam", "frick*"], 12)
    assert config.hold_seconds == 5.0
    assert mod.needs_approval == {"raid": {"always": True}, "chat": {"first_time": True},
                                  "command": {"first_time": True}}
    assert not mod.remove_on_ban and not mod.remove_on_delete
    assert config.voices.aliases == {"brian": "en-gb", "amy": "en-us"} and not config.voices.inline
    with pytest.raises(ConfigError, match="voice_aliases"):
        config_from_settings({**DEFAULTS, "voice_aliases": "brian"})
    with pytest.raises(ConfigError, match="links must be one of"):
        config_from_settings({**DEFAULTS, "moderation_links": "maybe"})
