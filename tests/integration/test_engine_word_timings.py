"""Word timings in ``playback_started`` (for the captions overlay): Azure's and Edge's real
client code against loopback services that send word boundaries like the real ones, through
the queue, the engine chain and its clip cache; an even estimate for espeak-ng."""

# ruff: noqa: F811 - the fixtures imported from fakes.fixtures are test arguments
from __future__ import annotations

from itertools import pairwise
from typing import Any

from doubles import wait_until
from fakes.fixtures import azure_server, edge_server, no_proxy  # noqa: F401 - fixtures
from fakes.usp import UspServer

from tts_core import MessagePriority, TTSConfig, TTSQueueManager

KEY = "0123456789abcdef-secret-key"


def started_events(manager: TTSQueueManager, texts: list[str]) -> list[dict[str, Any]]:
    """Speak ``texts`` one after the other; their playback_started events."""
    events: list[dict[str, Any]] = []
    manager.subscribe(events.append)
    manager.start()
    for text in texts:
        manager.add_message(text, MessagePriority.NORMAL)
    assert manager.wait_until_idle(60)
    assert wait_until(lambda: sum(e["event"] == "playback_finished" for e in events) == len(texts), 10)
    return [e for e in events if e["event"] == "playback_started"]


def engine_config(name: str, tmp_path, **options: Any) -> TTSConfig:
    return TTSConfig.from_dict({"tts_queue": {"rate_limit_per_minute": 0, "data_dir": str(tmp_path)},
                                "engine": {"name": name, name: options}})


def sent_ms(server: UspServer) -> list[tuple[str, int, int]]:
    return [(text, round(offset / 10_000), round(offset / 10_000) + round(duration / 10_000))
            for text, offset, duration in server.sent_words]


def test_azure_word_boundaries_reach_playback_started_and_survive_the_clip_cache(
        azure_server: UspServer, make_manager, tmp_path):
    azure_server.tone_ms = 1500
    text = "Thanks Bob & Alice, you rock!"
    config = engine_config("azure", tmp_path, key=KEY, host=f"ws://127.0.0.1:{azure_server.port}")
    first, again = started_events(make_manager(config), [text, text])

    assert len(azure_server.ssml_bodies) == 1  # the second clip came from the cache
    assert first["word_timing"] == again["word_timing"] == "engine"
    assert [w["text"] for w in first["words"]] == text.split()  # the text as spoken, word by word
    sent = sent_ms(azure_server)
    assert [w["text"] for w in first["words"]] == ["Thanks", "Bob", "&", "Alice,", "you", "rock!"]
    assert [(w["start_ms"], w["end_ms"]) for w in first["words"]] == [(start, end) for _, start, end in sent]
    assert sent[2][0] == "&amp;"  # the service names words as they are in the SSML; the event as spoken
    assert again["words"] == first["words"]


def test_edge_word_boundaries_reach_playback_started(edge_server: UspServer, make_manager, tmp_path):
    edge_server.tone_ms = 1200
    text = "Welcome to the stream, everyone"
    (started,) = started_events(make_manager(engine_config("edge", tmp_path)), [text])
    assert started["word_timing"] == "engine"
    got = [(w["text"].rstrip(","), w["start_ms"], w["end_ms"]) for w in started["words"]]
    assert got == sent_ms(edge_server)
    assert all(0 <= w["start_ms"] <= w["end_ms"] <= started["duration_ms"] for w in started["words"])


def test_espeak_words_are_spread_over_the_clip_as_an_estimate(make_manager, tmp_path):
    text = "Thanks for the raid, everyone! Welcome in."
    (started,) = started_events(make_manager(engine_config("espeak", tmp_path)), [text])
    words = started["words"]
    assert started["word_timing"] == "estimate" and [w["text"] for w in words] == text.split()
    assert words[0]["start_ms"] == 0 and words[-1]["end_ms"] == started["duration_ms"] > 1000
    assert all(a["end_ms"] == b["start_ms"] for a, b in pairwise(words))  # one after the other
    assert words[4]["end_ms"] - words[4]["start_ms"] > words[2]["end_ms"] - words[2]["start_ms"]  # by length
