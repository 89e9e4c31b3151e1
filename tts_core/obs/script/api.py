"""The thin place where tts_core calls obspython: every call on an OBS object is here.

``ObsApi`` receives the ``obspython`` module (or a fake with the same functions in
tests) and offers what the sink and the script need, by source *name*: it never keeps
a strong source reference between calls (a scene-collection switch would make OBS
exit), only weak ones. Every method must run on an OBS thread (the UI thread in
script callbacks, or the graphics thread through ``Pump``); see docs/architecture.md, section 4.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

from tts_core.obs.clip_state import SourceStatus
from tts_core.obs.media_settings import MEDIA_PLAYBACK_SETTINGS, MEDIA_SOURCE_KIND, SETTING_LABELS

log = logging.getLogger(__name__)

# Output channels 0-6 belong to OBS (scene, desktop and mic audio); channels hold a
# source active, and so in the mix, whatever scene is live.
TTS_OUTPUT_CHANNEL = 62
TEXT_SOURCE_PREFIX = "text_"

MEDIA_STATES = {0: "none", 1: "playing", 2: "opening", 3: "buffering", 4: "paused", 5: "stopped",
                6: "ended", 7: "error"}

NESTING_LIMIT = 8  # scenes inside scenes inside scenes...: never walk a cycle forever


class ObsApi:
    """Parameters: ``obs`` (the ``obspython`` module or a test double)."""

    def __init__(self, obs: Any) -> None:
        self.obs = obs

    # -- looking up ----------------------------------------------------------------

    @contextlib.contextmanager
    def source(self, name: str) -> Iterator[Any]:
        """The source called ``name`` (or None) for the duration of the block."""
        src = self.obs.obs_get_source_by_name(name) if name else None
        try:
            yield src
        finally:
            if src is not None:
                self.obs.obs_source_release(src)

    def source_exists(self, name: str) -> bool:
        """Whether there is a source ``name`` that was not deleted (OBS keeps a deleted
        source, and finds it by name, while anything still holds it)."""
        with self.source(name) as src:
            return src is not None and not self.obs.obs_source_removed(src)

    def source_names(self, kind_prefix: str) -> list[str]:
        """Names of the inputs whose (unversioned) kind starts with ``kind_prefix``, sorted."""
        sources = self.obs.obs_enum_sources()
        try:
            names = [self.obs.obs_source_get_name(s) for s in sources or []
                     if str(self.obs.obs_source_get_unversioned_id(s)).startswith(kind_prefix)]
        finally:
            self.obs.source_list_release(sources)
        return sorted(names, key=str.casefold)

    def media_source_names(self) -> list[str]:
        return self.source_names(MEDIA_SOURCE_KIND)

    def text_source_names(self) -> list[str]:
        return self.source_names(TEXT_SOURCE_PREFIX)

    def frontend_loaded(self) -> bool:
        """True once OBS has loaded a scene collection (its sources exist). Asks for the
        scene list: obspython logs a SWIG conversion error for a current scene of None."""
        scenes = self.obs.obs_frontend_get_scenes()
        try:
            return bool(scenes)
        finally:
            self.obs.source_list_release(scenes)

    # -- the media source ------------------------------------------------------------

    def create_media_source(self, name: str, saved_state: str | None = None) -> str | None:
        """Create the media source ``name``: from ``saved_state`` (``save_source_state``
        JSON: keeps the streamer's volume, mute, filters, monitoring) or fresh. Returns
        the name OBS gave it (OBS 30+ renames a duplicate), or None if it failed."""
        obs = self.obs
        src = None
        if saved_state:
            data = obs.obs_data_create_from_json(saved_state)
            if data is not None:
                obs.obs_data_set_string(data, "name", name)
                src = obs.obs_load_source(data)
                obs.obs_data_release(data)
        if src is None:
            settings = self._data(MEDIA_PLAYBACK_SETTINGS)
            src = obs.obs_source_create(MEDIA_SOURCE_KIND, name, settings, None)
            obs.obs_data_release(settings)
        if src is None:
            return None
        # The output channel holds the only reference: the source lives while it is there.
        obs.obs_set_output_source(TTS_OUTPUT_CHANNEL, src)
        created = str(obs.obs_source_get_name(src))
        obs.obs_source_release(src)
        log.info("created media source %r on output channel %d", created, TTS_OUTPUT_CHANNEL)
        return created

    def save_source_state(self, name: str) -> str | None:
        """The source's full state (settings, volume, mute, filters) as JSON, or None."""
        with self.source(name) as src:
            if src is None:
                return None
            data = self.obs.obs_save_source(src)
            try:
                text = self.obs.obs_data_get_json(data)
            finally:
                self.obs.obs_data_release(data)
        state = json.loads(text)
        state.get("settings", {}).pop("local_file", None)  # a deleted clip file: no use later
        state.pop("uuid", None)  # a re-created source is a new one (OBS 30+ keys sources by uuid)
        return json.dumps(state)

    def keep_on_output_channel(self, name: str, channel: int = TTS_OUTPUT_CHANNEL) -> bool:
        """Put ``name`` on ``channel`` unless it is there already; False if it does not exist."""
        obs = self.obs
        with self.source(name) as src:
            if src is None:
                return False
            current = obs.obs_get_output_source(channel)
            try:
                if current is not None and obs.obs_source_get_name(current) == name:
                    return True
            finally:
                if current is not None:
                    obs.obs_source_release(current)
            obs.obs_set_output_source(channel, src)
            return True

    def release_output_channel(self, channel: int = TTS_OUTPUT_CHANNEL) -> None:
        self.obs.obs_set_output_source(channel, None)

    def play_file(self, name: str, path: str) -> bool:
        """Start ``path`` (a file or an http URL) on media source ``name`` (next frame)."""
        with self.source(name) as src:
            if src is None:
                return False
            settings = self._data({**MEDIA_PLAYBACK_SETTINGS, "local_file": path})
            self.obs.obs_source_update(src, settings)
            self.obs.obs_data_release(settings)
            return True

    def stop_media(self, name: str) -> None:
        with self.source(name) as src:
            if src is not None:
                self.obs.obs_source_media_stop(src)

    def weak_media(self, name: str) -> Any:
        """A weak reference to the source ``name`` (None if missing), for ``media_status``
        and ``weak_name``. Give it back with ``release_weak``."""
        with self.source(name) as src:
            return None if src is None else self.obs.obs_source_get_weak_source(src)

    def release_weak(self, weak: Any) -> None:
        if weak is not None:
            self.obs.obs_weak_source_release(weak)

    def media_status(self, weak: Any) -> SourceStatus:
        """One look at a weakly referenced media source for ``ClipOnSource.observe``:
        state, file, duration, whether it is in the mix. ``SourceStatus(None)`` once it
        is gone or removed (deleted in OBS; a channel may still hold it)."""
        obs = self.obs
        src = obs.obs_weak_source_get_source(weak) if weak is not None else None
        if src is None:
            return SourceStatus(None)
        try:
            if obs.obs_source_removed(src):
                return SourceStatus(None)
            state = MEDIA_STATES.get(int(obs.obs_source_media_get_state(src)), "none")
            settings = obs.obs_source_get_settings(src)
            try:
                file = obs.obs_data_get_string(settings, "local_file") or ""
            finally:
                obs.obs_data_release(settings)
            duration = max(0, int(obs.obs_source_media_get_duration(src) or 0))
            return SourceStatus(state, file, duration, bool(obs.obs_source_active(src)))
        finally:
            obs.obs_source_release(src)

    def weak_name(self, weak: Any) -> str | None:
        """The current name of a weakly referenced source; None if it is gone or removed."""
        obs = self.obs
        src = obs.obs_weak_source_get_source(weak) if weak is not None else None
        if src is None:
            return None
        try:
            return None if obs.obs_source_removed(src) else str(obs.obs_source_get_name(src))
        finally:
            obs.obs_source_release(src)

    def source_removed(self, name: str) -> bool:
        """True if ``name`` still exists but was deleted in OBS (something still holds it)."""
        with self.source(name) as src:
            return src is not None and bool(self.obs.obs_source_removed(src))

    def holds_on_output_channel(self, name: str, channel: int = TTS_OUTPUT_CHANNEL) -> bool:
        current = self.obs.obs_get_output_source(channel)
        if current is None:
            return False
        try:
            return bool(self.obs.obs_source_get_name(current) == name)
        finally:
            self.obs.obs_source_release(current)

    def playback_settings_to_fix(self, name: str) -> list[str]:
        """What would replay or cut clips (Loop, Restart playback when source becomes
        active, Close file when inactive, Local File off), in the words of OBS's media
        source properties; ``clear_file`` turns them off."""
        obs = self.obs
        with self.source(name) as src:
            if src is None:
                return []
            settings = obs.obs_source_get_settings(src)
            try:
                current = {key: bool(obs.obs_data_get_bool(settings, key)) for key in MEDIA_PLAYBACK_SETTINGS}
            finally:
                obs.obs_data_release(settings)
        return [f"turned {'on' if want else 'off'} '{SETTING_LABELS[key]}'"
                for key, want in MEDIA_PLAYBACK_SETTINGS.items() if current[key] != want]

    def clear_file(self, name: str) -> None:
        """Take the file off media source ``name`` and set the playback settings the
        script needs. Any update makes OBS re-open and start the source's file, so this
        is the only update the script makes besides starting a clip; never while a file
        plays (OBS would start the next one without ending it)."""
        with self.source(name) as src:
            if src is not None:
                data = self._data({**MEDIA_PLAYBACK_SETTINGS, "local_file": ""})
                self.obs.obs_source_update(src, data)
                self.obs.obs_data_release(data)

    def forget_file(self, name: str) -> None:
        """Empty the ``local_file`` that OBS will save for media source ``name``, without an
        update: what plays is not re-opened or cut (a Stop already asked for still ends it
        with OBS's "ended"), only the saved scene collection holds no path."""
        with self.source(name) as src:
            if src is not None:
                settings = self.obs.obs_source_get_settings(src)
                try:
                    self.obs.obs_data_set_string(settings, "local_file", "")
                finally:
                    self.obs.obs_data_release(settings)

    # -- scenes ------------------------------------------------------------------------

    def scene_names(self) -> list[str]:
        """Names of the scenes in OBS's Scenes list. OBS's UI thread only (frontend API)."""
        scenes = self.obs.obs_frontend_get_scenes()
        try:
            return [str(self.obs.obs_source_get_name(s)) for s in scenes or []]
        finally:
            self.obs.source_list_release(scenes)

    def program_scene_name(self) -> str | None:
        if not self.frontend_loaded():  # obspython logs a SWIG error for a current scene of None
            return None
        scene = self.obs.obs_frontend_get_current_scene()
        if scene is None:
            return None
        try:
            return str(self.obs.obs_source_get_name(scene))
        finally:
            self.obs.obs_source_release(scene)

    def hide_in_scenes(self, name: str, scene_names: list[str]) -> list[str]:
        """Hide (eye off) every item of source ``name`` in these scenes, in their groups
        and in the scenes nested in them. Returns the scenes where an item was shown."""
        hidden: list[str] = []
        visited: set[str] = set()
        for scene_name in scene_names:
            self._hide_in_scene(name, scene_name, visited, hidden, 0)
        return hidden

    def _hide_in_scene(self, name: str, scene_name: str, visited: set[str], hidden: list[str],
                       depth: int) -> None:
        if scene_name in visited or depth > NESTING_LIMIT:
            return
        visited.add(scene_name)
        nested: list[str] = []
        with self.source(scene_name) as scene_source:
            scene = self.obs.obs_scene_from_source(scene_source) if scene_source is not None else None
            if scene is None:
                return
            items = self.obs.obs_scene_enum_items(scene)
            try:
                if self._hide_items(name, items, nested, 0):
                    hidden.append(scene_name)
            finally:
                self.obs.sceneitem_list_release(items)
        for child in nested:
            self._hide_in_scene(name, child, visited, hidden, depth + 1)

    def _hide_items(self, name: str, items: Any, nested: list[str], depth: int) -> bool:
        obs = self.obs
        found = False
        for item in items or []:
            source = obs.obs_sceneitem_get_source(item)  # borrowed: no release
            item_name = str(obs.obs_source_get_name(source))
            if item_name == name:
                if obs.obs_sceneitem_visible(item):
                    obs.obs_sceneitem_set_visible(item, False)
                    found = True
            elif obs.obs_sceneitem_is_group(item) and depth < NESTING_LIMIT:
                group_items = obs.obs_sceneitem_group_enum_items(item)
                try:
                    found = self._hide_items(name, group_items, nested, depth + 1) or found
                finally:
                    obs.sceneitem_list_release(group_items)
            elif obs.obs_scene_from_source(source) is not None:
                nested.append(item_name)
        return found

    # -- captions ----------------------------------------------------------------------

    def set_text(self, name: str, text: str) -> bool:
        """Set the ``text`` of a text source; False if there is no source ``name``."""
        with self.source(name) as src:
            if src is None:
                return False
            settings = self._data({"text": text})
            self.obs.obs_source_update(src, settings)
            self.obs.obs_data_release(settings)
            return True

    # -- helpers -------------------------------------------------------------------------

    def _data(self, values: dict[str, Any]) -> Any:
        obs = self.obs
        data = obs.obs_data_create()
        for key, value in values.items():
            if isinstance(value, bool):
                obs.obs_data_set_bool(data, key, value)
            elif isinstance(value, int):
                obs.obs_data_set_int(data, key, value)
            elif isinstance(value, float):
                obs.obs_data_set_double(data, key, value)
            else:
                obs.obs_data_set_string(data, key, str(value))
        return data
