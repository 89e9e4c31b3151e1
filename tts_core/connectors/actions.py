"""What a connector asks of the event translator for one platform event (pure values)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Speak:
    """Queue ``event_type`` with ``fields`` (StreamerBotIntegration.submit, the listener's format)."""

    event_type: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Remove:
    """Remove pending messages: ``kind`` chat_deleted, user_banned or user_timeout."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)


Action = Speak | Remove
