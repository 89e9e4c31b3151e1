"""The OBS script's settings: their keys, defaults, and the mapping to TTSConfig.

The keys are stored in users' scene collections, so they never change meaning (see
docs/architecture.md, section 8). Everything here is plain data and pure functions; the script
reads the values out of OBS's ``obs_data_t`` with the types listed in ``SETTINGS``.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tts_core.config import DEFAULT_PRIORITIES, EVENT_TYPES, ConfigError, EngineConfig, TTSConfig
from tts_core.config.ducking import DEFAULT_ATTACK_MS, DEFAULT_DB, DEFAULT_RELEASE_MS, DuckingConfig
from tts_core.obs.ducking import parse_sources
from tts_core.obs.script.alert_settings import ALERT_SETTINGS, apply_alert_settings

DEFAULT_MEDIA_SOURCE = "TTS Audio"
PRIORITY_NAMES = ("URGENT", "HIGH", "NORMAL", "LOW")
MIN_WORDS_PER_MINUTE = 80


@dataclass(frozen=True)
class Setting:
    """One script setting: ``key`` in the scene collection, its Python ``kind`` and ``default``."""

    key: str
    kind: type
    default: Any


# The chosen engine's own fields (panel group "Engine settings"); "" = the config file's
# value, else the engine's default. Keys never change meaning (docs/architecture.md, section 8).
ENGINE_FIELD_SETTINGS: tuple[Setting, ...] = (
    Setting("fallback_engine", str, ""),  # engine that speaks when the chosen one fails
    Setting("azure_key", str, ""),
    Setting("azure_region", str, ""),
    Setting("azure_host", str, ""),  # ws://host:port of an Azure Speech container
    Setting("gtts_lang", str, ""),
    Setting("gtts_tld", str, ""),
    Setting("piper_model", str, ""),  # path of a .onnx voice; "" = an installed voice package
    Setting("openai_base_url", str, ""),  # e.g. http://localhost:8880/v1 (Kokoro-FastAPI)
    Setting("openai_key", str, ""),  # optional: local servers need none
    Setting("openai_model", str, ""),
    Setting("elevenlabs_key", str, ""),
    Setting("elevenlabs_model", str, ""),
)
# setting key -> (engine section, key in that section)
ENGINE_FIELDS: dict[str, tuple[str, str]] = {
    "azure_key": ("azure", "key"),
    "azure_region": ("azure", "region"),
    "azure_host": ("azure", "host"),
    "gtts_lang": ("gtts", "lang"),
    "gtts_tld": ("gtts", "tld"),
    "piper_model": ("piper", "model"),
    "openai_base_url": ("openai", "base_url"),
    "openai_key": ("openai", "key"),
    "openai_model": ("openai", "model"),
    "elevenlabs_key": ("elevenlabs", "key"),
    "elevenlabs_model": ("elevenlabs", "model"),
}
SECRET_SETTINGS = frozenset({"azure_key", "openai_key", "elevenlabs_key", "listener_token",
                             "streamerbot_password", "streamlabs_socket_token",
                             "streamelements_token"})


def engine_fields_for(engine_name: str) -> list[str]:
    """The setting keys the panel shows for ``engine_name``."""
    return [key for key, (section, _) in ENGINE_FIELDS.items() if section == engine_name]


def _priority_settings() -> tuple[Setting, ...]:
    return tuple(Setting(f"priority_{t}", str, DEFAULT_PRIORITIES[t]) for t in EVENT_TYPES)


# The Moderation and Voices groups of the panel (see tts_core.ingest.moderation, docs/moderation.md).
MODERATION_SETTINGS: tuple[Setting, ...] = (
    Setting("moderation_links", str, "replace"),  # replace, remove, drop, off
    Setting("moderation_bad_words", str, ""),  # comma- or line-separated, * wildcards
    Setting("moderation_bad_word_action", str, "censor"),  # drop, censor
    Setting("moderation_max_chars", int, 0),
    Setting("moderation_max_words", int, 0),
    Setting("hold_seconds", float, 0.0),
    Setting("approve_donations_from", float, 0.0),  # 0 = never
    Setting("approve_first_time_chatters", bool, False),
    Setting("approve_event_types", str, ""),  # comma-separated event types that always wait
    Setting("remove_on_ban", bool, True),  # also covers deleted chat lines
    Setting("voice_aliases", str, ""),  # "brian=en-gb, amy=en-us"
    Setting("voice_inline", bool, True),
    Setting("speakable_names", bool, True),  # streamer_bot.speakable_names (docs/moderation.md#names)
    Setting("nicknames", str, ""),  # "xX_Gamer_1337_Xx=the champion", one per line
    Setting("repeat_name_after_seconds", float, 30.0),
)

# The Connections group (tts_core.connectors, docs/connectors.md): connectors.streamerbot,
# .speakerbot, .twitch and .streamelements.
CONNECTION_SETTINGS: tuple[Setting, ...] = (
    Setting("streamerbot_enabled", bool, False),
    Setting("streamerbot_url", str, "ws://127.0.0.1:8080/"),
    Setting("streamerbot_password", str, ""),  # never logged or shown
    Setting("streamerbot_reward_titles", str, ""),  # comma- or line-separated channel point rewards
    Setting("speakerbot_enabled", bool, False),  # the Speaker.bot-compatible server (docs/speakerbot.md)
    Setting("speakerbot_port", int, 7580),
    Setting("speakerbot_udp_port", int, 6669),  # 0 = off
    Setting("twitch_enabled", bool, False),  # Twitch EventSub (docs/connectors.md, Twitch)
    Setting("twitch_client_id", str, ""),  # of the streamer's own application (not a secret)
    Setting("twitch_channel", str, ""),  # login name; empty = the logged-in account
    Setting("twitch_reward_titles", str, ""),  # comma- or line-separated channel point rewards
    Setting("streamelements_enabled", bool, False),  # StreamElements Astro (docs/connectors.md)
    Setting("streamelements_token", str, ""),  # never logged or shown
    Setting("streamelements_token_type", str, "jwt"),  # jwt, oauth2, apikey
    Setting("streamelements_channel_id", str, ""),  # the account id; empty = the token's channel
    Setting("streamelements_reward_titles", str, ""),  # comma- or line-separated channel point rewards
    Setting("streamlabs_enabled", bool, False),  # Streamlabs' Socket API (docs/connectors.md, Streamlabs)
    Setting("streamlabs_socket_token", str, ""),  # never logged or shown
    Setting("streamlabs_reward_titles", str, ""),  # comma- or line-separated Cloudbot loyalty store items
)

# The Ducking group (docs/obs.md, "Ducking"): the config section ``ducking`` (``ducking_section``).
DUCKING_SETTINGS: tuple[Setting, ...] = (
    Setting("ducking_sources", str, ""),  # source names, one per line; "" = off
    Setting("ducking_db", int, DEFAULT_DB),
    Setting("ducking_attack_ms", int, DEFAULT_ATTACK_MS),
    Setting("ducking_release_ms", int, DEFAULT_RELEASE_MS),
)

SETTINGS: tuple[Setting, ...] = (
    Setting("engine", str, "espeak"),
    Setting("voice", str, ""),
    Setting("speaking_rate", int, 0),  # words per minute; 0 = the engine's default
    Setting("volume", int, 100),  # engine volume in percent
    Setting("loudness_enabled", bool, True),  # every voice equally loud (config section loudness)
    Setting("loudness_target_lufs", float, -16.0),
    Setting("media_source", str, DEFAULT_MEDIA_SOURCE),
    Setting("caption_source", str, ""),
    Setting("listener_host", str, "127.0.0.1"),
    Setting("listener_port", int, 8765),
    Setting("listener_token", str, ""),
    Setting("rate_limit_per_minute", int, 60),
    Setting("max_queue_size", int, 1000),
    Setting("max_concurrent_workers", int, 3),
    Setting("max_retries", int, 3),
    Setting("persist", bool, True),
    Setting("pause_between_clips_ms", int, 0),
    Setting("urgent_donation_amount", float, 100.0),
    Setting("packages_dir", str, ""),
    *_priority_settings(),
    *MODERATION_SETTINGS,
    *ENGINE_FIELD_SETTINGS,
    *CONNECTION_SETTINGS,
    *DUCKING_SETTINGS,
    *(Setting(s.key, s.kind, s.default) for s in ALERT_SETTINGS),  # the "Alert sounds" group
)
DEFAULTS: dict[str, Any] = {s.key: s.default for s in SETTINGS}
KINDS: dict[str, type] = {s.key: s.kind for s in SETTINGS}

# Keys the manager applies itself (engine, queue threads) or the sink does (its sources);
# a change of any other key but the listener's and the packages folder is live (``plan_changes``).
ENGINE_KEYS = frozenset({"engine", "voice", "speaking_rate", "volume", "fallback_engine",
                         *ENGINE_FIELDS})
LISTENER_KEYS = frozenset({"listener_host", "listener_port", "listener_token"})
RESTART_KEYS = frozenset({"rate_limit_per_minute", "max_concurrent_workers", "max_retries", "persist",
                          "pause_between_clips_ms"})
SINK_KEYS = frozenset({"media_source", "caption_source"})
RELOAD_KEYS = frozenset({"packages_dir"})
DUCKING_KEYS = frozenset(s.key for s in DUCKING_SETTINGS)  # config.ducking: the script's DuckingKeeper


def normalize(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every known key with a value of its kind; missing or mistyped values get the default."""
    out: dict[str, Any] = {}
    for setting in SETTINGS:
        value = values.get(setting.key, setting.default)
        if setting.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, setting.kind) or (setting.kind is int and isinstance(value, bool)):
            value = setting.default
        if isinstance(value, str) and setting.key not in SECRET_SETTINGS:
            value = value.strip()
        out[setting.key] = value
    return out


def config_from_settings(values: Mapping[str, Any], base: TTSConfig | None = None) -> TTSConfig:
    """A TTSConfig from the script's settings (missing keys: defaults).

    ``base`` supplies everything the OBS panel does not show (text filters, templates,
    ...). Raises ConfigError naming the setting when a value is out of range.
    """
    v = normalize(values)
    config = copy.deepcopy(base) if base is not None else TTSConfig(persist=True)
    config.engine = engine_config(v, config.engine)
    config.max_queue_size = v["max_queue_size"]
    config.max_concurrent_workers = v["max_concurrent_workers"]
    config.rate_limit_per_minute = v["rate_limit_per_minute"]
    config.max_retries = v["max_retries"]
    config.persist = v["persist"]
    config.pause_between_clips_ms = v["pause_between_clips_ms"]
    bot = config.streamer_bot
    bot.urgent_donation_amount = v["urgent_donation_amount"]
    for event_type in EVENT_TYPES:
        name = v[f"priority_{event_type}"].upper()
        if name not in PRIORITY_NAMES:
            expected = ", ".join(PRIORITY_NAMES)
            raise ConfigError(f"priority_{event_type} must be one of {expected}, got {name!r}")
        bot.priorities[event_type] = name
    config.loudness = dataclasses.replace(config.loudness, enabled=v["loudness_enabled"],
                                          target_lufs=v["loudness_target_lufs"])
    _apply_moderation(v, config)
    _apply_connections(v, config)
    apply_alert_settings(v, config)
    config.ducking = ducking_section(v)
    listener = config.listener
    listener.host = v["listener_host"] or "127.0.0.1"
    listener.port = v["listener_port"]
    listener.token = v["listener_token"]
    try:
        config.validate()
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("tts_queue.", "").replace("streamer_bot.", "")) from None
    return config


def ducking_section(values: Mapping[str, Any]) -> DuckingConfig:
    """The Ducking group -> the config section ``ducking`` (the numbers kept in range)."""
    v = normalize(values)
    return DuckingConfig.clamped(parse_sources(v["ducking_sources"]), v["ducking_db"], v["ducking_attack_ms"],
                                 v["ducking_release_ms"])


def _apply_moderation(v: Mapping[str, Any], config: TTSConfig) -> None:
    """The Moderation and Voices groups -> the moderation/voices sections and hold_seconds."""
    mod = config.moderation
    mod.links = v["moderation_links"] or "replace"
    mod.bad_words = list(_items(v["moderation_bad_words"]))
    mod.bad_word_action = v["moderation_bad_word_action"] or "censor"
    mod.max_chars = v["moderation_max_chars"]
    mod.max_words = v["moderation_max_words"]
    mod.remove_on_ban = mod.remove_on_delete = v["remove_on_ban"]
    approval: dict[str, dict[str, float | bool]] = {}
    for event_type in _items(v["approve_event_types"]):
        approval[event_type.lower()] = {"always": True}
    if v["approve_donations_from"] > 0:
        approval.setdefault("donation", {"min_amount": v["approve_donations_from"]})
    if v["approve_first_time_chatters"]:
        for event_type in ("chat", "command"):
            approval.setdefault(event_type, {"first_time": True})
    mod.needs_approval = approval
    config.hold_seconds = v["hold_seconds"]
    aliases = {}
    for item in _items(v["voice_aliases"]):
        alias, sep, voice = item.partition("=")
        if not sep or not alias.strip() or not voice.strip():
            raise ConfigError(f"voice_aliases: {item!r} must look like alias=voice (e.g. brian=en-gb)")
        aliases[alias.strip()] = voice.strip()
    config.voices.aliases = aliases
    config.voices.inline = v["voice_inline"]
    bot = config.streamer_bot
    bot.speakable_names = v["speakable_names"]
    bot.repeat_name_after_seconds = v["repeat_name_after_seconds"]
    nicknames = {}
    for line in v["nicknames"].splitlines():
        viewer, sep, spoken = line.partition("=")
        if not line.strip():
            continue
        if not sep or not viewer.strip() or not spoken.strip():
            raise ConfigError(f"nicknames: {line.strip()!r} must look like viewer=name "
                              "(e.g. xX_Gamer_1337_Xx=the champion)")
        nicknames[viewer.strip()] = spoken.strip()
    bot.nicknames = nicknames


def _apply_connections(v: Mapping[str, Any], config: TTSConfig) -> None:
    """The Connections group -> the connectors section (applied live, like moderation)."""
    bot = config.connectors.streamerbot
    bot.enabled = v["streamerbot_enabled"]
    bot.url = v["streamerbot_url"] or "ws://127.0.0.1:8080/"
    bot.password = v["streamerbot_password"]
    bot.reward_titles = _items(v["streamerbot_reward_titles"])
    config.connectors.speakerbot = dataclasses.replace(
        config.connectors.speakerbot, enabled=v["speakerbot_enabled"], port=v["speakerbot_port"],
        udp_port=v["speakerbot_udp_port"])
    twitch = config.connectors.twitch  # its login is kept in the data folder, not in the settings
    twitch.enabled = v["twitch_enabled"]
    twitch.client_id = v["twitch_client_id"]
    twitch.channel = v["twitch_channel"]
    twitch.reward_titles = _items(v["twitch_reward_titles"])
    streamelements = config.connectors.streamelements
    streamelements.enabled = v["streamelements_enabled"]
    streamelements.token = v["streamelements_token"].strip()
    streamelements.token_type = v["streamelements_token_type"] or "jwt"
    streamelements.channel_id = v["streamelements_channel_id"]
    streamelements.reward_titles = _items(v["streamelements_reward_titles"])
    streamlabs = config.connectors.streamlabs
    streamlabs.enabled = v["streamlabs_enabled"]
    streamlabs.socket_token = v["streamlabs_socket_token"].strip()
    streamlabs.reward_titles = _items(v["streamlabs_reward_titles"])


def _items(text: str) -> list[str]:
    return [item.strip() for line in text.splitlines() for item in line.split(",") if item.strip()]


def engine_config(values: Mapping[str, Any], base: EngineConfig | None = None) -> EngineConfig:
    """The engine section: 0 words per minute and 100 % volume mean the engine's own default."""
    v = normalize(values)
    engine = copy.deepcopy(base) if base is not None else EngineConfig()
    engine.name = v["engine"] or "espeak"
    engine.voice = v["voice"] or None
    rate = v["speaking_rate"]
    engine.rate = max(MIN_WORDS_PER_MINUTE, min(rate, 500)) if rate > 0 else None
    volume = max(0, min(v["volume"], 100))
    engine.volume = None if volume == 100 else volume / 100
    fallback = v["fallback_engine"]
    if fallback and fallback != engine.name:
        engine.fallback = [fallback, *(f for f in engine.fallback if f not in (fallback, engine.name))]
    else:
        engine.fallback = [f for f in engine.fallback if f != engine.name]
    for key, (section, option) in ENGINE_FIELDS.items():
        value = v[key].strip() if key in SECRET_SETTINGS else v[key]
        if value:
            getattr(engine, section)[option] = value
    return engine


@dataclass(frozen=True)
class Changes:
    """What applying new settings needs: ``keys`` (the settings that changed), and
    whether they need the listener restarted, a live update of the event translator
    (priorities, moderation, voices), or a reload of the script."""

    keys: frozenset[str] = frozenset()
    listener: bool = False
    live: bool = False
    reload: bool = False  # packages folder: only read when the script loads

    def __bool__(self) -> bool:
        return bool(self.keys)


def plan_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> Changes:
    """Compare two settings snapshots and say which parts of the running queue must change."""
    a, b = normalize(old), normalize(new)
    changed = frozenset(k for k in b if a.get(k) != b[k])
    return Changes(
        keys=changed,
        listener=bool(changed & LISTENER_KEYS),
        live=bool(changed - ENGINE_KEYS - LISTENER_KEYS - RESTART_KEYS - SINK_KEYS - RELOAD_KEYS
                  - DUCKING_KEYS),
        reload=bool(changed & RELOAD_KEYS),
    )
