"""Config: the seed's JSON shape loads; every wrong key or type names the key."""

from __future__ import annotations

import json

import pytest

from tts_core import ConfigError, TTSConfig

SEED_JSON = {
    "tts_queue": {
        "max_queue_size": 1000,
        "max_concurrent_workers": 3,
        "rate_limit_per_minute": 60,
        "enable_priority_queue": True,
    },
    "streamer_bot": {"priorities": {"donation": "URGENT", "subscription": "HIGH", "chat": "LOW"}},
}


def test_seed_json_loads_as_is(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(SEED_JSON))
    config = TTSConfig.load(path)
    assert config.max_queue_size == 1000 and config.max_concurrent_workers == 3
    assert config.streamer_bot.priorities["donation"] == "URGENT"


def test_save_and_load_round_trip(tmp_path):
    config = TTSConfig(max_queue_size=7, persist=True, hold_seconds=2.5)
    config.engine.voice = "en-us"
    config.save(tmp_path / "c.json")
    assert TTSConfig.load(tmp_path / "c.json") == config


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tts_queue": {"max_queue_size": "big"}}, "tts_queue.max_queue_size must be int, got str"),
        ({"tts_queue": {"max_queue_size": True}}, "tts_queue.max_queue_size must be int, got bool"),
        ({"tts_queue": {"max_queue_sizes": 5}}, "unknown key tts_queue.max_queue_sizes"),
        ({"tts_queue": {"max_queue_size": 0}}, "tts_queue.max_queue_size must be >= 1"),
        ({"tts_queue": {"persist": "yes"}}, "tts_queue.persist must be bool"),
        ({"queue": {}}, "unknown config section 'queue'"),
        ({"streamer_bot": {"priorities": {"donation": "MEGA"}}}, "streamer_bot.priorities.donation"),
        ({"streamer_bot": {"priorities": {"tip": "HIGH"}}}, "unknown event type 'tip'"),
        ({"streamer_bot": {"priorities": []}}, "streamer_bot.priorities must be an object"),
        ({"engine": {"rate": 5000}}, "engine.rate must be 80-500"),
        ({"engine": {"voice": 3}}, "engine.voice must be str or null"),
        ({"listener": {"port": 70000}}, "listener.port must be 0-65535"),
        ({"listener": {"allowed_origins": "x"}}, "listener.allowed_origins must be a list"),
        ([1, 2], "config must be a JSON object"),
    ],
)
def test_bad_config_names_the_key(data, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        TTSConfig.from_dict(data)


def test_bad_json_file_names_the_file_and_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "tts_queue": {,}\n}')
    with pytest.raises(ConfigError, match=r"broken\.json: invalid JSON at line 2"):
        TTSConfig.load(path)
    with pytest.raises(ConfigError, match="config file not found"):
        TTSConfig.load(tmp_path / "missing.json")


def test_constructor_validates_too():
    with pytest.raises(ConfigError, match="max_concurrent_workers must be >= 1"):
        TTSConfig(max_concurrent_workers=0)
