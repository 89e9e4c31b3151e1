"""The config section ``ducking``: its defaults (today's), every wrong value refused with an
error naming the key and the value, and a save/load round trip."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tts_core.config import ConfigError, DuckingConfig, TTSConfig
from tts_core.obs.ducking import Ducking


def test_a_config_without_the_section_has_ducking_off_with_the_usual_defaults() -> None:
    config = TTSConfig.from_dict({})
    assert config.ducking == DuckingConfig([], 12, 5, 60)
    assert Ducking.from_config(config.ducking) == Ducking()


def test_a_valid_section_loads_as_written(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    names = ["Music", "Game Capture", "Music, loud"]
    section = {"sources": names, "db": 20, "attack_ms": 1, "release_ms": 1000}
    path.write_text(json.dumps({"ducking": section}))
    config = TTSConfig.load(path)
    assert config.ducking == DuckingConfig(names, 20, 1, 1000)
    assert Ducking.from_config(config.ducking) == Ducking(tuple(names), 20, 1, 1000)
    partial = TTSConfig.from_dict({"ducking": {"db": 1, "attack_ms": 500}})
    assert partial.ducking == DuckingConfig([], 1, 500, 60)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    config = TTSConfig(ducking=DuckingConfig(["Music", "Desktop Audio"], 15, 10, 200))
    config.save(path)
    assert json.loads(path.read_text())["ducking"] == {"sources": ["Music", "Desktop Audio"], "db": 15,
                                                       "attack_ms": 10, "release_ms": 200}
    assert TTSConfig.load(path) == config
    assert TTSConfig.from_dict(TTSConfig().to_dict()).ducking == DuckingConfig()


@pytest.mark.parametrize(("section", "message"), [
    ({"db": 0}, "ducking.db (how much the sources go down) must be 1 to 20 dB, got 0"),
    ({"db": 21}, "ducking.db (how much the sources go down) must be 1 to 20 dB, got 21"),
    ({"db": 12.5}, "ducking.db must be int, got float 12.5"),
    ({"db": "12"}, "ducking.db must be int, got str '12'"),
    ({"db": True}, "ducking.db must be int, got bool True"),
    ({"db": -3}, "ducking.db must be >= 0, got -3"),
    ({"attack_ms": 0}, "ducking.attack_ms (how fast they go down) must be 1 to 500 ms, got 0"),
    ({"attack_ms": 501}, "ducking.attack_ms (how fast they go down) must be 1 to 500 ms, got 501"),
    ({"release_ms": 0}, "ducking.release_ms (how fast they come back) must be 1 to 1000 ms, got 0"),
    ({"release_ms": 1001}, "ducking.release_ms (how fast they come back) must be 1 to 1000 ms, got 1001"),
    ({"release_ms": None}, "ducking.release_ms must be int, got NoneType None"),
    ({"sources": "Music"}, "ducking.sources must be a list, got str"),
    ({"sources": ["Music", 3]}, "ducking.sources[1] must be str, got int 3"),
    ({"sources": ["Music", "  "]}, "ducking.sources[1] is empty; expected the name of an OBS source"),
    ({"sources": ["Music", "Game", " Music"]}, "ducking.sources[2]: 'Music' is listed twice"),
    ({"depth_db": 12}, "unknown key ducking.depth_db; expected one of attack_ms, db, release_ms, sources"),
])
def test_each_wrong_value_is_refused_naming_the_key_and_the_value(section: dict[str, Any],
                                                                  message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        TTSConfig.from_dict({"ducking": section})
    assert message in str(caught.value)


def test_the_section_must_be_an_object_and_a_file_error_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ducking must be an object, got list"):
        TTSConfig.from_dict({"ducking": ["Music"]})
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"ducking": {"db": 40}}))
    with pytest.raises(ConfigError, match=rf"^{path}: ducking\.db .* must be 1 to 20 dB, got 40$"):
        TTSConfig.load(path)


def test_a_section_changed_in_code_is_checked_when_the_config_is_validated() -> None:
    config = TTSConfig()
    config.ducking = DuckingConfig(["Music"], db=99)
    with pytest.raises(ConfigError, match=r"ducking\.db .* got 99"):
        config.validate()
