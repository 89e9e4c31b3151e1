"""The default stage order, built from the ``moderation`` and ``streamer_bot`` config.

Order matters: cheap gates first (bots, blocked users, minimum amounts); emote
positions before anything shifts the text; look-alike letters folded before links
and word lists look; links before blobs (a URL looks like one); letters de-spammed
before blobs are judged by length, and before the bad-word list; length limits, then
"nothing left", then duplicates and approval rules, which judge the words that will
actually be said.
"""

from __future__ import annotations

from tts_core.config import ModerationConfig, StreamerBotConfig
from tts_core.domain.moderation import BadWordAction, LinkAction
from tts_core.ingest.cleanup import collapse_whitespace
from tts_core.ingest.moderation import gates, links, spam, words
from tts_core.ingest.moderation.base import Pipeline, Stage, TextStage, Words, rejected
from tts_core.ingest.moderation.normalize import normalize_stage

WHOLE_MESSAGE_EVENTS = ("chat", "command", "tts", "redemption")  # the viewer's words are the whole point


class NothingLeft:
    """A chat/tts message with nothing speakable left is refused (code ``filtered``)."""

    name = "nothing_left"

    def apply(self, words: Words) -> None:
        if not any(ch.isalnum() for ch in words.text):
            if words.event_type in WHOLE_MESSAGE_EVENTS:
                raise rejected("filtered", "nothing speakable is left after moderation")
            words.text = ""


def build_pipeline(mod: ModerationConfig, bot: StreamerBotConfig, memory: gates.Memory) -> Pipeline:
    """Every stage the config switches on, in order (see the module docstring)."""
    stages: list[Stage] = [gates.IgnoredUsers(bot.ignored_users),
                           gates.BlockedUsers(mod.blocked_users, memory),
                           gates.MinimumAmount({"donation": bot.min_donation_amount,
                                                "cheer": bot.min_cheer_bits, "raid": bot.min_raid_viewers})]
    if not mod.enabled:
        return Pipeline([*stages, *_always()])
    stages.append(spam.EmotePositions())
    if mod.normalize:
        stages.append(normalize_stage())
    if mod.commands:
        stages.append(spam.CommandLines())
    if mod.chat_cooldown_seconds:
        stages.append(gates.ChatCooldown(mod.chat_cooldown_seconds, memory))
    if mod.links != LinkAction.OFF:
        stages.append(links.link_stage(mod.links, mod.link_word))
    if mod.commands:
        stages.append(spam.commands_stage())
    if mod.emotes or mod.emote_names:
        stages.append(spam.emote_stage(mod.emote_names, mod.emotes))
    if mod.emoji:
        stages.append(spam.emoji_stage())
    if mod.max_repeated_letters:
        stages.append(spam.repeated_letters_stage(mod.max_repeated_letters))
    if mod.blobs:
        stages.append(spam.blobs_stage())
    if mod.max_repeated_words:
        stages.append(spam.repeated_words_stage(mod.max_repeated_words))
    if mod.bad_words:
        stages.append(words.BadWords(words.parse_rules(mod.bad_words, mod.bad_word_action, mod.censor_word)))
    if mod.replacements:
        stages.append(words.replacements_stage(mod.replacements))
    if mod.pronunciations:
        stages.append(words.pronunciation_stage(mod.pronunciations))
    stages.append(TextStage("whitespace", collapse_whitespace))
    if mod.max_words:
        stages.append(words.max_words_stage(mod.max_words))
    if mod.max_chars:
        stages.append(words.max_chars_stage(mod.max_chars))
    stages.append(NothingLeft())
    if mod.duplicate_window_seconds:
        stages.append(gates.Duplicates(mod.duplicate_window_seconds, memory))
    if mod.needs_approval:
        stages.append(gates.ApprovalRules(mod.needs_approval))
    return Pipeline(stages)


def _always() -> list[Stage]:
    return [TextStage("whitespace", collapse_whitespace)]


def build_name_pipeline(mod: ModerationConfig) -> Pipeline:
    """For display names: pronunciations always; with ``names`` on, also look-alike
    letters, links and the bad-word list (any match says the censor word)."""
    stages: list[Stage] = []
    if mod.enabled and mod.names:
        stages.append(normalize_stage())
        if mod.links != LinkAction.OFF:
            stages.append(links.link_stage(LinkAction.REPLACE, mod.link_word))
        if mod.bad_words:
            rules = words.parse_rules(mod.bad_words, BadWordAction.CENSOR, mod.censor_word)
            stages.append(words.BadWords(rules))
    if mod.pronunciations:
        stages.append(words.pronunciation_stage(mod.pronunciations))
    return Pipeline(stages)
