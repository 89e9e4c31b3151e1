"""Ducking inside OBS: keep our Compressor filter on the chosen sources (tts_core/obs/ducking.py decides).

``DuckingKeeper`` runs on OBS's threads only: ``tick`` on the graphics thread (the
pump), ``remove_all`` on the UI thread at script unload. The control thread hands it new
settings with ``want`` (a plain attribute swap, no obspython). Each look enumerates the
sources once, reads the settings of the filter called ``FILTER_NAME`` on each (never
another filter), and carries out ``plan``'s changes. Every source, filter and obs_data
reference taken here is released before the call returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tts_core.obs.ducking import (
    FILTER_KIND,
    FILTER_NAME,
    Ducking,
    FilterChange,
    RemoveFilter,
    UpdateFilter,
    describe,
    make_obs_match,
)
from tts_core.obs.script.api import ObsApi
from tts_core.runtime.settings import Prepared

if TYPE_CHECKING:
    from tts_core.config import TTSConfig

log = logging.getLogger(__name__)

CHECK_SECONDS = 2.0  # how often the filters are looked at without a change of settings
OBS_SOURCE_AUDIO = 1 << 1  # obs_source_info.output_flags: the source has audio


class DuckingKeeper:
    """Parameters: ``api`` (ObsApi), ``sidechain`` (returns the TTS media source's name
    now), ``check_every_s``."""

    def __init__(self, api: ObsApi, sidechain: Callable[[], str],
                 check_every_s: float = CHECK_SECONDS) -> None:
        self.api = api
        self.obs = api.obs
        self.sidechain = sidechain
        self.check_every_s = check_every_s
        self.wanted = Ducking()
        self.missing: list[str] = []  # chosen sources OBS does not have (for the status)
        self.ducked: list[str] = []  # sources that carry our filter after the last look
        self._changed = True
        self._checked_at: float | None = None
        self._last_sidechain = ""

    # -- any thread -------------------------------------------------------------------------

    def want(self, ducking: Ducking) -> None:
        """Use ``ducking`` from the next frame on (the control thread calls this)."""
        if ducking != self.wanted:
            self.wanted = ducking
            self._changed = True

    def prepare_config(self, config: TTSConfig) -> Prepared:
        """Its part of ``manager.reconfigure``: the section ``ducking`` (the panel's Ducking
        group, tts_core/obs/script/settings.py), used from the next frame on."""
        wanted = Ducking.from_config(config.ducking)
        return Prepared(lambda: self.want(wanted))

    def status_line(self) -> str:
        """One line for the panel's status ("" when ducking is off)."""
        if not self.wanted.sources:
            return ""
        ducked = ", ".join(self.ducked) or "nothing yet"
        line = f"Ducking {ducked} by {self.wanted.depth_db} dB while TTS speaks"
        if self.missing:
            line += f"; not in OBS: {', '.join(self.missing)} (renamed or deleted?)"
        return line

    # -- OBS's graphics thread (the pump's tick) ----------------------------------------------------

    def tick(self, now: float) -> None:
        """Look at the filters when the settings or the TTS source changed, and every
        ``check_every_s`` while ducking is on (a chosen source that appears, a filter
        deleted by hand); the first look also finds filters of ours an earlier run left."""
        sidechain = self.sidechain()
        idle = not self.wanted.sources and not self.ducked  # off, none of ours left: no need to look
        due = self._checked_at is None or (not idle and now - self._checked_at >= self.check_every_s)
        if not (self._changed or due or sidechain != self._last_sidechain):
            return
        self._changed = False
        self._checked_at = now
        self._last_sidechain = sidechain
        self.apply(self.wanted, sidechain)

    def apply(self, ducking: Ducking, sidechain: str) -> list[FilterChange]:
        """Make OBS match ``ducking``; returns the changes made."""
        applied = make_obs_match(ducking, sidechain, self._look, self._carry_out)
        self.missing = list(applied.missing)
        self.ducked = list(applied.ducked)
        return list(applied.changes)

    # -- OBS's UI thread --------------------------------------------------------------------------

    def remove_all(self) -> int:
        """Remove our filter from every source (script unload); returns how many."""
        return len(self.apply(Ducking(), ""))

    # -- obspython -----------------------------------------------------------------------------

    def _look(self) -> tuple[dict[str, dict[str, Any]], list[str]]:
        """(source name -> our filter's settings, for the sources that have it; every source's name)."""
        obs = self.obs
        ours: dict[str, dict[str, Any]] = {}
        names: list[str] = []
        sources = obs.obs_enum_sources()
        try:
            for src in sources or []:
                name = str(obs.obs_source_get_name(src))
                names.append(name)
                with self._our_filter(src) as found:
                    if found is not None:
                        ours[name] = self._settings_of(found)
        finally:
            obs.source_list_release(sources)
        return ours, names

    @contextmanager
    def _our_filter(self, src: Any) -> Iterator[Any]:
        """Our filter on the source ``src`` (None: it has none), released afterwards."""
        found = self.obs.obs_source_get_filter_by_name(src, FILTER_NAME)
        try:
            yield found
        finally:
            if found is not None:
                self.obs.obs_source_release(found)

    def _settings_of(self, filter_source: Any) -> dict[str, Any]:
        obs = self.obs
        data = obs.obs_source_get_settings(filter_source)
        try:
            return {"ratio": obs.obs_data_get_double(data, "ratio"),
                    "threshold": obs.obs_data_get_double(data, "threshold"),
                    "attack_time": obs.obs_data_get_int(data, "attack_time"),
                    "release_time": obs.obs_data_get_int(data, "release_time"),
                    "output_gain": obs.obs_data_get_double(data, "output_gain"),
                    "sidechain_source": obs.obs_data_get_string(data, "sidechain_source")}
        finally:
            obs.obs_data_release(data)

    def _carry_out(self, change: FilterChange) -> None:
        obs = self.obs
        with self.api.source(change.source) as src:
            if src is None:
                return
            if isinstance(change, (RemoveFilter, UpdateFilter)):
                with self._our_filter(src) as found:
                    if found is None:
                        return
                    if isinstance(change, RemoveFilter):
                        obs.obs_source_filter_remove(src, found)
                    else:
                        data = _data(obs, change.settings)
                        try:
                            obs.obs_source_update(found, data)
                        finally:
                            obs.obs_data_release(data)
                log.info("ducking: %s", describe(change))
                return
            data = _data(obs, change.settings)
            try:  # as OBS's Filters dialog does
                created = obs.obs_source_create(FILTER_KIND, FILTER_NAME, data, None)
            finally:
                obs.obs_data_release(data)
            if created is None:
                log.warning("ducking: OBS could not create a Compressor filter for %r", change.source)
                return
            obs.obs_source_filter_add(src, created)
            obs.obs_source_release(created)
            log.info("ducking: %s", describe(change))


def audio_source_names(api: ObsApi, excluding: str = "") -> list[str]:
    """Names of the sources with audio (the ones ducking can lower), sorted; not ``excluding``."""
    obs = api.obs
    sources = obs.obs_enum_sources()
    try:
        names = [str(obs.obs_source_get_name(s)) for s in sources or []
                 if int(obs.obs_source_get_output_flags(s)) & OBS_SOURCE_AUDIO]
    finally:
        obs.source_list_release(sources)
    return sorted((n for n in names if n != excluding), key=str.casefold)


def _data(obs: Any, values: dict[str, Any]) -> Any:
    data = obs.obs_data_create()
    for key, value in values.items():
        if isinstance(value, float):
            obs.obs_data_set_double(data, key, value)
        elif isinstance(value, int):
            obs.obs_data_set_int(data, key, value)
        else:
            obs.obs_data_set_string(data, key, str(value))
    return data
