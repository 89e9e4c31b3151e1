"""The sections of a config: engine, streamer_bot, moderation, voices, listener, connectors."""

from __future__ import annotations

import os
import string
import typing
from dataclasses import dataclass, field, fields
from typing import Any

from tts_core.config.checks import (
    ConfigError,
    build_section,
    check_bad_words,
    check_host,
    check_section,
    check_types,
    did_you_mean,
    one_of,
)
from tts_core.config.speakerbot import SpeakerbotSettings
from tts_core.config.streamelements import StreamElementsConnectorConfig
from tts_core.config.streamlabs import StreamlabsConnectorConfig
from tts_core.domain.moderation import CENSOR_WORD, LINK_WORD, ApprovalRule, BadWordAction, LinkAction

EVENT_TYPES = ("donation", "subscription", "follow", "raid", "cheer", "chat", "command", "tts",
               "gift_sub", "gift_bomb", "redemption")

DEFAULT_PRIORITIES = {
    "donation": "HIGH",
    "subscription": "HIGH",
    "follow": "HIGH",
    "raid": "HIGH",
    "cheer": "HIGH",
    "command": "NORMAL",
    "tts": "NORMAL",
    "chat": "LOW",
    "gift_sub": "HIGH",
    "gift_bomb": "HIGH",
    "redemption": "NORMAL",
}


# Events whose "X says" may be left out while the same viewer keeps talking; paid and
# alert events always name the viewer.
FOLLOW_UP_EVENTS = ("chat", "command", "tts")

# The words a speech template may use (streamer_bot.templates), e.g. "{username} donated {amount}".
PLACEHOLDERS = (
    "username", "message", "amount", "currency", "months", "months_phrase", "tier", "gift",
    "gifter", "viewers", "viewers_phrase", "bits", "bits_phrase",
    "recipient", "count", "subs_phrase", "reward",
)

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


# Chat bots whose messages are never read aloud (names compared case-insensitively).
DEFAULT_IGNORED_USERS = (
    "nightbot", "streamelements", "streamlabs", "moobot", "fossabot", "wizebot", "sery_bot",
)


# Per-engine settings: section -> key -> accepted types (every key optional, null = default).
ENGINE_SECTION_KEYS: dict[str, dict[str, tuple[type, ...]]] = {
    "azure": {"key": (str,), "region": (str,), "host": (str,), "endpoint": (str,), "voice": (str,),
              "rate": (str,), "pitch": (str,), "format": (str,), "timeout": (int, float)},
    "gtts": {"lang": (str,), "tld": (str,), "slow": (bool,), "timeout": (int, float)},
    "piper": {"model": (str,), "voice": (str,), "voices_dir": (str,), "timeout": (int, float)},
    "edge": {"voice": (str,), "rate": (str,), "pitch": (str,), "timeout": (int, float)},
    "espeak": {"voice": (str,), "timeout": (int, float)},
    "pyttsx3": {"voice": (str,), "timeout": (int, float)},
    "auto": {"espeak_voice": (str,), "pyttsx3_voice": (str,), "timeout": (int, float)},
    "openai": {"base_url": (str,), "key": (str,), "model": (str,), "voice": (str,), "voices": (list,),
               "response_format": (str,), "speed": (int, float), "timeout": (int, float)},
    "elevenlabs": {"base_url": (str,), "key": (str,), "model": (str,), "voice": (str,),
                   "output_format": (str,), "stability": (int, float), "similarity_boost": (int, float),
                   "speed": (int, float), "timeout": (int, float)},
}
CACHE_KEYS: dict[str, tuple[type, ...]] = {"enabled": (bool,), "max_mb": (int, float), "dir": (str,)}
SectionValue = str | bool | int | float | None


@dataclass
class EngineConfig:
    """Which voice speaks. ``rate`` is words per minute, ``volume`` 0.0-1.0.

    ``voice`` is the voice of engine ``name``; ``fallback`` names the engines that speak
    a message when ``name`` fails (after its retries) or is down, in order. One optional
    section per engine (``azure``, ``gtts``, ``piper``, ``edge``, ``espeak``,
    ``pyttsx3``, ``auto``, ``openai``, ``elevenlabs``; keys in ENGINE_SECTION_KEYS) and the clip ``cache``
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
    auto: dict[str, SectionValue] = field(default_factory=dict)
    openai: dict[str, SectionValue | list[str]] = field(default_factory=dict)
    elevenlabs: dict[str, SectionValue] = field(default_factory=dict)
    cache: dict[str, SectionValue] = field(default_factory=dict)

    def __repr__(self) -> str:
        azure = {k: ("***" if k == "key" and v else v) for k, v in self.azure.items()}
        openai = {k: ("***" if k == "key" and v else v) for k, v in self.openai.items()}
        elevenlabs = {k: ("***" if k == "key" and v else v) for k, v in self.elevenlabs.items()}
        return (f"EngineConfig(name={self.name!r}, voice={self.voice!r}, fallback={self.fallback!r}, "
                f"azure={azure!r}, gtts={self.gtts!r}, piper={self.piper!r}, edge={self.edge!r}, "
                f"openai={openai!r}, elevenlabs={elevenlabs!r})")

    def validate(self, prefix: str = "engine") -> None:
        if self.rate is not None and not 80 <= self.rate <= 500:
            raise ConfigError(f"{prefix}.rate must be 80-500 words per minute, got {self.rate}")
        if self.volume is not None and not 0.0 <= self.volume <= 1.0:
            raise ConfigError(f"{prefix}.volume must be 0.0-1.0, got {self.volume}")
        engines = tuple(ENGINE_SECTION_KEYS)
        for key, name in [("name", self.name), *((f"fallback[{i}]", n) for i, n in enumerate(self.fallback))]:
            if name not in engines:
                raise ConfigError(f"{prefix}.{key}: unknown engine {name!r}{did_you_mean(name, engines)}; "
                                  f"expected one of {', '.join(engines)}")
        for i, name in enumerate(self.fallback):
            if name == self.name or name in self.fallback[:i]:
                raise ConfigError(f"{prefix}.fallback[{i}]: engine {name!r} is already in the chain")
        for section, keys in ENGINE_SECTION_KEYS.items():
            check_section(getattr(self, section), keys, f"{prefix}.{section}")
        check_section(self.cache, CACHE_KEYS, f"{prefix}.cache")
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


@dataclass
class StreamerBotConfig:
    """How platform events become messages (see tts_core.ingest.translator).

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
    # Names read like a person would (tts_core.ingest.names): "xX_Gamer_1337_Xx" -> "Gamer";
    # nicknames (viewer -> spoken name, any case) win; "X says" of chat, command and tts
    # lines only when the speaker changes or after this pause (0 = always).
    speakable_names: bool = True
    nicknames: dict[str, str] = field(default_factory=dict)
    repeat_name_after_seconds: float = 30.0
    follow_up_templates: dict[str, str] = field(default_factory=dict)

    def validate(self, prefix: str = "streamer_bot") -> None:
        from tts_core.domain.message import MessagePriority

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
        if self.repeat_name_after_seconds < 0:
            raise ConfigError(f"{prefix}.repeat_name_after_seconds must be >= 0 (0 = always say the name), "
                              f"got {self.repeat_name_after_seconds}")
        for viewer, spoken in self.nicknames.items():
            if not viewer.strip().lstrip("@").strip() or not spoken.strip():
                raise ConfigError(f"{prefix}.nicknames: viewer and nickname must not be empty, "
                                  f"got {viewer!r}: {spoken!r}")
        for event_type, template in self.follow_up_templates.items():
            if event_type not in FOLLOW_UP_EVENTS:
                raise ConfigError(f"{prefix}.follow_up_templates: {event_type!r} cannot leave out the name; "
                                  f"expected one of {', '.join(FOLLOW_UP_EVENTS)}")
            check_template(template, f"{prefix}.follow_up_templates.{event_type}")


@dataclass
class ModerationConfig:
    """The filter stages applied to the viewer's own words (tts_core.ingest.moderation).

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

        one_of(self.links, tuple(LinkAction), f"{prefix}.links")
        one_of(self.bad_word_action, tuple(BadWordAction), f"{prefix}.bad_word_action")
        check_bad_words(self.bad_words, self.bad_word_action, f"{prefix}.bad_words")
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
    """Who speaks with which engine voice (tts_core.ingest.moderation.voices).

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


# -- connectors: where events come from besides the listener (tts_core.connectors) -----------

# The Streamer.bot events the connector can take, by source (connectors.streamerbot.events).
STREAMERBOT_EVENTS: dict[str, tuple[str, ...]] = {
    "Twitch": ("Follow", "Cheer", "Sub", "ReSub", "GiftSub", "GiftBomb", "Raid", "ChatMessage",
               "ChatMessageDeleted", "UserBanned", "UserTimedOut", "RewardRedemption"),
    "YouTube": ("Message", "SuperChat", "NewSponsor", "MemberMileStone", "MembershipGift"),
    "Kick": ("ChatMessage", "Follow", "Subscription", "GiftSubscription", "MassGiftSubscription",
             "UserBanned", "UserTimedOut"),
    "StreamElements": ("Tip",),
    "Streamlabs": ("Donation",),
    "Kofi": ("Donation", "Subscription", "Resubscription"),
    "General": ("Custom",),
}


@dataclass
class StreamerBotConnectorConfig:
    """The Streamer.bot connector (docs/connectors.md): its WebSocket server's ``url``,
    its ``password`` (when authentication is on; never logged or shown), ``events`` to
    take ("Twitch.Follow", or a whole source "Kick"; empty = every one Streamer.bot
    offers that we understand) and ``reward_titles``: the channel point rewards whose
    viewer input is read aloud (names compared case-insensitively)."""

    enabled: bool = False
    url: str = "ws://127.0.0.1:8080/"
    password: str = ""
    events: list[str] = field(default_factory=list)
    reward_titles: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"StreamerBotConnectorConfig(enabled={self.enabled!r}, url={self.url!r}, "
                f"password={'***' if self.password else ''!r}, events={self.events!r}, "
                f"reward_titles={self.reward_titles!r})")

    def validate(self, prefix: str = "connectors.streamerbot") -> None:
        if not self.url.startswith(("ws://", "wss://")) or len(self.url) <= len("ws://"):
            raise ConfigError(f"{prefix}.url must be a WebSocket address such as ws://127.0.0.1:8080/, "
                              f"got {self.url!r}")
        for i, name in enumerate(self.events):
            source, _, kind = name.partition(".")
            known = STREAMERBOT_EVENTS.get(source)
            if known is None or (kind and kind not in known):
                choices = ", ".join(f"{s}.{t}" for s, types in STREAMERBOT_EVENTS.items() for t in types)
                raise ConfigError(f"{prefix}.events[{i}]: unknown event {name!r}; expected a source "
                                  f"({', '.join(STREAMERBOT_EVENTS)}) or one of {choices}")
        for i, title in enumerate(self.reward_titles):
            if not title.strip():
                raise ConfigError(f"{prefix}.reward_titles[{i}] is empty")

    def takes(self, source: str, kind: str) -> bool:
        """Whether the event ``source.kind`` is wanted (``events``; empty = all)."""
        return not self.events or source in self.events or f"{source}.{kind}" in self.events


# The EventSub subscription types the Twitch connector can take (connectors.twitch.events).
TWITCH_EVENTS = ("channel.follow", "channel.subscribe", "channel.subscription.message",
                 "channel.subscription.gift", "channel.cheer", "channel.raid",
                 "channel.channel_points_custom_reward_redemption.add", "channel.chat.message",
                 "channel.chat.message_delete", "channel.chat.clear_user_messages", "channel.ban")


@dataclass
class TwitchConnectorConfig:
    """The Twitch EventSub connector (docs/connectors.md): ``client_id`` of the streamer's
    own application (a public client), ``channel`` (login name; empty = the logged-in
    account), ``events`` to take (EventSub types; empty = all), ``reward_titles`` (channel
    point rewards whose input is read), and Twitch's addresses (tests and proxies only).
    The tokens are not settings: ``obs-tts twitch login`` keeps them in the data folder."""

    enabled: bool = False
    client_id: str = ""
    channel: str = ""
    events: list[str] = field(default_factory=list)
    reward_titles: list[str] = field(default_factory=list)
    eventsub_url: str = "wss://eventsub.wss.twitch.tv/ws"
    api_url: str = "https://api.twitch.tv/helix"
    auth_url: str = "https://id.twitch.tv/oauth2"

    def validate(self, prefix: str = "connectors.twitch") -> None:
        if not self.eventsub_url.startswith(("ws://", "wss://")) or len(self.eventsub_url) <= len("wss://"):
            raise ConfigError(f"{prefix}.eventsub_url must be a WebSocket address, got {self.eventsub_url!r}")
        for key in ("api_url", "auth_url"):
            value = getattr(self, key)
            if not value.startswith(("http://", "https://")) or len(value) <= len("https://"):
                raise ConfigError(f"{prefix}.{key} must be an http(s) address, got {value!r}")
        for i, name in enumerate(self.events):
            if name not in TWITCH_EVENTS:
                raise ConfigError(f"{prefix}.events[{i}]: unknown event {name!r}; expected one of "
                                  f"{', '.join(TWITCH_EVENTS)}")
        for i, title in enumerate(self.reward_titles):
            if not title.strip():
                raise ConfigError(f"{prefix}.reward_titles[{i}] is empty")

    def takes(self, kind: str) -> bool:
        """Whether the EventSub type ``kind`` is wanted (``events``; empty = all)."""
        return not self.events or kind in self.events


@dataclass
class ConnectorsConfig:
    """One sub-section per connector (``streamerbot``, ``speakerbot``, ``twitch``, ``streamelements``,
    ``streamlabs``;
    each has ``enabled``)."""

    streamerbot: StreamerBotConnectorConfig = field(default_factory=StreamerBotConnectorConfig)
    speakerbot: SpeakerbotSettings = field(default_factory=SpeakerbotSettings)
    twitch: TwitchConnectorConfig = field(default_factory=TwitchConnectorConfig)
    streamelements: StreamElementsConnectorConfig = field(default_factory=StreamElementsConnectorConfig)
    streamlabs: StreamlabsConnectorConfig = field(default_factory=StreamlabsConnectorConfig)

    def validate(self, prefix: str = "connectors") -> None:
        for f in fields(self):
            check_types(getattr(self, f.name), f"{prefix}.{f.name}")
            getattr(self, f.name).validate(f"{prefix}.{f.name}")

    @classmethod
    def from_dict(cls, data: object, prefix: str = "connectors") -> ConnectorsConfig:
        """Build from JSON; every sub-section is checked like a section (errors name the key)."""
        if not isinstance(data, dict):
            raise ConfigError(f"{prefix} must be an object, got {type(data).__name__}")
        kinds = typing.get_type_hints(cls)
        for key in data:
            if key not in kinds:
                raise ConfigError(f"unknown key {prefix}.{key}; expected one of {', '.join(sorted(kinds))}")
        return cls(**{name: build_section(kinds[name], data.get(name, {}), f"{prefix}.{name}")
                      for name in kinds})
