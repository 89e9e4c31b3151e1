"""The ``alerts`` section: an optional sound that plays right before an event's speech.

JSON shape (every event type optional; one sound, or tiers by amount)::

    "alerts": {
      "follow": {"file": "/sounds/follow.wav", "volume": 80, "alert_only": true},
      "donation": [{"min_amount": 0, "file": "/sounds/coin.wav"},
                   {"min_amount": 50, "file": "/sounds/fanfare.mp3"}]
    }

``file`` a WAV, MP3, Ogg Vorbis or FLAC file; ``volume`` 0-100 % (below 100 needs a WAV: the PCM of a
copy is scaled, an MP3 is played as it is); ``min_amount`` the smallest amount (donation
amount, cheer bits, raid viewers, gift bomb count) the tier is for; ``alert_only`` plays
the sound and says nothing. The shape is checked here (errors name the key); whether the
file exists and plays is checked where the setting is applied
(``tts_core.runtime.alerts``), so one bad file never keeps the other settings out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from tts_core.config.checks import ConfigError
from tts_core.config.sections import EVENT_TYPES

ALERT_KEYS = ("file", "volume", "min_amount", "alert_only")


@dataclass(frozen=True)
class AlertSound:
    """One alert sound: ``file``, ``volume`` (0-100 %), ``min_amount``, ``alert_only``."""

    file: str
    volume: int = 100
    min_amount: float = 0.0
    alert_only: bool = False

    def as_metadata(self) -> dict[str, Any]:
        """What a message carries (and the journal keeps) to play it."""
        return {"file": self.file, "volume": self.volume}


@dataclass
class AlertsConfig:
    """``sounds``: event type -> its tiers (a list of objects with ALERT_KEYS)."""

    sounds: dict[str, list[dict[str, str | float | bool]]] = field(default_factory=dict)

    def validate(self, prefix: str = "alerts") -> None:
        for event_type in self.sounds:
            self.tiers(event_type, prefix)

    def tiers(self, event_type: str, prefix: str = "alerts") -> tuple[AlertSound, ...]:
        """The sounds of ``event_type``, lowest ``min_amount`` first; ConfigError naming the key."""
        if event_type not in EVENT_TYPES:
            raise ConfigError(f"unknown key {prefix}.{event_type}; expected an event type: "
                              f"{', '.join(EVENT_TYPES)}")
        raw = self.sounds[event_type]
        key = f"{prefix}.{event_type}"
        tiers = [_sound(item, f"{key}[{i}]" if len(raw) > 1 else key) for i, item in enumerate(raw)]
        amounts = [t.min_amount for t in tiers]
        if len(set(amounts)) != len(amounts):
            raise ConfigError(f"{key}: two sounds have the same min_amount")
        return tuple(sorted(tiers, key=lambda t: t.min_amount))

    def all_sounds(self) -> list[tuple[str, AlertSound]]:
        """Every (event type, sound)."""
        return [(event_type, sound) for event_type in self.sounds for sound in self.tiers(event_type)]

    @classmethod
    def from_dict(cls, data: object, prefix: str = "alerts") -> AlertsConfig:
        if not isinstance(data, dict):
            raise ConfigError(f"{prefix} must be an object, got {type(data).__name__}")
        sounds: dict[str, list[dict[str, Any]]] = {}
        for event_type, value in data.items():
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                if not isinstance(item, dict):
                    where = f"{prefix}.{event_type}" + (f"[{i}]" if isinstance(value, list) else "")
                    raise ConfigError(f"{where} must be an object with file and volume, "
                                      f"got {type(item).__name__}")
            sounds[event_type] = [dict(item) for item in items]
        config = cls(sounds)
        config.validate(prefix)
        return config

    def to_dict(self) -> dict[str, Any]:
        """One sound as an object, tiers as a list (the shape ``from_dict`` reads)."""
        return {event_type: (items[0] if len(items) == 1 else list(items)) for event_type, items in
                self.sounds.items()}


def _sound(item: object, key: str) -> AlertSound:
    if not isinstance(item, dict):
        raise ConfigError(f"{key} must be an object with file and volume, got {type(item).__name__}")
    for name in item:
        if name not in ALERT_KEYS:
            raise ConfigError(f"unknown key {key}.{name}; expected one of {', '.join(ALERT_KEYS)}")
    file = item.get("file")
    if not isinstance(file, str) or not file.strip():
        raise ConfigError(f"{key}.file must be the path of a WAV, MP3, Ogg Vorbis or FLAC file, got {file!r}")
    volume = item.get("volume", 100)
    if isinstance(volume, bool) or not isinstance(volume, (int, float)) or not 0 <= volume <= 100:
        raise ConfigError(f"{key}.volume must be a number from 0 to 100 (percent), got {volume!r}")
    amount = item.get("min_amount", 0)
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount) \
            or amount < 0:
        raise ConfigError(f"{key}.min_amount must be a number >= 0, got {amount!r}")
    alert_only = item.get("alert_only", False)
    if not isinstance(alert_only, bool):
        raise ConfigError(f"{key}.alert_only must be true or false, got {alert_only!r}")
    return AlertSound(file.strip(), round(volume), float(amount), alert_only)


def sound_for(alerts: AlertsConfig, event_type: str, amount: float | None) -> AlertSound | None:
    """The sound of ``event_type`` for ``amount``: the tier with the highest ``min_amount``
    not above it (no amount counts as 0), or None."""
    if event_type not in alerts.sounds:
        return None
    chosen = None
    for tier in alerts.tiers(event_type):
        if tier.min_amount <= (amount or 0):
            chosen = tier
    return chosen
