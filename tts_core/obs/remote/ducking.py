"""Ducking for ``obs-tts serve --sink obs``: our Compressor filter on the chosen sources,
over obs-websocket (tts_core/obs/ducking.py decides what).

Applied on every new connection (``generation``) and again when an input is created,
renamed or removed; ``remove_all`` takes our filters off at shutdown. Requests used:
GetInputList, GetSourceFilter (one round trip for all inputs), CreateSourceFilter,
SetSourceFilterSettings, RemoveSourceFilter. Only the filter called FILTER_NAME is read
or changed. The calls run on the player thread (``ensure``) or the caller's (``remove_all``);
events only mark the filters to be looked at again.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from tts_core.obs.ducking import (
    FILTER_KIND,
    FILTER_NAME,
    AddFilter,
    Ducking,
    FilterChange,
    RemoveFilter,
    missing_sources,
    plan,
)
from tts_core.obs.remote.client import ObsRequestFailed
from tts_core.obs.remote.connection import ObsConnection

log = logging.getLogger(__name__)

LOOK_AGAIN_EVENTS = ("InputCreated", "InputRemoved", "InputNameChanged", "CurrentSceneCollectionChanged")


class RemoteDucking:
    """Parameters: ``connection`` (ObsConnection), ``sidechain`` (the TTS media source's
    name), ``ducking`` (what to lower, by how much)."""

    def __init__(self, connection: ObsConnection, sidechain: str, ducking: Ducking) -> None:
        self.connection = connection
        self.sidechain = sidechain
        self.ducking = ducking
        self.missing: list[str] = []
        self._applied_at: int | None = None  # the connection (generation) it was applied on
        self._lock = threading.Lock()  # one look-and-change at a time (player thread, shutdown)
        connection.on_event(self._on_event)

    def ensure(self) -> list[FilterChange]:
        """Apply unless applied on this connection; returns the changes made. Raises
        ObsConnectionError (OBS away), ObsRequestFailed (OBS refused a change)."""
        with self._lock:
            generation = self.connection.generation
            if self._applied_at == generation and self.connection.connected:
                return []
            changes = self._apply(self.ducking)
            self._applied_at = generation
        if self.missing:
            log.warning("ducking: OBS has no source %s to lower", ", ".join(repr(m) for m in self.missing))
        return changes

    def remove_all(self) -> int:
        """Take our filter off every source (serve's shutdown); only while connected."""
        with self._lock:
            if not self.connection.connected:
                return 0
            changes = self._apply(Ducking())
            self._applied_at = None
            return len(changes)

    def _apply(self, ducking: Ducking) -> list[FilterChange]:
        call = self.connection.call
        names = [str(i["inputName"]) for i in call("GetInputList")["inputs"]]
        answers = self.connection.call_all(
            [("GetSourceFilter", {"sourceName": name, "filterName": FILTER_NAME}) for name in names])
        ours: dict[str, dict[str, Any]] = {
            name: dict(answer.get("filterSettings") or {})
            for name, answer in zip(names, answers, strict=True) if not isinstance(answer, ObsRequestFailed)}
        changes = plan(ducking, self.sidechain, ours, names)
        for change in changes:
            if isinstance(change, RemoveFilter):
                call("RemoveSourceFilter", sourceName=change.source, filterName=FILTER_NAME)
                log.info("ducking: removed filter %r from %r", FILTER_NAME, change.source)
            elif isinstance(change, AddFilter):
                call("CreateSourceFilter", sourceName=change.source, filterName=FILTER_NAME,
                     filterKind=FILTER_KIND, filterSettings=change.settings)
                log.info("ducking: added filter %r to %r (%s dB threshold, sidechain %r)", FILTER_NAME,
                         change.source, change.settings["threshold"], self.sidechain)
            else:
                call("SetSourceFilterSettings", sourceName=change.source, filterName=FILTER_NAME,
                     filterSettings=change.settings, overlay=True)
                log.info("ducking: updated filter %r on %r", FILTER_NAME, change.source)
        self.missing = missing_sources(ducking, names)
        return changes

    def _on_event(self, name: str, _data: dict[str, Any]) -> None:
        """The connection's receive thread: no requests here, only look again later."""
        if name in LOOK_AGAIN_EVENTS:
            self._applied_at = None
