"""TTSConfig and its sections; JSON load/save in the seed's shape, with validation.

The JSON shape is the seed's, plus optional sections::

    {"tts_queue": {...}, "streamer_bot": {"priorities": {...}, ...},
     "engine": {...}, "listener": {...}}

Every unknown key and every value of the wrong type or out of range is an error
that names the key (``ConfigError``). Checks that apply to every section, including
sections added later: each number must be finite (no NaN or Infinity) and not
negative, unless its field says ``metadata={"negative": True}``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from tts_core.config.alerts import AlertsConfig, AlertSound
from tts_core.config.checks import (
    ConfigError,
    at_least,
    at_most,
    build_section,
    check_types,
    did_you_mean,
    section_kwargs,
)
from tts_core.config.ducking import DuckingConfig
from tts_core.config.legacy import LEGACY_MODERATION_KEYS, legacy_moderation_keys
from tts_core.config.loudness import LoudnessConfig
from tts_core.config.sections import (
    DEFAULT_PRIORITIES,
    EVENT_TYPES,
    PLACEHOLDERS,
    STREAMERBOT_EVENTS,
    ConnectorsConfig,
    EngineConfig,
    ListenerConfig,
    ModerationConfig,
    StreamerBotConfig,
    StreamerBotConnectorConfig,
    VoicesConfig,
)

__all__ = [
    "DEFAULT_PRIORITIES",
    "EVENT_TYPES",
    "LEGACY_MODERATION_KEYS",
    "PLACEHOLDERS",
    "STREAMERBOT_EVENTS",
    "AlertSound",
    "AlertsConfig",
    "ConfigError",
    "ConnectorsConfig",
    "DuckingConfig",
    "EngineConfig",
    "ListenerConfig",
    "LoudnessConfig",
    "ModerationConfig",
    "StreamerBotConfig",
    "StreamerBotConnectorConfig",
    "TTSConfig",
    "VoicesConfig",
    "default_data_dir",
]



@dataclass
class TTSConfig:
    """All settings of a queue. The first four are the seed's.

    Parameters:
      max_queue_size: pending messages before shedding / RuntimeError.
      max_concurrent_workers: synthesis threads (the look-ahead).
      rate_limit_per_minute: engine calls per minute (0 = unlimited).
      enable_priority_queue: False plays strictly in arrival order.
      rate_limit_burst: engine calls allowed at once before the rate applies.
      max_retries: engine retries before a message fails.
      retry_backoff_seconds: first retry delay, doubled each time (capped at 30 s).
      engine_timeout_seconds: an engine call taking longer counts as failed.
      persist: journal messages in SQLite so they survive a crash.
      data_dir: where the journal and clips live (default: per-user data folder).
      max_text_length: longer texts are cut at a word boundary (documented clean-up).
      pause_between_clips_ms: silence between two clips.
      hold_seconds: delay before a message may play (moderators can remove it).
      replay_keep: how many played clips are kept for replay.
      loudness: every voice equally loud (section ``loudness``, tts_core.config.loudness).
      ducking: OBS sources lowered while TTS speaks (section ``ducking``, tts_core.config.ducking).
    """

    max_queue_size: int = 1000
    max_concurrent_workers: int = 3
    rate_limit_per_minute: int = 60
    enable_priority_queue: bool = True
    rate_limit_burst: int = 5
    max_retries: int = 3
    retry_backoff_seconds: float = 0.5
    engine_timeout_seconds: float = 20.0
    persist: bool = False
    data_dir: str | None = None
    max_text_length: int = 500
    pause_between_clips_ms: int = 0
    hold_seconds: float = 0.0
    replay_keep: int = 5
    engine: EngineConfig = field(default_factory=EngineConfig)
    streamer_bot: StreamerBotConfig = field(default_factory=StreamerBotConfig)
    listener: ListenerConfig = field(default_factory=ListenerConfig)
    moderation: ModerationConfig = field(default_factory=ModerationConfig)
    voices: VoicesConfig = field(default_factory=VoicesConfig)
    connectors: ConnectorsConfig = field(default_factory=ConnectorsConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    loudness: LoudnessConfig = field(default_factory=LoudnessConfig)
    ducking: DuckingConfig = field(default_factory=DuckingConfig)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ConfigError naming the first bad setting."""
        check_types(self, "tts_queue")
        for f in fields(self):
            section = getattr(self, f.name)
            if is_dataclass(section):
                check_types(section, f.name)
        at_least(self.max_queue_size, 1, "max_queue_size")
        at_least(self.max_concurrent_workers, 1, "max_concurrent_workers")
        at_most(self.max_concurrent_workers, 32, "max_concurrent_workers")
        at_least(self.rate_limit_per_minute, 0, "rate_limit_per_minute")
        at_least(self.rate_limit_burst, 1, "rate_limit_burst")
        at_least(self.max_retries, 0, "max_retries")
        at_least(self.retry_backoff_seconds, 0, "retry_backoff_seconds")
        if self.engine_timeout_seconds <= 0:
            raise ConfigError("tts_queue.engine_timeout_seconds must be > 0")
        at_least(self.max_text_length, 1, "max_text_length")
        at_least(self.pause_between_clips_ms, 0, "pause_between_clips_ms")
        at_least(self.hold_seconds, 0, "hold_seconds")
        at_least(self.replay_keep, 1, "replay_keep")
        self.engine.validate()
        self.streamer_bot.validate()
        self.listener.validate()
        self.moderation.validate()
        self.voices.validate()
        self.connectors.validate()
        self.alerts.validate()
        self.loudness.validate()
        self.ducking.validate()

    # -- JSON -------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TTSConfig:
        """Build from the seed's JSON shape; every wrong key or type is a ConfigError."""
        if not isinstance(data, dict):
            raise ConfigError(f"config must be a JSON object, got {type(data).__name__}")
        sections = {"tts_queue", "engine", "streamer_bot", "listener", "moderation", "voices", "connectors",
                    "alerts",
                    "loudness", "ducking"}
        for key in data:
            if key not in sections:
                raise ConfigError(f"unknown config section {key!r}{did_you_mean(key, sections)}; "
                                  f"expected {', '.join(sorted(sections))}")
        queue = data.get("tts_queue", {})
        if not isinstance(queue, dict):
            raise ConfigError("tts_queue must be an object")
        kwargs = section_kwargs(cls, queue, "tts_queue", skip={"engine", "streamer_bot", "listener",
                                                                          "moderation", "voices",
                                                                          "connectors", "alerts",
                    "loudness", "ducking"})
        streamer_bot, moderation = legacy_moderation_keys(data.get("streamer_bot", {}),
                                                          data.get("moderation", {}))
        kwargs["engine"] = build_section(EngineConfig, data.get("engine", {}), "engine")
        kwargs["streamer_bot"] = build_section(StreamerBotConfig, streamer_bot, "streamer_bot")
        kwargs["listener"] = build_section(ListenerConfig, data.get("listener", {}), "listener")
        kwargs["moderation"] = build_section(ModerationConfig, moderation, "moderation")
        kwargs["voices"] = build_section(VoicesConfig, data.get("voices", {}), "voices")
        kwargs["connectors"] = ConnectorsConfig.from_dict(data.get("connectors", {}))
        kwargs["alerts"] = AlertsConfig.from_dict(data.get("alerts", {}))
        kwargs["loudness"] = build_section(LoudnessConfig, data.get("loudness", {}), "loudness")
        kwargs["ducking"] = build_section(DuckingConfig, data.get("ducking", {}), "ducking")
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        flat = {
            f.name: getattr(self, f.name) for f in fields(self) if not is_dataclass(getattr(self, f.name))
        }
        return {
            "tts_queue": flat,
            "engine": asdict(self.engine),
            "streamer_bot": asdict(self.streamer_bot),
            "listener": asdict(self.listener),
            "moderation": asdict(self.moderation),
            "voices": asdict(self.voices),
            "connectors": asdict(self.connectors),
            "alerts": self.alerts.to_dict(),
            "loudness": asdict(self.loudness),
            "ducking": asdict(self.ducking),
        }

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TTSConfig:
        """Read a JSON config file; errors name the file and the key."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {p}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{p}: not a text file (not UTF-8 at byte {exc.start})") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if p.suffix.lower() in NOT_JSON_SUFFIXES or TOML_TABLE.match(text):
                raise ConfigError(f"{p}: config files are JSON, this looks like "
                                  f"{NOT_JSON_SUFFIXES.get(p.suffix.lower(), 'TOML')}; write it as JSON, "
                                  'e.g. {"tts_queue": {"max_queue_size": 5}}') from None
            raise ConfigError(f"{p}: invalid JSON at line {exc.lineno}, column {exc.colno}: "
                              f"{exc.msg}") from None
        try:
            return cls.from_dict(data)
        except ConfigError as exc:
            raise ConfigError(f"{p}: {exc}") from None

    def save(self, path: str | os.PathLike[str]) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")


NOT_JSON_SUFFIXES = {".toml": "TOML", ".yaml": "YAML", ".yml": "YAML", ".ini": "INI"}
TOML_TABLE = re.compile(r"\s*(#.*\n\s*)*\[[A-Za-z_][\w.]*\]\s*\n")  # a first line like "[tts_queue]"


def default_data_dir() -> Path:
    """Per-user data folder: $OBS_TTS_DATA_DIR, else the platform's convention."""
    override = os.environ.get("OBS_TTS_DATA_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    return base / "obs-tts-queue"
