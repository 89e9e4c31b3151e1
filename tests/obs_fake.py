"""An in-memory stand-in for ``obspython``: just the functions tts_core.obs.api calls.

Sources live in a dict by name; a media source's state changes only when the test
says so (``finish``) or when OBS would change it on its next frame (``frame`` applies
pending updates and stop actions, like OBS's deferred update and media actions).
References are counted, so tests can check that every one is released.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

STATES = {"none": 0, "playing": 1, "opening": 2, "buffering": 3, "paused": 4, "stopped": 5, "ended": 6,
          "error": 7}


@dataclass(eq=False)
class FakeSource:
    name: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)
    state: str = "none"
    volume: float = 1.0
    refs: int = 0
    alive: bool = True
    pending_update: dict[str, Any] | None = None
    pending_stop: bool = False
    plays: list[str] = field(default_factory=list)


@dataclass(eq=False)
class FakeWeak:
    source: FakeSource
    released: bool = False


class FakeData(dict[str, Any]):
    pass


class FakeObs:
    """Attributes tests look at: ``sources``, ``channels``, ``log`` (what was called)."""

    def __init__(self, loaded: bool = True) -> None:
        self.sources: dict[str, FakeSource] = {}
        self.channels: dict[int, FakeSource] = {}
        self.current_scene: FakeSource | None = FakeSource("Scene", "scene") if loaded else None
        self.scene_items: set[str] = set()
        self.weak_refs: list[FakeWeak] = []
        self.log: list[tuple[str, Any]] = []

    # -- test controls ---------------------------------------------------------------

    def add(self, name: str, kind: str = "ffmpeg_source", **settings: Any) -> FakeSource:
        src = FakeSource(name, kind, dict(settings))
        self.sources[name] = src
        return src

    def frame(self) -> None:
        """What OBS does after the tick callbacks: media actions, then deferred updates."""
        for src in list(self.sources.values()):
            if src.pending_stop:
                src.pending_stop = False
                if src.state in ("playing", "paused"):
                    src.state = "stopped"
            if src.pending_update is not None:
                src.settings.update(src.pending_update)
                src.pending_update = None
                if src.kind == "ffmpeg_source" and src.settings.get("local_file"):
                    unreadable = str(src.settings["local_file"]).endswith(".bad")
                    src.state = "error" if unreadable else "playing"
                    src.plays.append(src.settings["local_file"])

    def finish(self, name: str, state: str = "ended") -> None:
        self.sources[name].state = state

    def outstanding_refs(self) -> int:
        return sum(s.refs for s in self.sources.values()) + sum(1 for w in self.weak_refs if not w.released)

    # -- sources -----------------------------------------------------------------------

    def obs_get_source_by_name(self, name: str) -> FakeSource | None:
        src = self.sources.get(name)
        if src is not None:
            src.refs += 1
        return src

    def obs_source_release(self, src: FakeSource) -> None:
        src.refs -= 1

    def obs_enum_sources(self) -> list[FakeSource]:
        found = list(self.sources.values())
        for src in found:
            src.refs += 1
        return found

    def source_list_release(self, sources: list[FakeSource]) -> None:
        for src in sources:
            src.refs -= 1

    def obs_source_get_name(self, src: FakeSource) -> str:
        return src.name

    def obs_source_get_unversioned_id(self, src: FakeSource) -> str:
        return src.kind

    def obs_source_create(self, kind: str, name: str, settings: FakeData, _hotkeys: Any) -> FakeSource:
        self.log.append(("create", name))
        src = self.add(name, kind, **settings)
        src.refs += 1
        return src

    def obs_source_update(self, src: FakeSource, settings: FakeData) -> None:
        self.log.append(("update", (src.name, dict(settings))))
        if src.kind == "ffmpeg_source":
            src.pending_update = dict(settings)
        else:
            src.settings.update(settings)

    def obs_source_media_stop(self, src: FakeSource) -> None:
        self.log.append(("stop", src.name))
        src.pending_stop = True

    def obs_source_media_get_state(self, src: FakeSource) -> int:
        return STATES[src.state]

    def obs_save_source(self, src: FakeSource) -> FakeData:
        return FakeData(name=src.name, id=src.kind, settings=dict(src.settings), volume=src.volume)

    def obs_load_source(self, data: FakeData) -> FakeSource:
        self.log.append(("load", data["name"]))
        src = self.add(data["name"], data.get("id", "ffmpeg_source"), **data.get("settings", {}))
        src.volume = data.get("volume", 1.0)
        src.refs += 1
        return src

    # -- weak references -----------------------------------------------------------------

    def obs_source_get_weak_source(self, src: FakeSource) -> FakeWeak:
        weak = FakeWeak(src)
        self.weak_refs.append(weak)
        return weak

    def obs_weak_source_get_source(self, weak: FakeWeak) -> FakeSource | None:
        if not weak.source.alive:
            return None
        weak.source.refs += 1
        return weak.source

    def obs_weak_source_release(self, weak: FakeWeak) -> None:
        weak.released = True

    # -- output channels, frontend, scenes --------------------------------------------------

    def obs_set_output_source(self, channel: int, src: FakeSource | None) -> None:
        self.log.append(("channel", (channel, src.name if src else None)))
        if src is None:
            self.channels.pop(channel, None)
        else:
            self.channels[channel] = src

    def obs_get_output_source(self, channel: int) -> FakeSource | None:
        src = self.channels.get(channel)
        if src is not None:
            src.refs += 1
        return src

    def obs_frontend_get_current_scene(self) -> FakeSource | None:
        if self.current_scene is not None:
            self.current_scene.refs += 1
        return self.current_scene

    def obs_scene_from_source(self, src: FakeSource) -> FakeSource:
        return src

    def obs_scene_find_source_recursive(self, _scene: FakeSource, name: str) -> object | None:
        return object() if name in self.scene_items else None

    # -- obs_data ----------------------------------------------------------------------------

    def obs_data_create(self) -> FakeData:
        return FakeData()

    def obs_data_create_from_json(self, text: str) -> FakeData:
        return FakeData(json.loads(text))

    def obs_data_get_json(self, data: FakeData) -> str:
        return json.dumps(data)

    def obs_data_release(self, _data: FakeData) -> None:
        pass

    def obs_data_set_bool(self, data: FakeData, key: str, value: bool) -> None:
        data[key] = value

    def obs_data_set_int(self, data: FakeData, key: str, value: int) -> None:
        data[key] = value

    def obs_data_set_double(self, data: FakeData, key: str, value: float) -> None:
        data[key] = value

    def obs_data_set_string(self, data: FakeData, key: str, value: str) -> None:
        data[key] = value
