"""Ducking: lower the streamer's chosen audio sources while the TTS speaks (pure decisions).

OBS's own Compressor filter does the work: the script (or ``obs-tts serve``) adds one
Compressor of its own, named ``FILTER_NAME``, to each chosen source, with the TTS media
source as its sidechain. This module decides what that filter's settings are and which
filters to add, update or remove, given what OBS has; ``obs/script/ducking.py`` and
``obs/remote/ducking.py`` carry the decisions out. A filter with any other name, even
another compressor, is never touched.

The mapping (docs/obs.md, "Ducking"): the Compressor lowers its source by
``(1 - 1/ratio) * (envelope - threshold)`` dB while the sidechain's peak envelope is
above ``threshold`` (OBS 29 ``plugins/obs-filters/compressor-filter.c``); there is no
"lower by N dB" knob. With the ratio at OBS's maximum (32:1), the threshold is put
``depth / slope`` dB below ``SPEECH_LEVEL_DB``, the envelope level speech stays above
while it is spoken (espeak-ng at full volume: about 95 % of the time with a 60 ms
release). So speech at that level lowers the source by ``depth`` dB, louder speech
lowers it more, and silence (no clip) leaves it untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tts_core.config.ducking import (
    DEFAULT_ATTACK_MS,
    DEFAULT_DB,
    DEFAULT_RELEASE_MS,
    DuckingConfig,
    check_numbers,
)

FILTER_NAME = "TTS ducking (OBS TTS Queue)"
FILTER_KIND = "compressor_filter"
SPEECH_LEVEL_DB = -38.0  # peak envelope (dBFS) the TTS speech stays above while speaking
RATIO = 32.0  # OBS's maximum: the gain follows the sidechain almost dB for dB
MIN_THRESHOLD_DB = -60.0  # OBS's range for the Compressor's threshold
# OBS 29's Compressor defaults: what a filter has for a key obs-websocket leaves out
COMPRESSOR_DEFAULTS = {"ratio": 10.0, "threshold": -18.0, "attack_time": 6, "release_time": 60,
                       "output_gain": 0.0, "sidechain_source": ""}
FLOAT_TOLERANCE = 0.01


@dataclass(frozen=True)
class Ducking:
    """What the streamer chose: ``sources`` to lower (names; empty: ducking is off),
    ``depth_db`` (at least this much while speech is at SPEECH_LEVEL_DB or louder),
    ``attack_ms`` (how fast they go down), ``release_ms`` (how fast they come back).
    The ranges and defaults are the config section's (tts_core/config/ducking.py)."""

    sources: tuple[str, ...] = ()
    depth_db: int = DEFAULT_DB
    attack_ms: int = DEFAULT_ATTACK_MS
    release_ms: int = DEFAULT_RELEASE_MS

    def __post_init__(self) -> None:
        check_numbers(self.depth_db, self.attack_ms, self.release_ms)

    @classmethod
    def from_config(cls, section: DuckingConfig) -> Ducking:
        """From the config section ``ducking`` (the file, ``serve``'s flags, the OBS panel)."""
        return cls(tuple(dict.fromkeys(section.chosen_sources())), section.db, section.attack_ms,
                   section.release_ms)

    @property
    def threshold_db(self) -> float:
        slope = 1.0 - 1.0 / RATIO
        return round(max(MIN_THRESHOLD_DB, SPEECH_LEVEL_DB - self.depth_db / slope), 1)

    def filter_settings(self, sidechain: str) -> dict[str, Any]:
        """The Compressor's settings, with the TTS media source ``sidechain``."""
        return {"ratio": RATIO, "threshold": self.threshold_db, "attack_time": self.attack_ms,
                "release_time": self.release_ms, "output_gain": 0.0, "sidechain_source": sidechain}


def parse_sources(text: str) -> list[str]:
    """Source names from the stored setting: one per line (names may hold commas)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def join_sources(names: Iterable[str]) -> str:
    return "\n".join(dict.fromkeys(n.strip() for n in names if n.strip()))


@dataclass(frozen=True)
class AddFilter:
    source: str
    settings: dict[str, Any]


@dataclass(frozen=True)
class UpdateFilter:
    source: str
    settings: dict[str, Any]


@dataclass(frozen=True)
class RemoveFilter:
    source: str


FilterChange = AddFilter | UpdateFilter | RemoveFilter


def plan(ducking: Ducking, sidechain: str, ours: Mapping[str, Mapping[str, Any] | None],
         existing: Iterable[str]) -> list[FilterChange]:
    """The changes that make OBS match ``ducking``.

    Parameters: ``sidechain`` (the TTS media source's name), ``ours`` (source name ->
    the settings of our filter on it, for every source that has one), ``existing``
    (names of the sources OBS has now; a chosen source that is missing gets its filter
    when it appears). Removals come first; nothing else is ever touched.
    """
    present = set(existing)
    wanted = [s for s in ducking.sources if s in present and s != sidechain]
    settings = ducking.filter_settings(sidechain)
    changes: list[FilterChange] = [RemoveFilter(s) for s in sorted(ours) if s not in wanted]
    for source in wanted:
        current = ours.get(source)
        if source not in ours or current is None:
            changes.append(AddFilter(source, settings))
        elif not same_settings(current, settings):
            changes.append(UpdateFilter(source, settings))
    return changes


def same_settings(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether a filter's settings already are ``wanted`` (numbers within FLOAT_TOLERANCE;
    a key the filter does not list has OBS's default)."""
    current = {**COMPRESSOR_DEFAULTS, **current}
    for key, value in wanted.items():
        have = current.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not isinstance(have, (int, float)) or abs(float(have) - float(value)) > FLOAT_TOLERANCE:
                return False
        elif have != value:
            return False
    return True


def missing_sources(ducking: Ducking, existing: Iterable[str]) -> list[str]:
    """The chosen sources OBS does not have (renamed or deleted), for the status."""
    present = set(existing)
    return [s for s in ducking.sources if s not in present]


@dataclass(frozen=True)
class Applied:
    """What one look-and-change did: ``changes`` made, ``ducked`` (the sources that carry
    our filter now), ``missing`` (chosen sources OBS does not have)."""

    changes: tuple[FilterChange, ...]
    ducked: tuple[str, ...]
    missing: tuple[str, ...]

    def summary(self) -> str:
        """One line for the streamer: what changed in OBS, and what could not be lowered."""
        done = [describe(change) for change in self.changes] or ["OBS's filters already matched"]
        if self.missing:
            done.append(f"OBS has no source {', '.join(repr(m) for m in self.missing)} to lower")
        return "; ".join(done)


def describe(change: FilterChange) -> str:
    """A change in the streamer's words (the log lines, the reload's reply)."""
    if isinstance(change, RemoveFilter):
        return f"removed our filter from {change.source!r}"
    verb = "added our filter to" if isinstance(change, AddFilter) else "updated our filter on"
    s = change.settings
    return (f"{verb} {change.source!r} ({s['threshold']} dB threshold, attack {s['attack_time']} ms, "
            f"release {s['release_time']} ms, sidechain {s['sidechain_source']!r})")


Look = Callable[[], tuple[Mapping[str, Mapping[str, Any] | None], list[str]]]


def make_obs_match(ducking: Ducking, sidechain: str, look: Look,
                   carry_out: Callable[[FilterChange], None]) -> Applied:
    """The one look-and-change both sides share (in OBS: obspython; ``serve``: obs-websocket):
    ``look()`` returns (source name -> our filter's settings, every source's name), then
    ``carry_out`` makes each of ``plan``'s changes."""
    ours, existing = look()
    changes = plan(ducking, sidechain, ours, existing)
    for change in changes:
        carry_out(change)
    removed = {c.source for c in changes if isinstance(c, RemoveFilter)}
    added = {c.source for c in changes if isinstance(c, AddFilter)}
    ducked = sorted((set(ours) - removed) | added, key=str.casefold)
    return Applied(tuple(changes), tuple(ducked), tuple(missing_sources(ducking, existing)))
