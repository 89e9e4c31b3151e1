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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

FILTER_NAME = "TTS ducking (OBS TTS Queue)"
FILTER_KIND = "compressor_filter"
SPEECH_LEVEL_DB = -38.0  # peak envelope (dBFS) the TTS speech stays above while speaking
RATIO = 32.0  # OBS's maximum: the gain follows the sidechain almost dB for dB
MIN_THRESHOLD_DB = -60.0  # OBS's range for the Compressor's threshold
DEPTH_RANGE_DB = (1, 20)  # 20 dB puts the threshold at -58.6 dB (OBS's lowest: -60)
ATTACK_RANGE_MS = (1, 500)  # OBS's ranges for attack and release
RELEASE_RANGE_MS = (1, 1000)
DEFAULT_DEPTH_DB = 12
DEFAULT_ATTACK_MS = 5
DEFAULT_RELEASE_MS = 60
# OBS 29's Compressor defaults: what a filter has for a key obs-websocket leaves out
COMPRESSOR_DEFAULTS = {"ratio": 10.0, "threshold": -18.0, "attack_time": 6, "release_time": 60,
                       "output_gain": 0.0, "sidechain_source": ""}
FLOAT_TOLERANCE = 0.01


@dataclass(frozen=True)
class Ducking:
    """What the streamer chose: ``sources`` to lower (names; empty: ducking is off),
    ``depth_db`` (at least this much while speech is at SPEECH_LEVEL_DB or louder),
    ``attack_ms`` (how fast they go down), ``release_ms`` (how fast they come back)."""

    sources: tuple[str, ...] = ()
    depth_db: int = DEFAULT_DEPTH_DB
    attack_ms: int = DEFAULT_ATTACK_MS
    release_ms: int = DEFAULT_RELEASE_MS

    def __post_init__(self) -> None:
        for name, value, (low, high) in (("depth_db", self.depth_db, DEPTH_RANGE_DB),
                                         ("attack_ms", self.attack_ms, ATTACK_RANGE_MS),
                                         ("release_ms", self.release_ms, RELEASE_RANGE_MS)):
            if not low <= value <= high:
                raise ValueError(f"ducking {name} must be between {low} and {high}, got {value}")

    @classmethod
    def clamped(cls, sources: Iterable[str], depth_db: float, attack_ms: float, release_ms: float) -> Ducking:
        """From panel values (kept inside OBS's ranges); ``sources`` without blanks or repeats."""
        def clamp(value: float, bounds: tuple[int, int]) -> int:
            return int(min(max(round(value), bounds[0]), bounds[1]))

        names = tuple(dict.fromkeys(s.strip() for s in sources if s.strip()))
        return cls(names, clamp(depth_db, DEPTH_RANGE_DB), clamp(attack_ms, ATTACK_RANGE_MS),
                   clamp(release_ms, RELEASE_RANGE_MS))

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
