"""Keep the remote sink's media source in OBS, over obs-websocket: create it when missing,
keep it in every scene.

obs-websocket cannot put a source on an output channel (as the script does), so the
media source is kept in every scene (``all_scenes``): a scene switch never cuts a clip,
and the source is mixed once (only the live scene is heard). Deleted or renamed in OBS,
or a new scene or scene collection: it is checked again before the next clip.
"""

from __future__ import annotations

import logging
from typing import Any

from tts_core.obs.media_settings import MEDIA_PLAYBACK_SETTINGS, MEDIA_SOURCE_KIND
from tts_core.obs.remote.client import ObsRequestFailed
from tts_core.obs.remote.connection import ObsConnection

log = logging.getLogger(__name__)

SOURCE_GONE_EVENTS = ("InputRemoved", "InputNameChanged")


class RemoteMediaSource:
    """Parameters: ``connection`` (ObsConnection), ``name`` (the media source; created
    in the live scene if missing), ``all_scenes`` (keep it in every scene)."""

    def __init__(self, connection: ObsConnection, name: str, all_scenes: bool = True) -> None:
        if not name:
            raise ValueError("the OBS sink needs the name of a media source")
        self.connection = connection
        self.name = name
        self.all_scenes = all_scenes
        self._source_at: int | None = None  # the connection (generation) on which it was checked
        self._scenes_at: int | None = None
        connection.on_event(self._on_event)

    @property
    def ready(self) -> bool:
        """Connected, and the source checked on this connection (in every scene)."""
        generation = self.connection.generation
        return self.connection.connected and self._source_at == generation and (
            not self.all_scenes or self._scenes_at == generation)

    def ensure(self) -> None:
        """Connect if needed, create the media source if missing and keep it in every
        scene. Raises ObsConnectionError (OBS away), ObsRequestFailed (OBS said no, or
        the name is taken by a source of another kind)."""
        self.connection.connect()
        generation = self.connection.generation
        if self._source_at != generation:
            self._create_if_missing()
            self._source_at = generation
        if self.all_scenes and self._scenes_at != generation:
            self._add_to_every_scene()
            self._scenes_at = generation

    def lost(self) -> None:
        """The source was found missing: check (and create) it again before the next clip."""
        self._source_at = self._scenes_at = None

    def _create_if_missing(self) -> None:
        call = self.connection.call
        inputs = {i["inputName"]: i for i in call("GetInputList")["inputs"]}
        found = inputs.get(self.name)
        if found is None:
            scene = call("GetCurrentProgramScene")["currentProgramSceneName"]
            call("CreateInput", sceneName=scene, inputName=self.name, inputKind=MEDIA_SOURCE_KIND,
                 inputSettings=dict(MEDIA_PLAYBACK_SETTINGS), sceneItemEnabled=True)
            log.info("created media source %r in scene %r", self.name, scene)
        elif found.get("unversionedInputKind", found.get("inputKind")) != MEDIA_SOURCE_KIND:
            raise ObsRequestFailed(f"{self.name!r} is a {found.get('inputKind')}, not a media source")

    def _add_to_every_scene(self) -> None:
        call = self.connection.call
        for scene in call("GetSceneList")["scenes"]:
            scene_name = scene["sceneName"]
            try:
                call("GetSceneItemId", sceneName=scene_name, sourceName=self.name)
            except ObsRequestFailed:
                call("CreateSceneItem", sceneName=scene_name, sourceName=self.name, sceneItemEnabled=True)
                log.info("added media source %r to scene %r", self.name, scene_name)

    def _on_event(self, name: str, data: dict[str, Any]) -> None:
        """The connection's receive thread: no requests here."""
        ours = self.name in (data.get("inputName"), data.get("oldInputName"))
        if name == "SceneCreated":
            self._scenes_at = None
        elif name == "CurrentSceneCollectionChanged" or (ours and name in SOURCE_GONE_EVENTS):
            self.lost()
