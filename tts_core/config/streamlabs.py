"""The Streamlabs connector's settings (config section ``connectors.streamlabs``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tts_core.config.checks import ConfigError

STREAMLABS_URL = "https://sockets.streamlabs.com"


@dataclass
class StreamlabsConnectorConfig:
    """The Streamlabs connector (docs/connectors.md, Streamlabs): ``enabled`` (off by
    default), ``socket_token`` (the *Socket API Token* of the streamer's Streamlabs
    account; never logged or shown), ``reward_titles`` (the Cloudbot loyalty store items
    whose viewer message is read) and ``url`` (Streamlabs' socket server; tests and
    proxies only)."""

    enabled: bool = False
    socket_token: str = ""
    reward_titles: list[str] = field(default_factory=list)
    url: str = STREAMLABS_URL

    def __repr__(self) -> str:
        return (f"StreamlabsConnectorConfig(enabled={self.enabled!r}, "
                f"socket_token={'***' if self.socket_token else ''!r}, "
                f"reward_titles={self.reward_titles!r}, url={self.url!r})")

    def validate(self, prefix: str = "connectors.streamlabs") -> None:
        """Raise ConfigError naming the first wrong key (``prefix``: where the section is)."""
        if not self.url.startswith(("http://", "https://")) or len(self.url) <= len("https://"):
            raise ConfigError(f"{prefix}.url must be an http(s) address such as {STREAMLABS_URL}, "
                              f"got {self.url!r}")
        if "?" in self.url:
            raise ConfigError(f"{prefix}.url must not carry a query (the token goes in "
                              f"{prefix}.socket_token), got an address with '?'")
        for i, title in enumerate(self.reward_titles):
            if not title.strip():
                raise ConfigError(f"{prefix}.reward_titles[{i}] is empty")
