"""The panel's "Alert sounds" group: its settings keys and their mapping to ``config.alerts``.

A sound file and a volume per event type; donations have three tiers (the second and
third from an amount); a follow can play its sound alone. The keys are stored in users'
scene collections, so they never change meaning. Event types the panel does not show
keep the sounds of the config they are applied to.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tts_core.config import AlertsConfig, TTSConfig

# (event type, label) of the single-sound rows, in panel order.
ALERT_EVENTS = (("subscription", "Subscription"), ("follow", "Follow"), ("raid", "Raid"), ("cheer", "Cheer"))
DONATION_TIERS = 3  # tier 1 for every donation, tiers 2 and 3 from their amount


@dataclass(frozen=True)
class AlertSetting:
    key: str
    kind: type
    default: Any


def _alert_settings() -> tuple[AlertSetting, ...]:
    out = [AlertSetting("alert_donation_file", str, ""), AlertSetting("alert_donation_volume", int, 100)]
    for tier in range(2, DONATION_TIERS + 1):
        out += [AlertSetting(f"alert_donation_{tier}_from", float, 0.0),  # 0 = tier not used
                AlertSetting(f"alert_donation_{tier}_file", str, ""),
                AlertSetting(f"alert_donation_{tier}_volume", int, 100)]
    for event_type, _ in ALERT_EVENTS:
        out += [AlertSetting(f"alert_{event_type}_file", str, ""),
                AlertSetting(f"alert_{event_type}_volume", int, 100)]
    out.append(AlertSetting("alert_follow_only", bool, False))  # the sound alone, nothing said
    return tuple(out)


ALERT_SETTINGS = _alert_settings()


def apply_alert_settings(v: Mapping[str, Any], config: TTSConfig) -> None:
    """The "Alert sounds" group -> ``config.alerts`` (files are checked when it is applied)."""
    shown = {"donation", *(event_type for event_type, _ in ALERT_EVENTS)}
    sounds = {k: items for k, items in config.alerts.sounds.items() if k not in shown}
    donation = []
    if v["alert_donation_file"]:
        donation.append({"min_amount": 0, "file": v["alert_donation_file"],
                         "volume": _volume(v["alert_donation_volume"])})
    for tier in range(2, DONATION_TIERS + 1):
        start, file = v[f"alert_donation_{tier}_from"], v[f"alert_donation_{tier}_file"]
        if file and start > 0 and all(item["min_amount"] != start for item in donation):
            donation.append({"min_amount": start, "file": file,
                             "volume": _volume(v[f"alert_donation_{tier}_volume"])})
    if donation:
        sounds["donation"] = donation
    for event_type, _ in ALERT_EVENTS:
        file = v[f"alert_{event_type}_file"]
        if file:
            volume = _volume(v[f"alert_{event_type}_volume"])
            item: dict[str, str | float | bool] = {"file": file, "volume": volume}
            if event_type == "follow" and v["alert_follow_only"]:
                item["alert_only"] = True
            sounds[event_type] = [item]
    config.alerts = AlertsConfig(sounds)


def _volume(value: int) -> int:
    return max(0, min(int(value), 100))
