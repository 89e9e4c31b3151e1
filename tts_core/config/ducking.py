"""Ducking: the config section ``ducking`` (docs/obs.md, "Ducking"; tts_core.obs.ducking carries it out).

JSON shape::

    "ducking": {"sources": ["Music", "Game Capture"], "db": 12, "attack_ms": 5, "release_ms": 60}

The OBS panel's Ducking group (``ducking_sources``, ``ducking_db``, ...) is mapped onto
this section (tts_core/obs/script/settings.py), and ``obs-tts serve --duck ...``
overrides it; both apply it through the one settings path (docs/architecture.md, section 3).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tts_core.config.checks import ConfigError

DB_RANGE = (1, 20)  # 20 dB puts the Compressor's threshold at -58.6 dB (OBS's lowest: -60)
ATTACK_MS_RANGE = (1, 500)  # OBS's ranges for the Compressor's attack and release
RELEASE_MS_RANGE = (1, 1000)
DEFAULT_DB = 12
DEFAULT_ATTACK_MS = 5
DEFAULT_RELEASE_MS = 60
# key -> (range, unit, what it does), for the error messages
NUMBERS = {"db": (DB_RANGE, "dB", "how much the sources go down"),
           "attack_ms": (ATTACK_MS_RANGE, "ms", "how fast they go down"),
           "release_ms": (RELEASE_MS_RANGE, "ms", "how fast they come back")}


@dataclass
class DuckingConfig:
    """``sources``: the OBS sources (names, as in OBS) lowered while TTS speaks; empty:
    ducking is off. ``db``: by how much (at least, while the speech is at its usual
    level), ``attack_ms``: how fast they go down, ``release_ms``: how fast they come back."""

    sources: list[str] = field(default_factory=list)
    db: int = DEFAULT_DB
    attack_ms: int = DEFAULT_ATTACK_MS
    release_ms: int = DEFAULT_RELEASE_MS

    def validate(self, prefix: str = "ducking") -> None:
        """Raise ConfigError naming the first wrong key and its value."""
        seen: set[str] = set()
        for i, name in enumerate(self.sources):
            if not name.strip():
                raise ConfigError(f"{prefix}.sources[{i}] is empty; expected the name of an OBS source "
                                  "(e.g. \"Music\")")
            if name.strip() in seen:
                raise ConfigError(f"{prefix}.sources[{i}]: {name.strip()!r} is listed twice")
            seen.add(name.strip())
        check_numbers(self.db, self.attack_ms, self.release_ms, prefix)

    def chosen_sources(self) -> tuple[str, ...]:
        """The source names, without surrounding blanks."""
        return tuple(name.strip() for name in self.sources)

    @classmethod
    def clamped(cls, sources: Iterable[str], db: float, attack_ms: float, release_ms: float) -> DuckingConfig:
        """From the OBS panel's values: numbers kept inside their ranges (a hand-edited or
        older scene collection), ``sources`` without blanks or repeats."""
        def clamp(value: float, bounds: tuple[int, int]) -> int:
            return int(min(max(round(value), bounds[0]), bounds[1]))

        names = list(dict.fromkeys(s.strip() for s in sources if s.strip()))
        return cls(names, clamp(db, DB_RANGE), clamp(attack_ms, ATTACK_MS_RANGE),
                   clamp(release_ms, RELEASE_MS_RANGE))


def check_numbers(db: float, attack_ms: float, release_ms: float, prefix: str = "ducking") -> None:
    """Each number inside its range; ConfigError naming ``prefix.key`` and the value."""
    for key, value in (("db", db), ("attack_ms", attack_ms), ("release_ms", release_ms)):
        (low, high), unit, what = NUMBERS[key]
        if not low <= value <= high:
            raise ConfigError(f"{prefix}.{key} ({what}) must be {low} to {high} {unit}, got {value!r}")
