"""Config refuses NaN, Infinity and negative numbers for every numeric key of every
section, and a listener address that cannot be one, always naming the key (issue 8)."""

from __future__ import annotations

import json
import typing
from dataclasses import fields, is_dataclass

import pytest

from tts_core import ConfigError, TTSConfig, TTSQueueManager
from tts_core.cli import main


def _numeric_keys() -> list[tuple[str, str, type]]:
    """(section, key, type) of every int/float setting, sections found generically."""
    out = []
    queue_hints = typing.get_type_hints(TTSConfig)
    for f in fields(TTSConfig):
        default = getattr(TTSConfig(), f.name)
        if is_dataclass(default):
            hints = typing.get_type_hints(type(default))
            for sf in fields(default):
                for tp in (float, int):
                    if tp in (hints[sf.name], *typing.get_args(hints[sf.name])):
                        out.append((f.name, sf.name, tp))
                        break
        else:
            for tp in (float, int):
                if tp in (queue_hints[f.name], *typing.get_args(queue_hints[f.name])):
                    out.append(("tts_queue", f.name, tp))
                    break
    return out


FLOAT_KEYS = [(s, k) for s, k, tp in _numeric_keys() if tp is float]
NUMBER_KEYS = [(s, k) for s, k, _tp in _numeric_keys()]


def _negative_allowed(section: str, key: str) -> bool:
    """Fields marked ``metadata={"negative": True}`` (levels in dB and LUFS) are negative by nature."""
    default = getattr(TTSConfig(), section, None)
    return is_dataclass(default) and any(f.name == key and f.metadata.get("negative")
                                         for f in fields(default))


NEGATIVE_REFUSED = [(s, k) for s, k in NUMBER_KEYS if not _negative_allowed(s, k)]


def test_every_section_has_numbers_to_check():
    sections = {s for s, _ in FLOAT_KEYS}
    assert {"tts_queue", "streamer_bot", "listener"} <= sections, FLOAT_KEYS


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize(("section", "key"), FLOAT_KEYS)
def test_nan_and_infinity_are_refused_for_every_float(tmp_path, section, key, literal):
    path = tmp_path / "config.json"
    path.write_text(f'{{"{section}": {{"{key}": {literal}}}}}')  # what json.dumps writes for them
    with pytest.raises(ConfigError, match=rf"{section}\.{key} must be"):
        TTSConfig.load(path)


@pytest.mark.parametrize(("section", "key"), NEGATIVE_REFUSED)
def test_negative_numbers_are_refused_for_every_key(section, key):
    with pytest.raises(ConfigError, match=rf"{section}\.{key} must be"):
        TTSConfig.from_dict({section: {key: -5}})


def test_infinite_hold_set_in_python_is_refused_too():
    with pytest.raises(ConfigError, match=r"tts_queue\.hold_seconds must be a finite number"):
        TTSConfig(hold_seconds=float("inf"))
    config = TTSConfig()
    config.streamer_bot.min_donation_amount = -1.0
    with pytest.raises(ConfigError, match=r"streamer_bot\.min_donation_amount must be >= 0"):
        config.validate()


def test_add_message_refuses_a_hold_that_never_ends():
    manager = TTSQueueManager(TTSConfig())
    for hold in (float("inf"), float("nan")):
        with pytest.raises(ValueError, match="hold_seconds must be a finite number"):
            manager.add_message("hello", hold_seconds=hold)
    assert manager.get_stats()["accepted"] == 0


BAD_HOSTS = ["not a host", "256.1.1.1", "exa_mple.com", "-bad.lan", "", "[::1]", "a" * 300]


@pytest.mark.parametrize("host", BAD_HOSTS)
def test_bad_listener_host_is_refused_naming_the_key(host):
    with pytest.raises(ConfigError, match=r"^listener\.host must be an IP address"):
        TTSConfig.from_dict({"listener": {"host": host}})


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0", "::1", "::", "localhost", "my-pc.lan"])
def test_good_listener_hosts_load(host):
    assert TTSConfig.from_dict({"listener": {"host": host}}).listener.host == host


def test_serve_names_the_listener_host_key(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"listener": {"host": "no such host!"}}))
    assert main(["serve", "--config", str(path), "--port", "0", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "listener.host must be an IP address" in err and "no such host!" in err
