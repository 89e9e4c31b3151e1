"""RemoteDucking: the obs-websocket requests it makes, against an in-memory OBS that answers
as obs-websocket 5 does (GetSourceFilter fails for a filter that is not there)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tts_core.config import DuckingConfig, TTSConfig
from tts_core.obs.ducking import FILTER_KIND, FILTER_NAME, Ducking
from tts_core.obs.remote.client import ObsRequestFailed
from tts_core.obs.remote.ducking import RemoteDucking

MEDIA = "TTS Audio"


class FakeConnection:
    """What RemoteDucking uses of ObsConnection; ``filters``: source -> filter name -> (kind, settings)."""

    def __init__(self) -> None:
        self.filters: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {
            MEDIA: {}, "Music": {"My gain": ("gain_filter", {"db": -2.0})}, "Game": {}}
        self.generation = 1
        self.connected = True
        self.away: str | None = None
        self.requests: list[str] = []
        self.handlers: list[Any] = []
        self.refuse = ""  # a request OBS refuses

    def on_event(self, handler: Any) -> None:
        self.handlers.append(handler)

    def call(self, request: str, **data: Any) -> dict[str, Any]:
        answer = self.call_all([(request, data)])[0]
        if isinstance(answer, ObsRequestFailed):
            raise answer
        return answer

    def call_all(self, requests: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any] | ObsRequestFailed]:
        return [self._answer(name, data) for name, data in requests]

    def _answer(self, request: str, data: dict[str, Any]) -> dict[str, Any] | ObsRequestFailed:
        self.requests.append(request)
        if request == self.refuse:
            return ObsRequestFailed(f"{request} failed: refused")
        if request == "GetInputList":
            return {"inputs": [{"inputName": name} for name in self.filters]}
        on = self.filters[data["sourceName"]]
        name = data.get("filterName")
        if request == "GetSourceFilter":
            if name not in on:
                return ObsRequestFailed("No filter was found in the source with that name.")
            return {"filterKind": on[name][0], "filterSettings": dict(on[name][1])}
        if request == "CreateSourceFilter":
            on[name] = (data["filterKind"], dict(data["filterSettings"]))
        elif request == "SetSourceFilterSettings":
            on[name][1].update(data["filterSettings"])
        elif request == "RemoveSourceFilter":
            del on[name]
        return {}


def test_applied_once_per_connection_and_removed_at_shutdown_leaving_the_streamers_filters() -> None:
    connection = FakeConnection()
    ducking = RemoteDucking(connection, MEDIA, Ducking(("Music", "Radio"), depth_db=12))  # type: ignore[arg-type]
    changes = ducking.ensure()
    assert [type(c).__name__ for c in changes] == ["AddFilter"]
    kind, settings = connection.filters["Music"][FILTER_NAME]
    assert kind == FILTER_KIND and settings == Ducking(depth_db=12).filter_settings(MEDIA)
    assert ducking.missing == ["Radio"]

    connection.requests.clear()
    assert ducking.ensure() == [] and connection.requests == []  # same connection: nothing asked

    connection.generation = 2  # OBS restarted: looked at again, nothing to change
    connection.filters["Music"][FILTER_NAME][1]["threshold"] = -10.0  # changed by hand meanwhile
    assert [type(c).__name__ for c in ducking.ensure()] == ["UpdateFilter"]
    for handler in connection.handlers:
        handler("InputCreated", {"inputName": "Radio"})
    connection.filters["Radio"] = {}
    assert [c.source for c in ducking.ensure()] == ["Radio"]

    assert ducking.remove_all() == 2
    assert connection.filters["Music"] == {"My gain": ("gain_filter", {"db": -2.0})}
    assert connection.filters["Radio"] == {}


def test_nothing_is_asked_at_shutdown_while_obs_is_away() -> None:
    connection = FakeConnection()
    ducking = RemoteDucking(connection, MEDIA, Ducking(("Music",)))  # type: ignore[arg-type]
    connection.connected = False
    assert ducking.remove_all() == 0 and connection.requests == []


def test_serve_command_line_names_the_sources_to_lower() -> None:
    from tts_core.cli import build_parser
    from tts_core.cli.obs_args import obs_sink_options
    from tts_core.cli.serve import build_serve_config

    args = build_parser().parse_args(["serve", "--sink", "obs", "--duck", "Music", "--duck", "Game Capture",
                                      "--duck-db", "15", "--duck-release-ms", "80"])
    assert obs_sink_options(args, build_serve_config(args))["ducking"] == \
        Ducking(("Music", "Game Capture"), 15, 5, 80)
    default = build_parser().parse_args(["serve", "--sink", "obs"])
    assert obs_sink_options(default, build_serve_config(default))["ducking"].sources == ()  # ducking off


def test_serve_flags_override_the_config_files_ducking_key_by_key(tmp_path: Path) -> None:
    from tts_core.cli import build_parser
    from tts_core.cli.serve import build_serve_config, overridden_ducking

    path = tmp_path / "config.json"
    path.write_text(json.dumps({"ducking": {"sources": ["Music", "Game"], "db": 9, "release_ms": 200}}))

    def config(*flags: str) -> tuple[DuckingConfig, list[str]]:
        args = build_parser().parse_args(["serve", "--sink", "obs", "--config", str(path), *flags])
        return build_serve_config(args).ducking, overridden_ducking(args, TTSConfig.load(path).ducking)

    assert config() == (DuckingConfig(["Music", "Game"], 9, 5, 200), [])
    # --duck given at all replaces the file's list; a flag not given leaves the file's value
    assert config("--duck", "Desktop Audio", "--duck-db", "15") == (
        DuckingConfig(["Desktop Audio"], 15, 5, 200), ["--duck", "--duck-db"])
    assert config("--duck", "")[0].sources == []  # --duck '': off, whatever the file says
    assert config("--duck-db", "9")[1] == []  # the same value as the file's: nothing overridden


@pytest.mark.parametrize(("flag", "value", "error"), [
    ("--duck-db", "0", "must be 1 to 20, got 0"),
    ("--duck-db", "21", "must be 1 to 20, got 21"),
    ("--duck-attack-ms", "501", "must be 1 to 500, got 501"),
    ("--duck-release-ms", "0", "must be 1 to 1000, got 0"),
    ("--duck-release-ms", "fast", "must be a whole number, got 'fast'"),
])
def test_serve_refuses_a_ducking_flag_out_of_range_naming_it(flag: str, value: str, error: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from tts_core.cli import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--sink", "obs", flag, value])
    assert f"argument {flag}: {error}" in capsys.readouterr().err


def _config(sources: list[str], db: int = 12) -> TTSConfig:
    return TTSConfig(ducking=DuckingConfig(sources, db))


def test_a_new_config_changes_our_filters_at_once_and_says_what_it_did() -> None:
    connection = FakeConnection()
    ducking = RemoteDucking(connection, MEDIA, Ducking(("Music",)))  # type: ignore[arg-type]
    ducking.ensure()

    ducking.prepare_config(_config(["Music", "Game"], db=15)).commit()
    assert connection.filters["Game"][FILTER_NAME][1] == Ducking(depth_db=15).filter_settings(MEDIA)
    assert connection.filters["Music"][FILTER_NAME][1]["threshold"] == Ducking(depth_db=15).threshold_db
    assert ducking.note.startswith("ducking: ")
    assert "updated our filter on 'Music' (-53.5 dB threshold" in ducking.note
    assert "added our filter to 'Game' (-53.5 dB threshold" in ducking.note

    ducking.prepare_config(_config(["Game"], db=15)).commit()  # Music removed: exactly our filter goes
    assert connection.filters["Music"] == {"My gain": ("gain_filter", {"db": -2.0})}
    assert ducking.note == "ducking: removed our filter from 'Music'"

    ducking.prepare_config(_config(["Game", "Radio"], db=15)).commit()
    assert ducking.note == "ducking: OBS's filters already matched; OBS has no source 'Radio' to lower"
    connection.requests.clear()
    ducking.prepare_config(_config(["Game", "Radio"], db=15)).commit()  # nothing changed: nothing asked
    assert ducking.note == "" and connection.requests == []
    assert ducking.ensure() == []  # applied on this connection by the commit


def test_a_new_config_while_obs_is_away_is_applied_on_the_next_connection() -> None:
    connection = FakeConnection()
    ducking = RemoteDucking(connection, MEDIA, Ducking(("Music",)))  # type: ignore[arg-type]
    ducking.ensure()
    connection.connected, connection.away = False, "OBS is not running at 127.0.0.1:4455"
    connection.requests.clear()
    ducking.prepare_config(_config([])).commit()
    assert connection.requests == []
    assert ducking.note == ("ducking: changes in OBS once it is connected "
                            "(OBS is not running at 127.0.0.1:4455)")
    connection.connected, connection.generation = True, 2
    assert [type(c).__name__ for c in ducking.ensure()] == ["RemoveFilter"]
    assert FILTER_NAME not in connection.filters["Music"]


def test_a_change_obs_refuses_is_said_and_tried_again_before_the_next_clip() -> None:
    connection = FakeConnection()
    ducking = RemoteDucking(connection, MEDIA)  # type: ignore[arg-type]
    connection.refuse = "CreateSourceFilter"
    ducking.prepare_config(_config(["Music"])).commit()  # never raises: a commit must not fail
    assert ducking.note.startswith("ducking: OBS refused a filter change (")
    assert "tried again before the next clip" in ducking.note
    connection.refuse = ""
    assert [c.source for c in ducking.ensure()] == ["Music"]


def test_serve_without_ducking_never_looks_at_or_touches_any_filter() -> None:
    connection = FakeConnection()
    connection.filters["Music"][FILTER_NAME] = ("compressor_filter", {})  # the OBS script's, say
    ducking = RemoteDucking(connection, MEDIA)  # type: ignore[arg-type]
    assert ducking.ensure() == []
    ducking.prepare_config(_config([], db=15)).commit()
    assert ducking.remove_all() == 0
    assert connection.requests == [] and FILTER_NAME in connection.filters["Music"]


def test_serve_says_at_start_what_it_lowers_or_that_ducking_needs_the_obs_sink() -> None:
    from tts_core.cli.serve import ducking_line
    from tts_core.sinks.realtime import RealtimeSink

    assert ducking_line(TTSConfig(), RealtimeSink()) == ""
    off = ducking_line(_config(["Music"]), RealtimeSink())
    assert off == "ducking of 'Music' is off: it needs --sink obs"
