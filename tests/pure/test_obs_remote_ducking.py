"""RemoteDucking: the obs-websocket requests it makes, against an in-memory OBS that answers
as obs-websocket 5 does (GetSourceFilter fails for a filter that is not there)."""

from __future__ import annotations

from typing import Any

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
        self.requests: list[str] = []
        self.handlers: list[Any] = []

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
    from tts_core.cli.serve import obs_sink_options

    args = build_parser().parse_args(["serve", "--sink", "obs", "--duck", "Music", "--duck", "Game Capture",
                                      "--duck-db", "15", "--duck-release-ms", "80"])
    assert obs_sink_options(args)["ducking"] == Ducking(("Music", "Game Capture"), 15, 5, 80)
    default = build_parser().parse_args(["serve", "--sink", "obs"])
    assert obs_sink_options(default)["ducking"].sources == ()  # no --duck: ducking off
