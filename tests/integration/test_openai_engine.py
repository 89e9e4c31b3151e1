"""The OpenAI-compatible engine runs the real ``openai`` SDK against a loopback aiohttp
server that answers like ``POST /v1/audio/speech`` (binary audio, OpenAI's JSON error
bodies); nothing reaches the internet."""



from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fakes.fixtures import no_proxy  # noqa: F401 - fixture

from tts_core import MessagePriority, TTSConfig
from tts_core.domain.audio import Clip
from tts_core.engines import (
    EngineRateLimited,
    PermanentEngineError,
    TransientEngineError,
    create_engine,
)
from tts_core.engines.support import installed

if not installed("openai"):  # the dev extra installs it on every supported Python
    pytest.fail("the openai SDK is missing: pip install -e '.[dev]'", pytrace=False)

from fakes.openai_speech import FakeOpenAI

from tts_core.engines.openai_engine import OpenAIEngine

KEY = "sk-test-0123456789abcdef-secret"


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    yield fake
    fake.stop()


def engine(server: FakeOpenAI, **options) -> OpenAIEngine:
    options.setdefault("timeout", 5)
    return OpenAIEngine(base_url=server.base_url, **options)


@pytest.mark.parametrize("fmt", ["mp3", "wav", "pcm"])
def test_speaks_each_format_as_a_clip_the_players_know(server: FakeOpenAI, fmt: str):
    clip = Clip.from_bytes(engine(server, response_format=fmt, model="kokoro", voice="af_bella",
                                  speed=1.25).synthesize("Thanks for the sub!"))
    assert clip.format == ("mp3" if fmt == "mp3" else "wav")
    assert 450 <= clip.duration_ms <= 600
    assert server.requests == [{"model": "kokoro", "voice": "af_bella", "input": "Thanks for the sub!",
                                "response_format": fmt, "speed": 1.25}]


def test_rate_in_words_per_minute_becomes_speed_and_a_message_voice_wins(server: FakeOpenAI):
    engine(server).synthesize("hello", voice="nova", rate=350)
    assert server.requests[0]["speed"] == 2.0 and server.requests[0]["voice"] == "nova"
    assert server.requests[0]["model"] == "tts-1"


def test_without_a_key_no_authorization_is_sent_with_one_it_is(server: FakeOpenAI, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    engine(server).synthesize("hello")
    engine(server, key=KEY).synthesize("hello")
    assert "Authorization" not in server.headers[0]
    assert server.headers[1]["Authorization"] == f"Bearer {KEY}"


def test_401_and_403_are_permanent_and_never_show_the_key(server: FakeOpenAI):
    tts = engine(server, key=KEY)
    for mode in ("401", "403"):
        server.mode = mode
        with pytest.raises(PermanentEngineError, match=f"key was refused \\({mode}\\)") as caught:
            tts.synthesize("hello")
        assert KEY not in str(caught.value) and KEY not in repr(tts)


def test_unknown_model_404_and_unknown_voice_400_are_permanent_and_name_them(server: FakeOpenAI):
    server.mode = "404"
    with pytest.raises(PermanentEngineError, match="unknown model 'tts-9' or voice 'alloy' \\(404\\)"):
        engine(server, model="tts-9").synthesize("hello")
    server.mode = "400-voice"
    with pytest.raises(PermanentEngineError, match=r"400.*voice 'klingon'.*Invalid value"):
        engine(server).synthesize("hello", voice="klingon")


def test_429_is_rate_limited_with_retry_after_and_an_empty_quota_is_permanent(server: FakeOpenAI):
    server.mode = "429"
    with pytest.raises(EngineRateLimited, match="429") as caught:
        engine(server).synthesize("hello")
    assert caught.value.retry_after == 3.0
    server.mode, server.retry_after = "429", None
    with pytest.raises(EngineRateLimited) as caught:
        engine(server).synthesize("hello")
    assert caught.value.retry_after is None
    server.mode = "quota"
    with pytest.raises(PermanentEngineError, match="quota is used up"):
        engine(server).synthesize("hello")


def test_5xx_empty_answers_and_nothing_listening_are_transient(server: FakeOpenAI):
    tts = engine(server)
    for mode in ("500", "503"):
        server.mode = mode
        with pytest.raises(TransientEngineError, match=f"server error {mode}"):
            tts.synthesize("hello")
    server.mode = "empty"
    with pytest.raises(TransientEngineError, match="without audio"):
        tts.synthesize("hello")
    server.stop()
    with pytest.raises(TransientEngineError, match="cannot reach"):
        tts.synthesize("hello")


def test_a_server_that_hangs_times_out_within_the_call_time_out(server: FakeOpenAI):
    server.mode = "hang"
    started = time.monotonic()
    with pytest.raises(TransientEngineError, match="did not answer in time"):
        engine(server, timeout=1).synthesize("hello")
    assert time.monotonic() - started < 4  # one call, no SDK retries


def test_voices_come_from_the_server_where_it_lists_them_else_from_config(server: FakeOpenAI):
    server.voices = ["af_bella", "am_adam"]
    tts = engine(server)
    assert [v.id for v in tts.list_voices()] == ["af_bella", "am_adam"]
    tts.check_voice("am_adam")
    with pytest.raises(PermanentEngineError, match="unknown voice 'alloy'"):
        tts.check_voice("alloy")
    server.voices = None  # OpenAI's own API has no such route (404)
    assert [v.id for v in engine(server, voices=["my_voice"]).list_voices()] == ["my_voice"]
    assert "alloy" in [v.id for v in engine(server).list_voices()]
    engine(server).check_voice("anything")  # nothing to check against: the server decides


def test_bad_settings_fail_at_once_naming_the_setting(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(PermanentEngineError, match="response_format must be one of mp3, wav, pcm"):
        OpenAIEngine(base_url="http://127.0.0.1:9/v1", response_format="opus")
    with pytest.raises(PermanentEngineError, match=r"speed must be 0\.25-4\.0"):
        OpenAIEngine(base_url="http://127.0.0.1:9/v1", speed=9)
    with pytest.raises(PermanentEngineError, match=r"api\.openai\.com needs a key"):
        OpenAIEngine()


def test_config_section_reaches_the_engine_and_the_key_is_hidden(server: FakeOpenAI):
    config = TTSConfig.from_dict({"engine": {"name": "openai", "voice": "nova", "openai": {
        "base_url": server.base_url, "key": KEY, "model": "gpt-4o-mini-tts", "response_format": "wav",
        "speed": 1.0, "timeout": 5, "voices": ["nova"]}}})
    tts = create_engine("openai", **config.engine.options_for("openai"))
    assert Clip.from_bytes(tts.synthesize("hi")).format == "wav"
    assert server.requests[-1]["model"] == "gpt-4o-mini-tts" and server.requests[-1]["voice"] == "nova"
    assert KEY not in repr(config) and KEY not in repr(config.engine)


def test_a_permanent_error_hands_every_message_to_the_fallback_engine(server: FakeOpenAI, make_manager,
                                                                       tmp_path):
    server.mode = "401"
    config = TTSConfig(max_retries=2, retry_backoff_seconds=0.02, rate_limit_per_minute=0,
                       max_concurrent_workers=1, data_dir=str(tmp_path))
    config.engine.name, config.engine.fallback = "openai", ["espeak"]
    config.engine.openai = {"base_url": server.base_url, "key": KEY, "timeout": 5}
    manager = make_manager(config)
    events: list[dict] = []
    manager.subscribe(events.append)
    manager.start()
    manager.add_message("first donation", MessagePriority.HIGH)
    manager.add_message("second donation", MessagePriority.HIGH)
    assert manager.wait_until_idle(60)
    assert manager.events.flush()
    started = [e for e in events if e["event"] == "playback_started"]
    assert sorted(e["text"] for e in started) == ["first donation", "second donation"]
    assert all(e["engine"] == "espeak" and e["fallback_from"] == "openai" for e in started)
    assert len(server.requests) == 1  # refused once: no retries, then openai counts as down
    stats = manager.get_stats()
    assert stats["played"] == 2 and stats["failed"] == 0 and stats["fallbacks"] == 2


def test_429_then_500_through_the_queue_are_retried_and_the_clip_plays(server: FakeOpenAI, make_manager,
                                                                        tmp_path):
    server.modes, server.retry_after = ["429", "500"], "0"
    config = TTSConfig(max_retries=3, retry_backoff_seconds=0.02, rate_limit_per_minute=0,
                       data_dir=str(tmp_path))
    config.engine.name = "openai"
    config.engine.openai = {"base_url": server.base_url, "timeout": 5}
    manager = make_manager(config)
    events: list[dict] = []
    manager.subscribe(events.append)
    manager.start()
    manager.add_message("retried until it plays", MessagePriority.NORMAL)
    assert manager.wait_until_idle(60)
    assert manager.events.flush()
    assert [e["engine"] for e in events if e["event"] == "playback_started"] == ["openai"]
    assert len(server.requests) == 3 and manager.get_stats()["played"] == 1
