"""Moderation: the filter pipeline for the viewer's own words, and voice choice.

``build_pipeline(moderation, streamer_bot, memory)`` assembles the stages that the
config switches on, in the order that makes them work together (see ``build``).
Stages live one family per module: ``gates`` (who and what is spoken at all),
``normalize`` (look-alike letters), ``links``, ``spam`` (emotes, emoji, commands,
blobs, repeats), ``words`` (bad words, replacements, pronunciations, length).
"""

from tts_core.ingest.moderation.base import FILTERED, REJECTED, Pipeline, Stage, Stopped, TextStage, Words
from tts_core.ingest.moderation.build import build_name_pipeline, build_pipeline
from tts_core.ingest.moderation.gates import Memory
from tts_core.ingest.moderation.voices import VoiceChoice, VoiceChooser

__all__ = [
    "FILTERED", "REJECTED", "Memory", "Pipeline", "Stage", "Stopped", "TextStage", "VoiceChoice",
    "VoiceChooser", "Words", "build_name_pipeline", "build_pipeline",
]
