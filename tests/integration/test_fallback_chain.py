"""Fallback chain and clip cache through the real queue: gTTS/Azure against loopback
services that fail, espeak-ng speaking instead."""

from __future__ import annotations

# ruff: noqa: F811 - the fixtures imported from fakes.fixtures are test arguments
from fakes.fixtures import azure_server, google, no_proxy  # noqa: F401 - fixtures
from fakes.google import FakeGoogle
from fakes.usp import UspServer

from tts_core import MessagePriority, TTSConfig
from tts_core.engines import Engine, EspeakEngine, TransientEngineError
from tts_core.engines.cache import ClipCache
from tts_core.engines.chain import EngineChain, Link, engine_from_config


def _config(tmp_path, name: str, fallback: list[str], **section) -> TTSConfig:
    config = TTSConfig(max_retries=1, retry_backoff_seconds=0.02, max_concurrent_workers=2,
                       rate_limit_per_minute=0, data_dir=str(tmp_path))
    config.engine.name, config.engine.fallback = name, fallback
    if section:
        setattr(config.engine, name, section)
    return config


def _run(make_manager, config: TTSConfig, texts: list[tuple[str, MessagePriority]]):
    manager = make_manager(config)
    events: list[dict] = []
    manager.subscribe(events.append)
    manager.pause()  # queue everything first, so the playback order is the queue's order
    manager.start()
    ids = [manager.add_message(text, priority) for text, priority in texts]
    manager.resume()
    assert manager.wait_until_idle(120)
    assert manager.events.flush()  # every event of these messages is delivered
    return manager, events, ids


MESSAGES = [
    ("first normal", MessagePriority.NORMAL),
    ("a low one", MessagePriority.LOW),
    ("second normal", MessagePriority.NORMAL),
    ("urgent donation", MessagePriority.URGENT),
    ("high sub", MessagePriority.HIGH),
    ("third normal", MessagePriority.NORMAL),
]
EXPECTED_ORDER = ["urgent donation", "high sub", "first normal", "second normal", "third normal", "a low one"]


def test_gtts_failing_every_call_every_message_is_spoken_by_espeak_in_order(
        google: FakeGoogle, make_manager, tmp_path):
    google.mode = "500"
    manager, events, _ = _run(make_manager, _config(tmp_path, "gtts", ["espeak"]), MESSAGES)
    started = [e for e in events if e["event"] == "playback_started"]
    assert [e["text"] for e in started] == EXPECTED_ORDER
    assert all(e["engine"] == "espeak" and e["fallback_from"] == "gtts" for e in started)
    finished = [e for e in events if e["event"] == "playback_finished"]
    assert len(finished) == 6 and all(e["fallback_from"] == "gtts" for e in finished)
    stats = manager.get_stats()
    assert stats["played"] == 6 and stats["failed"] == 0 and stats["fallbacks"] == 6
    assert stats["accepted"] == stats["played"]
    # after its retries ran out, gtts was "down": later messages went straight to espeak
    assert google.requests < len(MESSAGES) * 2


def test_azure_refusing_the_key_falls_back_at_once_without_retries(
        azure_server: UspServer, make_manager, tmp_path):
    azure_server.handshake_status = 401
    config = _config(tmp_path, "azure", ["espeak"], key="bad-key-0000", host=f"ws://127.0.0.1:{azure_server.port}")
    manager, events, _ = _run(make_manager, config, MESSAGES[:3])
    started = [e for e in events if e["event"] == "playback_started"]
    assert [e["engine"] for e in started] == ["espeak"] * 3
    assert {e["fallback_from"] for e in started} == {"azure"}
    assert manager.get_stats()["retried"] == 0  # permanent: no retry on azure


def test_an_engine_that_is_not_set_up_is_skipped(make_manager, tmp_path):
    config = _config(tmp_path, "azure", ["espeak"])  # no key: azure cannot start
    _, events, _ = _run(make_manager, config, MESSAGES[:2])
    assert [(e["engine"], e["fallback_from"]) for e in events if e["event"] == "playback_started"] == [
        ("espeak", "azure"), ("espeak", "azure")]


def test_a_working_first_engine_speaks_and_the_cache_spares_the_second_call(
        google: FakeGoogle, make_manager, tmp_path):
    texts = [("NewFollower just followed!", MessagePriority.HIGH)] * 3 + [("Someone else followed!",
                                                                            MessagePriority.HIGH)]
    manager, events, _ = _run(make_manager, _config(tmp_path, "gtts", ["espeak"]), texts)
    started = [e for e in events if e["event"] == "playback_started"]
    assert [e["engine"] for e in started] == ["gtts"] * 4 and not any("fallback_from" in e for e in started)
    assert sorted(google.texts) == ["NewFollower just followed!", "Someone else followed!"]
    assert manager.get_stats()["cache_hits"] == 2
    # the cache is on disk: a new chain (after a restart) needs no request either
    chain = engine_from_config(_config(tmp_path, "gtts", ["espeak"]))
    chain.synthesize("NewFollower just followed!")
    assert len(google.texts) == 2


def test_chain_retries_an_engine_before_moving_on(tmp_path):
    calls: list[str] = []

    class Flaky(Engine):
        name = "flaky"

        def synthesize(self, text, voice=None, rate=None, volume=None):
            calls.append(text)
            raise TransientEngineError("server error 503")

    chain = EngineChain([Link("gtts", Flaky), Link("espeak", EspeakEngine)], max_retries=2,
                        cache=ClipCache(tmp_path))
    from tts_core.domain.message import TTSMessage

    msg = TTSMessage("hello there", MessagePriority.NORMAL, 1)
    for attempt in (1, 2, 3):  # the worker's attempts: the first engine keeps its retries
        msg.attempts = attempt
        try:
            chain.synthesize_message(msg, None, None, None)
        except TransientEngineError:
            assert attempt < 3
    assert len(calls) == 3 and msg.engine == "espeak" and msg.fallback_from == "gtts"


def test_a_hanging_engine_times_out_and_the_next_one_speaks(azure_server: UspServer, make_manager, tmp_path):
    azure_server.hang = True  # answers turn.start and audio, never turn.end
    config = _config(tmp_path, "azure", ["espeak"], key="k" * 32, host=f"ws://127.0.0.1:{azure_server.port}")
    config.max_retries, config.engine_timeout_seconds = 0, 2.0  # azure gives up after 1.5 s
    manager, events, _ = _run(make_manager, config, MESSAGES[:4])
    started = [e for e in events if e["event"] == "playback_started"]
    assert [(e["engine"], e["fallback_from"]) for e in started] == [("espeak", "azure")] * 4
    assert manager.get_stats()["failed"] == 0
    # once it timed out, azure is down: not every message waited for it
    assert len(azure_server.ssml_bodies) <= config.max_concurrent_workers


def test_a_long_retry_after_hands_over_at_once_and_marks_the_engine_down(
        google: FakeGoogle, make_manager, tmp_path):
    google.mode, google.retry_after = "429", "120"  # "come back in two minutes"
    config = _config(tmp_path, "gtts", ["espeak"])
    config.max_retries = 3
    manager, events, _ = _run(make_manager, config, MESSAGES[:4])
    started = [e for e in events if e["event"] == "playback_started"]
    assert [(e["engine"], e["fallback_from"]) for e in started] == [("espeak", "gtts")] * 4
    assert manager.get_stats()["retried"] == 0  # nobody waited two minutes for Google
    assert google.requests <= config.max_concurrent_workers  # then gtts counted as down
    chain = manager.engine
    assert chain.status().startswith("gtts down for 1") and chain.status().endswith("; espeak speaks")


def test_the_cache_never_serves_a_clip_made_with_other_settings(google: FakeGoogle, tmp_path):
    com = _config(tmp_path, "gtts", [], tld="com")
    engine_from_config(com).synthesize("NewFollower just followed!")
    engine_from_config(com).synthesize("NewFollower just followed!")
    assert len(google.texts) == 1
    engine_from_config(_config(tmp_path, "gtts", [], tld="co.uk")).synthesize("NewFollower just followed!")
    slow = _config(tmp_path, "gtts", [], tld="com")
    slow.engine.rate = 100
    engine_from_config(slow).synthesize("NewFollower just followed!")
    engine_from_config(com).synthesize("NewFollower just followed")  # no "!": another text
    assert len(google.texts) == 4
