"""The seed README's engine classes work exactly as it shows, through the real queue."""

from __future__ import annotations

# ruff: noqa: F811 - the fixtures imported from fakes.fixtures are test arguments
from fakes.fixtures import azure_server, edge_server, google, no_proxy  # noqa: F401 - fixtures
from fakes.google import FakeGoogle
from fakes.usp import UspServer

from tts_core import (
    AzureTTS_Engine,
    EdgeTTSEngine,
    GTTS_Engine,
    MessagePriority,
    PiperTTSEngine,
    Pyttsx3TTSEngine,
    TTSConfig,
    TTSQueueManager,
)
from tts_core.domain.audio import Clip


def _speak_through_queue(make_manager, generate_audio) -> list[dict]:
    manager: TTSQueueManager = make_manager(TTSConfig(max_queue_size=1000, max_concurrent_workers=3,
                                                      rate_limit_per_minute=60))
    events: list[dict] = []
    manager.subscribe(events.append)
    manager.set_tts_engine(generate_audio)
    manager.start()
    manager.add_message("Hello world!", MessagePriority.NORMAL)
    manager.add_message("Urgent message!", MessagePriority.URGENT)
    assert manager.wait_until_idle(60)
    assert manager.events.flush()  # every event of the two messages is delivered
    stats = manager.get_stats()
    assert stats["total_processed"] == 2 and stats["total_failed"] == 0
    return [e for e in events if e["event"] == "playback_started"]


def test_pyttsx3_seed_engine(make_manager):
    engine = Pyttsx3TTSEngine(voice_id="english", rate=200)
    assert Clip.from_bytes(engine.generate_audio("Hello there")).format == "wav"
    chosen = {v.id: v for v in engine.list_voices()}[engine._resolved_voice()]
    assert chosen.name.startswith("English") and chosen.language in ("en", "en-gb", "en-us")
    started = _speak_through_queue(make_manager, engine.generate_audio)
    assert [e["text"] for e in started] == ["Urgent message!", "Hello world!"]


def test_gtts_seed_engine(google: FakeGoogle, make_manager):
    engine = GTTS_Engine(language="en", tld="com")
    assert Clip.from_bytes(engine.generate_audio("Hello there")).format == "mp3"
    _speak_through_queue(make_manager, engine.generate_audio)
    assert sorted(google.texts) == ["Hello there", "Hello world!", "Urgent message!"]


def test_azure_seed_engine(azure_server: UspServer, make_manager):
    engine = AzureTTS_Engine(subscription_key="k" * 32, region=None, voice_name="en-US-AriaNeural",
                             host=f"ws://127.0.0.1:{azure_server.port}")
    assert Clip.from_bytes(engine.generate_audio("Hello there")).format == "wav"
    _speak_through_queue(make_manager, engine.generate_audio)
    assert len(azure_server.ssml_bodies) == 3


def test_piper_and_edge_seed_engines(edge_server: UspServer, make_manager):
    piper = PiperTTSEngine()
    assert Clip.from_bytes(piper.generate_audio("Hello there")).duration_ms > 300
    _speak_through_queue(make_manager, piper)  # the object itself is an Engine too
    edge = EdgeTTSEngine(voice="en-US-AriaNeural")
    assert Clip.from_bytes(edge.generate_audio("Hello there")).format == "mp3"
    _speak_through_queue(make_manager, edge.generate_audio)
