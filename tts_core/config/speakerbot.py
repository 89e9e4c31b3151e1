"""The Speaker.bot-compatible server's settings (config section ``connectors.speakerbot``)."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from tts_core.config.checks import ConfigError, check_host

PREFIX = "connectors.speakerbot"


@dataclass(frozen=True)
class SpeakerbotSettings:
    """Where the server listens and how much it takes.

    ``enabled`` (off by default), ``host`` (127.0.0.1: this PC only), ``port`` (WebSocket,
    7580 as Streamer.bot expects), ``udp_port`` (6669 for "Speak (UDP)" and
    ``CPH.TtsSpeak``; 0 = off), ``max_frame_bytes`` (a larger request or datagram is
    refused), ``max_requests_per_second`` (per WebSocket connection; beyond it a request
    gets an error reply), ``max_datagrams_per_second`` (all UDP senders together; beyond
    it datagrams are dropped and logged), ``max_connections`` (WebSocket clients at once).
    """

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 7580
    udp_port: int = 6669
    max_frame_bytes: int = 65536
    max_requests_per_second: float = 50.0
    max_datagrams_per_second: float = 50.0
    max_connections: int = 10

    @classmethod
    def from_dict(cls, data: object) -> SpeakerbotSettings:
        """Settings from the JSON object ``data`` (missing keys: defaults). Raises
        ConfigError naming the key (``connectors.speakerbot.port ...``)."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ConfigError(f"{PREFIX} must be an object, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                expected = ", ".join(sorted(known))
                raise ConfigError(f"{PREFIX}: unknown key {key!r}; expected one of {expected}")
        settings = cls(**dict(data))
        settings.validate()
        return settings

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def validate(self, prefix: str = PREFIX) -> None:
        """Raise ConfigError naming the first wrong key (``prefix``: where the section is)."""
        if not isinstance(self.enabled, bool):
            raise ConfigError(f"{prefix}.enabled must be true or false, got {self.enabled!r}")
        _check_host(self.host, f"{prefix}.host", prefix)
        for key in ("port", "udp_port"):
            value = getattr(self, key)
            if not _is_int(value) or not 0 <= value <= 65535:
                raise ConfigError(f"{prefix}.{key} must be a port number 0-65535, got {value!r}")
        if not _is_int(self.max_frame_bytes) or not 256 <= self.max_frame_bytes <= 16 * 1024 * 1024:
            raise ConfigError(f"{prefix}.max_frame_bytes must be 256-16777216 bytes, "
                              f"got {self.max_frame_bytes!r}")
        for key in ("max_requests_per_second", "max_datagrams_per_second"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value < 0:
                raise ConfigError(f"{prefix}.{key} must be a number >= 0 (0 = unlimited), got {value!r}")
        if not _is_int(self.max_connections) or self.max_connections < 1:
            raise ConfigError(f"{prefix}.max_connections must be an integer >= 1, "
                              f"got {self.max_connections!r}")

    @property
    def loopback(self) -> bool:
        """True if only programs on this PC can reach the server."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_host(host: object, key: str, prefix: str) -> None:
    if isinstance(host, str) and ":" in host:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ConfigError(f"{key} must be an IP address or host name; the port goes in {prefix}.port, "
                              f"got {host!r}") from None
        return
    check_host(host, key)
