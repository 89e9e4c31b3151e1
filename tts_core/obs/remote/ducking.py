"""Ducking for ``obs-tts serve --sink obs``: our Compressor filter on the chosen sources,
over obs-websocket (tts_core/obs/ducking.py decides what).

Applied on every new connection (``generation``) and again when an input is created,
renamed or removed; ``remove_all`` takes our filters off at shutdown. A new config
(``prepare_config``: a part of ``manager.settings``, docs/architecture.md section 3) is
carried out at once when OBS is connected, and ``note`` says what it did. Requests
used: GetInputList, GetSourceFilter (one round trip for all inputs), CreateSourceFilter,
SetSourceFilterSettings, RemoveSourceFilter. Only the filter called FILTER_NAME is read
or changed, and only once ducking has been on in this run (a serve without ducking
leaves every filter alone). The calls run on the player thread (``ensure``) or the
caller's (a config's commit, ``remove_all``); events only mark the filters to be looked
at again.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from tts_core.obs.ducking import (
    FILTER_KIND,
    FILTER_NAME,
    AddFilter,
    Applied,
    Ducking,
    FilterChange,
    RemoveFilter,
    describe,
    make_obs_match,
)
from tts_core.obs.remote.client import ObsConnectionError, ObsRequestFailed
from tts_core.obs.remote.connection import ObsConnection
from tts_core.runtime.settings import Prepared

if TYPE_CHECKING:
    from tts_core.config import TTSConfig

log = logging.getLogger(__name__)

LOOK_AGAIN_EVENTS = ("InputCreated", "InputRemoved", "InputNameChanged", "CurrentSceneCollectionChanged")


class RemoteDucking:
    """Parameters: ``connection`` (ObsConnection), ``sidechain`` (the TTS media source's
    name), ``ducking`` (what to lower, by how much; default: off)."""

    def __init__(self, connection: ObsConnection, sidechain: str, ducking: Ducking | None = None) -> None:
        self.connection = connection
        self.sidechain = sidechain
        self.ducking = ducking or Ducking()
        self.missing: list[str] = []
        self.note = ""  # what the last config change did in OBS ("" when ducking did not change)
        self._in_use = bool(self.ducking.sources)  # ducking has been on in this run
        self._applied_at: int | None = None  # the connection (generation) it was applied on
        self._lock = threading.Lock()  # one look-and-change at a time (player thread, reload, shutdown)
        connection.on_event(self._on_event)

    def ensure(self) -> list[FilterChange]:
        """Apply unless applied on this connection; returns the changes made. Raises
        ObsConnectionError (OBS away), ObsRequestFailed (OBS refused a change)."""
        with self._lock:
            generation = self.connection.generation
            if not self._in_use or (self._applied_at == generation and self.connection.connected):
                return []
            applied = self._apply(self.ducking)
            self._applied_at = generation
        if applied.missing:
            log.warning("ducking: OBS has no source %s to lower", ", ".join(repr(m) for m in applied.missing))
        return list(applied.changes)

    def remove_all(self) -> int:
        """Take our filter off every source (serve's shutdown); only while connected."""
        with self._lock:
            if not self._in_use or not self.connection.connected:
                return 0
            changes = self._apply(Ducking()).changes
            self._applied_at = None
            return len(changes)

    # -- a new config (manager.settings) -------------------------------------------------------

    def prepare_config(self, config: TTSConfig) -> Prepared:
        """Its part of ``manager.reconfigure``: the section ``ducking``. The commit changes
        OBS's filters at once when connected (a few round trips on the caller's thread),
        else on the next connection; it never raises: ``note`` says what happened."""
        wanted = Ducking.from_config(config.ducking)
        return Prepared(lambda: self._commit(wanted))

    def _commit(self, wanted: Ducking) -> None:
        with self._lock:
            if wanted == self.ducking:
                self.note = ""
                return
            self.ducking = wanted
            self._in_use |= bool(wanted.sources)
            self._applied_at = None
            self.note = self._apply_now(wanted) if self._in_use else ""
        log.info("%s", self.note)

    def _apply_now(self, wanted: Ducking) -> str:
        if not self.connection.connected:
            why = self.connection.away or "not connected yet"
            return f"ducking: changes in OBS once it is connected ({why})"
        generation = self.connection.generation
        try:
            applied = self._apply(wanted)
        except ObsRequestFailed as exc:
            return f"ducking: OBS refused a filter change ({exc}); tried again before the next clip"
        except ObsConnectionError as exc:
            return f"ducking: lost OBS while changing the filters ({exc}); changed once it is back"
        self._applied_at = generation
        return f"ducking: {applied.summary()}"

    def _apply(self, ducking: Ducking) -> Applied:
        applied = make_obs_match(ducking, self.sidechain, self._look, self._carry_out)
        self.missing = list(applied.missing)
        return applied

    def _look(self) -> tuple[dict[str, dict[str, Any]], list[str]]:
        names = [str(i["inputName"]) for i in self.connection.call("GetInputList")["inputs"]]
        answers = self.connection.call_all(
            [("GetSourceFilter", {"sourceName": name, "filterName": FILTER_NAME}) for name in names])
        ours = {name: dict(answer.get("filterSettings") or {})
                for name, answer in zip(names, answers, strict=True)
                if not isinstance(answer, ObsRequestFailed)}
        return ours, names

    def _carry_out(self, change: FilterChange) -> None:
        call = self.connection.call
        if isinstance(change, RemoveFilter):
            call("RemoveSourceFilter", sourceName=change.source, filterName=FILTER_NAME)
        elif isinstance(change, AddFilter):
            call("CreateSourceFilter", sourceName=change.source, filterName=FILTER_NAME,
                 filterKind=FILTER_KIND, filterSettings=change.settings)
        else:
            call("SetSourceFilterSettings", sourceName=change.source, filterName=FILTER_NAME,
                 filterSettings=change.settings, overlay=True)
        log.info("ducking: %s", describe(change))

    def _on_event(self, name: str, _data: dict[str, Any]) -> None:
        """The connection's receive thread: no requests here, only look again later."""
        if name in LOOK_AGAIN_EVENTS:
            self._applied_at = None
