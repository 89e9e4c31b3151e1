"""The StreamElements connector's settings (config section ``connectors.streamelements``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tts_core.config.checks import ConfigError, one_of

ASTRO_URL = "wss://astro.streamelements.com/"
TOKEN_TYPES = ("jwt", "oauth2", "apikey")
# The StreamElements activity types the connector reads (connectors.streamelements.events).
STREAMELEMENTS_EVENTS = ("tip", "follow", "subscriber", "communityGiftPurchase", "cheer", "raid",
                         "channelPointsRedemption")


@dataclass
class StreamElementsConnectorConfig:
    """The StreamElements connector (docs/connectors.md, StreamElements): ``token`` and
    its ``token_type`` (``jwt``: the dashboard's JWT Token, ``oauth2``, or ``apikey``: the
    overlay token; never logged or shown), ``channel_id`` (the StreamElements account
    id; empty: the token's channel), ``events`` to take (activity types; empty = all),
    ``reward_titles`` (channel point rewards whose viewer input is read) and ``url``
    (StreamElements' Astro gateway; tests and proxies only)."""

    enabled: bool = False
    token: str = ""
    token_type: str = "jwt"
    channel_id: str = ""
    events: list[str] = field(default_factory=list)
    reward_titles: list[str] = field(default_factory=list)
    url: str = ASTRO_URL

    def __repr__(self) -> str:
        return (f"StreamElementsConnectorConfig(enabled={self.enabled!r}, "
                f"token={'***' if self.token else ''!r}, token_type={self.token_type!r}, "
                f"channel_id={self.channel_id!r}, events={self.events!r}, "
                f"reward_titles={self.reward_titles!r}, url={self.url!r})")

    def validate(self, prefix: str = "connectors.streamelements") -> None:
        if not self.url.startswith(("ws://", "wss://")) or len(self.url) <= len("wss://"):
            raise ConfigError(f"{prefix}.url must be a WebSocket address such as {ASTRO_URL}, "
                              f"got {self.url!r}")
        one_of(self.token_type, TOKEN_TYPES, f"{prefix}.token_type")
        if any(c.isspace() for c in self.channel_id.strip()):
            raise ConfigError(f"{prefix}.channel_id must be one id without spaces, got {self.channel_id!r}")
        for i, name in enumerate(self.events):
            if name not in STREAMELEMENTS_EVENTS:
                raise ConfigError(f"{prefix}.events[{i}]: unknown event {name!r}; expected one of "
                                  f"{', '.join(STREAMELEMENTS_EVENTS)}")
        for i, title in enumerate(self.reward_titles):
            if not title.strip():
                raise ConfigError(f"{prefix}.reward_titles[{i}] is empty")

    def takes(self, kind: str) -> bool:
        """Whether the activity type ``kind`` is wanted (``events``; empty = all)."""
        return not self.events or kind in self.events
