"""An in-memory stand-in for ``obspython``: just the functions tts_core.obs.script.api calls.

Sources live in a dict by name; a media source's state changes only when the test
says so (``finish``) or when OBS would change it on its next frame (``frame`` applies
pending updates and stop actions, like OBS's deferred update and media actions).
References are counted, so tests can check that every one is released.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

STATES = {"none": 0, "playing": 1, "opening": 2, "buffering": 3, "paused": 4, "stopped": 5, "ended": 6,
          "error": 7}
# OBS 29's ffmpeg_source defaults (what obs_data_get_bool returns for a key never set)
MEDIA_DEFAULTS = {"is_local_file": True, "looping": False, "restart_on_activate": True,
                  "close_when_inactive": False, "clear_on_media_end": True}


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
    duration_ms: int = 0
    removed: bool = False
    items: list[FakeItem] = field(default_factory=list)  # scenes and groups
    filters: list[FakeSource] = field(default_factory=list)
    audio: bool = True  # OBS_SOURCE_AUDIO in its output flags


@dataclass(eq=False)
class FakeItem:
    source: FakeSource
    visible: bool = True


@dataclass(eq=False)
class FakeWeak:
    source: FakeSource
    released: bool = False


class FakeData(dict[str, Any]):
    pass


class SourceData(FakeData):
    """A source's own settings (OBS returns the source's obs_data, not a copy): a value set
    on it is the source's setting, saved with it, without an update (nothing re-opens)."""

    def __init__(self, source: FakeSource, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.source = source

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.source.settings[key] = value


class FakeObs:
    """Attributes tests look at: ``sources``, ``channels``, ``log`` (what was called)."""

    def __init__(self, loaded: bool = True) -> None:
        self.sources: dict[str, FakeSource] = {}
        self.channels: dict[int, FakeSource] = {}
        self.current_scene: FakeSource | None = None
        self.scenes: list[FakeSource] = []  # OBS's Scenes list
        if loaded:
            self.current_scene = self.add_scene("Scene")
        self.clip_ms = 1000  # the duration OBS reports for a file it opens
        self.weak_refs: list[FakeWeak] = []
        self.log: list[tuple[str, Any]] = []

    # -- test controls ---------------------------------------------------------------

    def add(self, name: str, kind: str = "ffmpeg_source", **settings: Any) -> FakeSource:
        src = FakeSource(name, kind, dict(settings))
        self.sources[name] = src
        return src

    def add_scene(self, name: str, *items: FakeSource | FakeItem, kind: str = "scene") -> FakeSource:
        scene = self.add(name, kind)
        scene.items = [i if isinstance(i, FakeItem) else FakeItem(i) for i in items]
        if kind == "scene":
            self.scenes.append(scene)
        return scene

    def active(self, src: FakeSource) -> bool:
        """On an output channel, or shown in the live scene (at any depth)."""
        return src in self.channels.values() or (
            self.current_scene is not None and self._shown_in(self.current_scene, src, 0))

    def _shown_in(self, scene: FakeSource, src: FakeSource, depth: int) -> bool:
        return depth < 10 and any(
            item.visible and (item.source is src or self._shown_in(item.source, src, depth + 1))
            for item in scene.items)

    def remove(self, name: str) -> FakeSource:
        """Delete the source in OBS (obs_source_remove): gone from scenes, still held by a channel."""
        src = self.sources[name]
        src.removed = True
        for scene in self.sources.values():
            scene.items = [i for i in scene.items if i.source is not src]
        if src not in self.channels.values():
            self._destroy(src)
        return src

    def _destroy(self, src: FakeSource) -> None:
        src.alive = False
        if self.sources.get(src.name) is src:
            del self.sources[src.name]

    def rename(self, old: str, new: str) -> None:
        src = self.sources.pop(old)
        src.name = new
        self.sources[new] = src

    def frame(self) -> None:
        """What OBS does after the tick callbacks: media actions, then deferred updates."""
        for src in list(self.sources.values()):
            if src.pending_stop:
                src.pending_stop = False
                if src.state in ("playing", "paused"):
                    src.state = "stopped"
            if src.pending_update is not None:
                src.pending_update = None
                if src.kind == "ffmpeg_source" and src.settings.get("local_file"):
                    unreadable = str(src.settings["local_file"]).endswith(".bad")
                    src.state = "error" if unreadable else "playing"
                    src.duration_ms = 0 if unreadable else self.clip_ms
                    src.plays.append(src.settings["local_file"])
                elif src.kind == "ffmpeg_source":  # OBS 29: active with no file reports PLAYING, duration 0
                    src.state, src.duration_ms = ("playing" if self.active(src) else "none"), 0

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

    def obs_source_removed(self, src: FakeSource) -> bool:
        return src.removed

    def obs_source_get_settings(self, src: FakeSource) -> FakeData:
        defaults = MEDIA_DEFAULTS if src.kind == "ffmpeg_source" else {}
        return SourceData(src, {**defaults, **src.settings})

    def obs_source_media_get_duration(self, src: FakeSource) -> int:
        return src.duration_ms

    def obs_source_active(self, src: FakeSource) -> bool:
        return self.active(src)

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
        if kind.endswith("_filter"):  # a filter is no input: OBS does not list it among the sources
            made = FakeSource(name, kind, dict(settings))
            made.refs += 1
            return made
        src = self.add(name, kind, **settings)
        src.refs += 1
        return src

    def obs_source_update(self, src: FakeSource, settings: FakeData) -> None:
        self.log.append(("update", (src.name, dict(settings))))
        src.settings.update(settings)  # at once, like obs_data_apply; the source acts on the next frame
        if src.kind == "ffmpeg_source":
            src.pending_update = {**(src.pending_update or {}), **settings}

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
        old = self.channels.pop(channel, None)
        if src is not None:
            self.channels[channel] = src
        if old is not None and old.removed and old is not src:
            self._destroy(old)  # the channel held the last reference

    def obs_get_output_source(self, channel: int) -> FakeSource | None:
        src = self.channels.get(channel)
        if src is not None:
            src.refs += 1
        return src

    def obs_frontend_get_current_scene(self) -> FakeSource | None:
        if self.current_scene is not None:
            self.current_scene.refs += 1
        return self.current_scene

    def obs_scene_from_source(self, src: FakeSource) -> FakeSource | None:
        return src if src.kind == "scene" else None

    def obs_frontend_get_scenes(self) -> list[FakeSource]:
        for scene in self.scenes:
            scene.refs += 1
        return list(self.scenes)

    def obs_scene_enum_items(self, scene: FakeSource) -> list[FakeItem]:
        return list(scene.items)

    def obs_sceneitem_group_enum_items(self, item: FakeItem) -> list[FakeItem]:
        return list(item.source.items)

    def sceneitem_list_release(self, _items: list[FakeItem]) -> None:
        pass

    def obs_sceneitem_get_source(self, item: FakeItem) -> FakeSource:
        return item.source

    def obs_sceneitem_visible(self, item: FakeItem) -> bool:
        return item.visible

    def obs_sceneitem_set_visible(self, item: FakeItem, visible: bool) -> None:
        self.log.append(("visible", (item.source.name, visible)))
        item.visible = visible

    def obs_sceneitem_is_group(self, item: FakeItem) -> bool:
        return item.source.kind == "group"

    # -- filters ------------------------------------------------------------------------------

    def obs_source_get_filter_by_name(self, src: FakeSource, name: str) -> FakeSource | None:
        found = next((f for f in src.filters if f.name == name), None)
        if found is not None:
            found.refs += 1
        return found

    def obs_source_filter_add(self, src: FakeSource, flt: FakeSource) -> None:
        self.log.append(("filter_add", (src.name, flt.name)))
        src.filters.append(flt)

    def obs_source_filter_remove(self, src: FakeSource, flt: FakeSource) -> None:
        self.log.append(("filter_remove", (src.name, flt.name)))
        src.filters.remove(flt)

    def obs_source_get_output_flags(self, src: FakeSource) -> int:
        return 0x2 if src.audio and src.kind not in ("scene", "group") else 0

    def filter_refs(self) -> int:
        return sum(f.refs for s in self.sources.values() for f in s.filters)

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

    def obs_data_get_string(self, data: FakeData, key: str) -> str:
        return str(data.get(key, ""))

    def obs_data_get_bool(self, data: FakeData, key: str) -> bool:
        return bool(data.get(key, False))

    def obs_data_get_double(self, data: FakeData, key: str) -> float:
        return float(data.get(key, 0.0))

    def obs_data_get_int(self, data: FakeData, key: str) -> int:
        return int(data.get(key, 0))


class FakeFrames:
    """OBS's graphics thread: runs ``pump`` and a frame of ``obs`` every 5 ms; a clip on
    the media source ``media`` ends ``clip_seconds`` after it started."""

    def __init__(self, obs: FakeObs, pump: Any, media: str = "TTS Audio", clip_seconds: float = 0.03) -> None:
        self.obs, self.pump, self.media, self.clip_seconds = obs, pump, media, clip_seconds
        self._stop = threading.Event()
        self._started: dict[int, float] = {}
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            self.pump.run()
            self.obs.frame()
            src = self.obs.sources.get(self.media)
            if src is not None and src.state == "playing":
                started = self._started.setdefault(len(src.plays), time.monotonic())
                if time.monotonic() - started > self.clip_seconds:
                    src.state = "ended"
            elif src is not None and src.state == "stopped":
                src.state = "ended"

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(2)


class FakeClock:
    """A monotonic clock that moves only when the test says so (``advance``)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

