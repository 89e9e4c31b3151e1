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

import ipaddress
import json
import math
import os
import re
import string
import sys
import types
import typing
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from tts_core.domain.moderation import CENSOR_WORD, LINK_WORD, ApprovalRule, BadWordAction, LinkAction

EVENT_TYPES = ("donation", "subscription", "follow", "raid", "cheer", "chat", "command", "tts")

DEFAULT_PRIORITIES = {
    "donation": "HIGH",
    "subscription": "HIGH",
    "follow": "HIGH",
    "raid": "HIGH",
    "cheer": "HIGH",
    "command": "NORMAL",
    "tts": "NORMAL",
    "chat": "LOW",
}


# The words a speech template may use (streamer_bot.templates), e.g. "{username} donated {amount}".
PLACEHOLDERS = (
    "username", "message", "amount", "currency", "months", "months_phrase", "tier", "gift",
    "gifter", "viewers", "viewers_phrase", "bits", "bits_phrase",
)

# Chat bots whose messages are never read aloud (names compared case-insensitively).
DEFAULT_IGNORED_USERS = (
    "nightbot", "streamelements", "streamlabs", "moobot", "fossabot", "wizebot", "sery_bot",
)


class ConfigError(ValueError):
    """A configuration key is unknown, of the wrong type, or out of range."""


# Per-engine settings: section -> key -> accepted types (every key optional, null = default).
ENGINE_SECTION_KEYS: dict[str, dict[str, tuple[type, ...]]] = {
    "azure": {"key": (str,), "region": (str,), "host": (str,), "endpoint": (str,), "voice": (str,),
              "rate": (str,), "pitch": (str,), "format": (str,), "timeout": (int, float)},
    "gtts": {"lang": (str,), "tld": (str,), "slow": (bool,), "timeout": (int, float)},
    "piper": {"model": (str,), "voice": (str,), "voices_dir": (str,), "timeout": (int, float)},
    "edge": {"voice": (str,), "rate": (str,), "pitch": (str,), "timeout": (int, float)},
    "espeak": {"voice": (str,), "timeout": (int, float)},
    "pyttsx3": {"voice": (str,), "timeout": (int, float)},
}
CACHE_KEYS: dict[str, tuple[type, ...]] = {"enabled": (bool,), "max_mb": (int, float), "dir": (str,)}
SectionValue = str | bool | int | float | None


@dataclass
class EngineConfig:
    """Which voice speaks. ``rate`` is words per minute, ``volume`` 0.0-1.0.

    ``voice`` is the voice of engine ``name``; ``fallback`` names the engines that speak
    a message when ``name`` fails (after its retries) or is down, in order. One optional
    section per engine (``azure``, ``gtts``, ``piper``, ``edge``, ``espeak``,
    ``pyttsx3``; keys in ENGINE_SECTION_KEYS) and the clip ``cache``
    (``enabled``, ``max_mb``, ``dir``). ``options``: extra options of engine ``name``
    (the old shape; still loaded).
    """

    name: str = "espeak"
    voice: str | None = None
    rate: int | None = None
    volume: float | None = None
    options: dict[str, str] = field(default_factory=dict)
    fallback: list[str] = field(default_factory=list)
    azure: dict[str, SectionValue] = field(default_factory=dict)
    gtts: dict[str, SectionValue] = field(default_factory=dict)
    piper: dict[str, SectionValue] = field(default_factory=dict)
    edge: dict[str, SectionValue] = field(default_factory=dict)
    espeak: dict[str, SectionValue] = field(default_factory=dict)
    pyttsx3: dict[str, SectionValue] = field(default_factory=dict)
    cache: dict[str, SectionValue] = field(default_factory=dict)

    def __repr__(self) -> str:
        azure = {k: ("***" if k == "key" and v else v) for k, v in self.azure.items()}
        return (f"EngineConfig(name={self.name!r}, voice={self.voice!r}, fallback={self.fallback!r}, "
                f"azure={azure!r}, gtts={self.gtts!r}, piper={self.piper!r}, edge={self.edge!r})")

    def validate(self, prefix: str = "engine") -> None:
        if self.rate is not None and not 80 <= self.rate <= 500:
            raise ConfigError(f"{prefix}.rate must be 80-500 words per minute, got {self.rate}")
        if self.volume is not None and not 0.0 <= self.volume <= 1.0:
            raise ConfigError(f"{prefix}.volume must be 0.0-1.0, got {self.volume}")
        engines = tuple(ENGINE_SECTION_KEYS)
        for i, name in enumerate(self.fallback):
            if name not in engines:
                raise ConfigError(f"{prefix}.fallback[{i}]: unknown engine {name!r}; expected one of "
                                  f"{', '.join(engines)}")
            if name == self.name or name in self.fallback[:i]:
                raise ConfigError(f"{prefix}.fallback[{i}]: engine {name!r} is already in the chain")
        for section, keys in ENGINE_SECTION_KEYS.items():
            _check_section(getattr(self, section), keys, f"{prefix}.{section}")
        _check_section(self.cache, CACHE_KEYS, f"{prefix}.cache")
        max_mb = self.cache.get("max_mb")
        if max_mb is not None and not 0 < float(max_mb) <= 100_000:
            raise ConfigError(f"{prefix}.cache.max_mb must be > 0 (megabytes), got {max_mb}")
        for section in ENGINE_SECTION_KEYS:
            timeout = getattr(self, section).get("timeout")
            if timeout is not None and not 0 < float(timeout) <= 600:
                raise ConfigError(f"{prefix}.{section}.timeout must be 0-600 seconds, got {timeout}")

    @property
    def chain(self) -> list[str]:
        """The engines in the order they are tried: ``name``, then ``fallback``."""
        return [self.name, *self.fallback]

    def options_for(self, engine: str) -> dict[str, Any]:
        """Constructor options of ``engine``: its section, and for engine ``name`` also
        ``voice`` and ``options``; ``rate``/``volume`` for every engine. None = default."""
        options: dict[str, Any] = {k: v for k, v in getattr(self, engine, {}).items() if v is not None}
        if engine == self.name:
            options.update(self.options)
            if self.voice is not None:
                options["voice"] = self.voice
        if self.rate is not None:
            options["rate"] = self.rate
        if self.volume is not None:
            options["volume"] = self.volume
        if engine == "azure" and not options.get("key") and os.environ.get("AZURE_SPEECH_KEY"):
            options["key"] = os.environ["AZURE_SPEECH_KEY"]
        return options

    @property
    def cache_enabled(self) -> bool:
        return bool(self.cache.get("enabled", True))

    @property
    def cache_max_mb(self) -> float:
        value = self.cache.get("max_mb")
        return 200.0 if value is None else float(value)


def _check_section(values: dict[str, Any], keys: dict[str, tuple[type, ...]], prefix: str) -> None:
    for key, value in values.items():
        if key not in keys:
            raise ConfigError(f"unknown key {prefix}.{key}; expected one of {', '.join(sorted(keys))}")
        types_ = keys[key]
        if value is None:
            continue
        ok = isinstance(value, types_) and (bool in types_ or not isinstance(value, bool))
        if not ok:
            wanted = " or ".join(t.__name__ for t in types_)
            # an API key is never shown, not even a wrong one
            got = type(value).__name__ if key == "key" else f"{type(value).__name__} {value!r}"
            raise ConfigError(f"{prefix}.{key} must be {wanted} or null, got {got}")


@dataclass
class StreamerBotConfig:
    """How platform events become messages (see tts_core.integration).

    The moderation keys this section had in earlier versions (``url_filter``,
    ``bad_words``, ...) still load, into the ``moderation`` section (LEGACY_MODERATION_KEYS).
    """

    priorities: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PRIORITIES))
    urgent_donation_amount: float = 100.0
    min_donation_amount: float = 0.0
    min_cheer_bits: int = 0
    min_raid_viewers: int = 0
    currency: str = "USD"
    chat_command: str = "!tts"
    chat_mod_only: bool = False
    templates: dict[str, str] = field(default_factory=dict)
    # Who and what is never spoken (other bots; event types the streamer wants silent).
    ignored_users: list[str] = field(default_factory=lambda: list(DEFAULT_IGNORED_USERS))
    muted_events: list[str] = field(default_factory=list)

    def validate(self, prefix: str = "streamer_bot") -> None:
        from tts_core.message import MessagePriority

        for event_type, priority in self.priorities.items():
            if event_type not in EVENT_TYPES:
                raise ConfigError(
                    f"{prefix}.priorities: unknown event type {event_type!r}; "
                    f"expected one of {', '.join(EVENT_TYPES)}"
                )
            try:
                MessagePriority.parse(priority)
            except ValueError as exc:
                raise ConfigError(f"{prefix}.priorities.{event_type}: {exc}") from None
        for event_type, template in self.templates.items():
            if event_type not in EVENT_TYPES:
                raise ConfigError(f"{prefix}.templates: unknown event type {event_type!r}")
            check_template(template, f"{prefix}.templates.{event_type}")
        if self.urgent_donation_amount < 0:
            raise ConfigError(f"{prefix}.urgent_donation_amount must be >= 0")
        for event_type in self.muted_events:
            if event_type not in EVENT_TYPES:
                raise ConfigError(f"{prefix}.muted_events: unknown event type {event_type!r}")
        for key in ("min_cheer_bits", "min_raid_viewers"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{prefix}.{key} must be >= 0 (0 = off), got {getattr(self, key)}")


@dataclass
class ModerationConfig:
    """The filter stages applied to the viewer's own words (tts_core.moderation).

    0 switches a limit off. ``bad_words`` entries are words with ``*`` wildcards, or
    rules ``{"pattern": "scam*", "action": "drop"|"censor"|"replace", "with": "..."}``;
    ``replacements`` are regex rules ``{"pattern": ..., "with": ...}``;
    ``needs_approval`` maps an event type to ``{"always": true}``, ``{"min_amount": 50}``
    or ``{"first_time": true}``. See docs/moderation.md.
    """

    enabled: bool = True
    names: bool = False  # also filter display names (links, bad words, look-alikes)
    normalize: bool = True
    links: str = LinkAction.REPLACE.value
    link_word: str = LINK_WORD
    emotes: bool = True
    emote_names: list[str] = field(default_factory=list)
    emoji: bool = True  # drop emoji pictographs
    commands: bool = True
    blobs: bool = True
    max_repeated_letters: int = 3
    max_repeated_words: int = 2
    bad_words: list[str | dict[str, str]] = field(default_factory=list)
    bad_word_action: str = BadWordAction.CENSOR.value
    censor_word: str = CENSOR_WORD
    replacements: list[dict[str, str]] = field(default_factory=list)
    pronunciations: dict[str, str] = field(default_factory=dict)
    max_chars: int = 0
    max_words: int = 0
    blocked_users: list[str] = field(default_factory=list)
    chat_cooldown_seconds: float = 0.0
    duplicate_window_seconds: float = 0.0
    remove_on_delete: bool = True
    remove_on_ban: bool = True
    skip_playing_on_removal: bool = True
    ban_block_seconds: float = 600.0
    needs_approval: dict[str, dict[str, float | bool]] = field(default_factory=dict)

    def validate(self, prefix: str = "moderation") -> None:
        import re as _re

        _one_of(self.links, tuple(LinkAction), f"{prefix}.links")
        _one_of(self.bad_word_action, tuple(BadWordAction), f"{prefix}.bad_word_action")
        _check_bad_words(self.bad_words, self.bad_word_action, f"{prefix}.bad_words")
        for i, rule in enumerate(self.replacements):
            where = f"{prefix}.replacements[{i}]"
            if set(rule) - {"pattern", "with"} or "pattern" not in rule:
                raise ConfigError(f'{where} must be {{"pattern": <regex>, "with": <text>}}, got {rule!r}')
            try:
                _re.compile(rule["pattern"])
            except _re.error as exc:
                raise ConfigError(f"{where}.pattern is not a valid regular expression: {exc}") from None
        for event_type, approval in self.needs_approval.items():
            if event_type not in EVENT_TYPES:
                raise ConfigError(f"{prefix}.needs_approval: unknown event type {event_type!r}; "
                                  f"expected one of {', '.join(EVENT_TYPES)}")
            for key, value in approval.items():
                where = f"{prefix}.needs_approval.{event_type}"
                if key not in tuple(ApprovalRule):
                    raise ConfigError(f"{where}: unknown rule {key!r}; "
                                      f"expected one of {', '.join(ApprovalRule)}")
                amount = key == ApprovalRule.MIN_AMOUNT
                if amount == isinstance(value, bool):
                    wanted = "a number >= 0" if amount else "true or false"
                    raise ConfigError(f"{where}.{key} must be {wanted}, got {value!r}")
                if amount and not 0 <= value < float("inf"):
                    raise ConfigError(f"{where}.min_amount must be a finite number >= 0, got {value!r}")


@dataclass
class VoicesConfig:
    """Who speaks with which engine voice (tts_core.moderation.voices).

    ``aliases`` is the allow-list for inline choices (``brian: hello``): alias ->
    engine voice; ``inline`` switches inline choices on; ``users`` and ``events`` map a
    username or an event type to a voice.
    """

    aliases: dict[str, str] = field(default_factory=dict)
    inline: bool = True
    users: dict[str, str] = field(default_factory=dict)
    events: dict[str, str] = field(default_factory=dict)

    def validate(self, prefix: str = "voices") -> None:
        for event_type in self.events:
            if event_type not in EVENT_TYPES:
                raise ConfigError(f"{prefix}.events: unknown event type {event_type!r}; "
                                  f"expected one of {', '.join(EVENT_TYPES)}")
        for table in ("aliases", "users", "events"):
            for name, voice in getattr(self, table).items():
                if not name.strip() or not voice.strip():
                    raise ConfigError(f"{prefix}.{table}: empty name or voice in {name!r}: {voice!r}")


@dataclass
class ListenerConfig:
    """The local WebSocket/HTTP listener (see tts_core.listener)."""

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8765
    token: str = ""
    allowed_origins: list[str] = field(default_factory=list)
    max_frame_bytes: int = 65536
    max_messages_per_second: float = 200.0
    allowed_hosts: list[str] = field(default_factory=list)  # Host names besides loopback and `host`
    max_connections: int = 100
    unauthenticated_timeout_seconds: float = 10.0
    overlay: bool = True  # serve the captions page on GET /overlay

    def validate(self, prefix: str = "listener") -> None:
        check_host(self.host, f"{prefix}.host")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"{prefix}.port must be 0-65535, got {self.port}")
        if self.max_connections < 1:
            raise ConfigError(f"{prefix}.max_connections must be >= 1, got {self.max_connections}")
        from math import isfinite

        timeout = self.unauthenticated_timeout_seconds
        if not isfinite(timeout) or timeout <= 0:
            raise ConfigError(f"{prefix}.unauthenticated_timeout_seconds must be a number of seconds > 0, "
                              f"got {timeout}")
        for name in self.allowed_hosts:
            if not name.strip() or any(c in name for c in " /\\@"):
                raise ConfigError(f"{prefix}.allowed_hosts: {name!r} is not a host name "
                                  "(e.g. \"streampc.local\", without scheme or path)")
        if self.max_frame_bytes < 256:
            raise ConfigError(f"{prefix}.max_frame_bytes must be >= 256")
        if self.max_messages_per_second < 0:
            raise ConfigError(f"{prefix}.max_messages_per_second must be >= 0 (0 = unlimited)")


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

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ConfigError naming the first bad setting."""
        _check_types(self, "tts_queue")
        for f in fields(self):
            section = getattr(self, f.name)
            if is_dataclass(section):
                _check_types(section, f.name)
        _at_least(self.max_queue_size, 1, "max_queue_size")
        _at_least(self.max_concurrent_workers, 1, "max_concurrent_workers")
        _at_most(self.max_concurrent_workers, 32, "max_concurrent_workers")
        _at_least(self.rate_limit_per_minute, 0, "rate_limit_per_minute")
        _at_least(self.rate_limit_burst, 1, "rate_limit_burst")
        _at_least(self.max_retries, 0, "max_retries")
        _at_least(self.retry_backoff_seconds, 0, "retry_backoff_seconds")
        if self.engine_timeout_seconds <= 0:
            raise ConfigError("tts_queue.engine_timeout_seconds must be > 0")
        _at_least(self.max_text_length, 1, "max_text_length")
        _at_least(self.pause_between_clips_ms, 0, "pause_between_clips_ms")
        _at_least(self.hold_seconds, 0, "hold_seconds")
        _at_least(self.replay_keep, 1, "replay_keep")
        self.engine.validate()
        self.streamer_bot.validate()
        self.listener.validate()
        self.moderation.validate()
        self.voices.validate()

    # -- JSON -------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TTSConfig:
        """Build from the seed's JSON shape; every wrong key or type is a ConfigError."""
        if not isinstance(data, dict):
            raise ConfigError(f"config must be a JSON object, got {type(data).__name__}")
        sections = {"tts_queue", "engine", "streamer_bot", "listener", "moderation", "voices"}
        for key in data:
            if key not in sections:
                raise ConfigError(f"unknown config section {key!r}; expected {', '.join(sorted(sections))}")
        queue = data.get("tts_queue", {})
        if not isinstance(queue, dict):
            raise ConfigError("tts_queue must be an object")
        kwargs = _section_kwargs(cls, queue, "tts_queue", skip={"engine", "streamer_bot", "listener",
                                                                          "moderation", "voices"})
        streamer_bot, moderation = legacy_moderation_keys(data.get("streamer_bot", {}),
                                                          data.get("moderation", {}))
        kwargs["engine"] = _build(EngineConfig, data.get("engine", {}), "engine")
        kwargs["streamer_bot"] = _build(StreamerBotConfig, streamer_bot, "streamer_bot")
        kwargs["listener"] = _build(ListenerConfig, data.get("listener", {}), "listener")
        kwargs["moderation"] = _build(ModerationConfig, moderation, "moderation")
        kwargs["voices"] = _build(VoicesConfig, data.get("voices", {}), "voices")
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
        }

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> TTSConfig:
        """Read a JSON config file; errors name the file and the key."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {p}") from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{p}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
        try:
            return cls.from_dict(data)
        except ConfigError as exc:
            raise ConfigError(f"{p}: {exc}") from None

    def save(self, path: str | os.PathLike[str]) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")


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


# -- moderation keys of earlier versions --------------------------------------------


@dataclass(frozen=True)
class LegacyKey:
    """A ``streamer_bot`` moderation key of earlier versions.

    Parameters: ``new`` (the ``moderation`` key it became), ``type`` (the JSON type it
    had), ``words`` (for an action key: its old words -> the new ones).
    """

    new: str
    type: Any
    words: dict[str, str] | None = None


LEGACY_MODERATION_KEYS: dict[str, LegacyKey] = {
    "url_filter": LegacyKey("links", str, {"replace": LinkAction.REPLACE.value,
                                           "remove": LinkAction.REMOVE.value,
                                           "reject": LinkAction.DROP.value, "off": LinkAction.OFF.value}),
    "bad_words": LegacyKey("bad_words", list[str]),
    "bad_word_action": LegacyKey("bad_word_action", str, {"replace": BadWordAction.CENSOR.value,
                                                          "reject": BadWordAction.DROP.value}),
    "bad_word_replacement": LegacyKey("censor_word", str),
    "max_repeated_letters": LegacyKey("max_repeated_letters", int),
    "max_repeated_words": LegacyKey("max_repeated_words", int),
    "filter_commands": LegacyKey("commands", bool),
    "filter_emotes": LegacyKey("emotes", bool),
    "emotes": LegacyKey("emote_names", list[str]),
    "filter_blobs": LegacyKey("blobs", bool),
    "max_words": LegacyKey("max_words", int),
}


def legacy_moderation_keys(streamer_bot: object, moderation: object) -> tuple[object, object]:
    """The one translation of the old keys: ``streamer_bot`` without them, and
    ``moderation`` with them filled in where it does not set the new key itself.

    Every old key is checked as before, and a bad one is a ConfigError that names it
    (``streamer_bot.bad_words[0] must be str, ...``), even where the new key wins.
    """
    if not isinstance(streamer_bot, dict) or not LEGACY_MODERATION_KEYS.keys() & streamer_bot.keys():
        return streamer_bot, moderation
    rest = {key: value for key, value in streamer_bot.items() if key not in LEGACY_MODERATION_KEYS}
    translated = {LEGACY_MODERATION_KEYS[key].new: _legacy_value(key, value)
                  for key, value in streamer_bot.items() if key in LEGACY_MODERATION_KEYS}
    if not isinstance(moderation, dict):
        return rest, moderation  # building the section names its wrong type
    return rest, {**translated, **moderation}


def _legacy_value(key: str, value: object) -> object:
    legacy = LEGACY_MODERATION_KEYS[key]
    where = f"streamer_bot.{key}"
    _check_value(value, legacy.type, where)
    _check_numbers(value, where, negative_ok=False)
    if key == "bad_words":
        _check_bad_words(typing.cast(list[str], value), BadWordAction.CENSOR, where)
    if legacy.words is None:
        return value
    word = typing.cast(str, value)
    _one_of(word, tuple(legacy.words), where)
    return legacy.words[word]


# -- validation helpers ------------------------------------------------------------


def check_template(template: str, key: str) -> None:
    """A speech template must parse and use only PLACEHOLDERS; the error names ``key``."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None
    for _, field_name, _, _ in parsed:
        if field_name is not None and field_name not in PLACEHOLDERS:
            raise ConfigError(
                f"{key}: unknown placeholder {{{field_name}}}; expected one of "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            )


def _at_least(value: float, low: float, key: str) -> None:
    if value < low:
        raise ConfigError(f"tts_queue.{key} must be >= {low}, got {value}")


def _one_of(value: str, allowed: tuple[str, ...], key: str) -> None:
    if value not in allowed:
        raise ConfigError(f"{key} must be one of {', '.join(allowed)}, got {value!r}")


def _check_bad_words(rules: Sequence[str | dict[str, str]], default_action: str, key: str) -> None:
    """Each entry a word (``*`` wildcards) or a rule ``{"pattern", "action", "with"}``."""
    for i, rule in enumerate(rules):
        where = f"{key}[{i}]"
        pattern = rule if isinstance(rule, str) else rule.get("pattern", "")
        if not pattern.strip("* "):
            raise ConfigError(f"{where}: empty entry (a word, optionally with * wildcards)")
        if isinstance(rule, dict):
            unknown = set(rule) - {"pattern", "action", "with"}
            if unknown:
                raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}; "
                                  "expected pattern, action, with")
            _one_of(rule.get("action", default_action), tuple(BadWordAction), f"{where}.action")


def _at_most(value: float, high: float, key: str) -> None:
    if value > high:
        raise ConfigError(f"tts_queue.{key} must be <= {high}, got {value}")


def _build(cls: type, data: object, prefix: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix} must be an object, got {type(data).__name__}")
    obj = cls(**_section_kwargs(cls, data, prefix))
    _check_types(obj, prefix)
    obj.validate(prefix)
    return obj


def _section_kwargs(
    cls: type, data: dict[str, Any], prefix: str, skip: set[str] | None = None
) -> dict[str, Any]:
    allowed = {f.name for f in fields(cls)} - (skip or set())
    for key in data:
        if key not in allowed:
            raise ConfigError(f"unknown key {prefix}.{key}; expected one of {', '.join(sorted(allowed))}")
    hints = typing.get_type_hints(cls)
    for key, value in data.items():
        _check_value(value, hints[key], f"{prefix}.{key}")
    return dict(data)


def _check_types(obj: Any, prefix: str) -> None:
    hints = typing.get_type_hints(type(obj))
    for f in fields(obj):
        value = getattr(obj, f.name)
        if not is_dataclass(value):
            _check_value(value, hints[f.name], f"{prefix}.{f.name}")
            _check_numbers(value, f"{prefix}.{f.name}", bool(f.metadata.get("negative")))


def _check_numbers(value: Any, key: str, negative_ok: bool) -> None:
    """Every number finite, and >= 0 unless ``negative_ok`` (also inside lists and objects)."""
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key} must be a finite number, got {value}")
        if value < 0 and not negative_ok:
            raise ConfigError(f"{key} must be >= 0, got {value}")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_numbers(v, f"{key}.{k}", negative_ok)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_numbers(v, f"{key}[{i}]", negative_ok)


_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def check_host(host: object, key: str) -> None:
    """A listener address must be an IP address or a host name (``localhost``, ``my-pc.lan``)."""
    if not isinstance(host, str) or not host:
        raise ConfigError(f"{key} must be an IP address or host name such as 127.0.0.1, got {host!r}")
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    if ":" in host:
        raise ConfigError(f"{key} must be an IP address or host name; the port goes in listener.port; "
                          f"got {host!r}")
    labels = host.rstrip(".").split(".")
    numeric = all(label.isdigit() for label in labels)
    if numeric or len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        raise ConfigError(
            f"{key} must be an IP address (127.0.0.1, 0.0.0.0, ::1) or a host name (localhost), got {host!r}"
        )


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _check_value(value: Any, tp: Any, key: str) -> None:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        errors = []
        for option in options:
            try:
                _check_value(value, option, key)
                return
            except ConfigError as exc:
                errors.append(exc)
        wanted = " or ".join("null" if o is type(None) else _type_name(o) for o in options)
        raise ConfigError(f"{key} must be {wanted}, got {type(value).__name__} {value!r}")
    if tp is type(None):
        if value is not None:
            raise ConfigError(f"{key} must be null")
        return
    if origin is dict:
        key_type, value_type = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{key} must be an object, got {type(value).__name__}")
        for k, v in value.items():
            _check_value(k, key_type, f"{key} key")
            _check_value(v, value_type, f"{key}.{k}")
        return
    if origin is list:
        (item_type,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{key} must be a list, got {type(value).__name__}")
        for i, v in enumerate(value):
            _check_value(v, item_type, f"{key}[{i}]")
        return
    ok = {
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        str: lambda v: isinstance(v, str),
    }[tp](value)
    if not ok:
        raise ConfigError(f"{key} must be {_type_name(tp)}, got {type(value).__name__} {value!r}")
