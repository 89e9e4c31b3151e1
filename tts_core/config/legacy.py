"""The ``streamer_bot`` moderation keys of earlier versions, translated once at load time."""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

from tts_core.config.checks import check_bad_words, check_numbers, check_value, one_of
from tts_core.domain.moderation import BadWordAction, LinkAction


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
    check_value(value, legacy.type, where)
    check_numbers(value, where, negative_ok=False)
    if key == "bad_words":
        check_bad_words(typing.cast(list[str], value), BadWordAction.CENSOR, where)
    if legacy.words is None:
        return value
    word = typing.cast(str, value)
    one_of(word, tuple(legacy.words), where)
    return legacy.words[word]
