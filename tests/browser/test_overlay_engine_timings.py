"""The overlay follows the word timings an engine reports: edge-tts's real client code
against the loopback Edge service, which sends one WordBoundary per word like the real
one; the highlight follows those times, not an even estimate."""

# ruff: noqa: F811 - the fixtures imported from fakes.fixtures are test arguments
from __future__ import annotations

from captions_support import captions_stack, first_seen, highlighted, open_overlay, samples_of_one_clip
from fakes.fixtures import edge_server, no_proxy  # noqa: F401 - fixtures
from fakes.usp import UspServer

from tts_core.engines.edge_engine import EdgeEngine

# Uneven words, so engine times and an estimate by length differ.
TEXT = "Hi everybody, welcome to the extraordinarily cozy stream tonight"


def test_the_overlay_highlights_words_at_the_times_edge_reported(make_manager, page, edge_server: UspServer):
    edge_server.tone_ms = 4000
    with captions_stack(make_manager, EdgeEngine(timeout=10)) as stack:
        open_overlay(page, stack)
        message_id = stack.speak(TEXT)
        started = stack.event("playback_started", message_id)
        samples = samples_of_one_clip(page)
        stack.event("playback_finished", message_id)

    assert started["word_timing"] == "engine"
    sent = [(text, round(offset / 10_000), round(offset / 10_000) + round(duration / 10_000))
            for text, offset, duration in edge_server.sent_words]
    got = [(w["text"].strip(","), w["start_ms"], w["end_ms"]) for w in started["words"]]
    assert got == sent  # what the service said, through edge-tts, the engine and the queue
    order = highlighted(samples)
    assert order == sorted(order) and len(set(order)) >= 5, order
    seen = first_seen(samples)
    # Every word of the fake lasts the same time (the long ones too): the highlight spent about
    # as long on the short words as on the long ones, as the engine said, unlike a length estimate.
    first, last = min(seen), max(seen)
    expected = started["words"][last]["start_ms"] - started["words"][first]["start_ms"]
    assert seen[last] - seen[first] > expected * 0.6, (seen, started["words"])
    assert last == len(TEXT.split()) - 1
