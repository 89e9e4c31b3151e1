"""The ElevenLabs engine runs the real ``elevenlabs`` SDK against a loopback aiohttp
server that answers like ElevenLabs' text-to-speech API; nothing reaches the internet."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fakes.fixtures import no_proxy  # noqa: F401 - fixture

from tts_core import MessagePriority, TTSConfig
from tts_core.domain.audio import Clip
from tts_core.engines import EngineRateLimited, PermanentEngineError, TransientEngineError, create_engine
from tts_core.engines.support import installed

if not installed("elevenlabs"):  # the dev extra installs it on every supported Python
    pytest.fail("the elevenlabs SDK is missing: pip install -e '.[dev]'", pytrace=False)

from fakes.elevenlabs import FakeElevenLabs

from tts_core.engines.elevenlabs_engine import ElevenLabsEngine

KEY = "good-key-0123456789"


@pytest.fixture
def server() -> Iterator[FakeElevenLabs]:
    fake = FakeElevenLabs().start()
    yield fake
    fake.stop()


def engine(server: FakeElevenLabs, **options) -> ElevenLabsEngine:
    options.setdefault("timeout", 5)
    options.setdefault("key", KEY)
    return ElevenLabsEngine(base_url=server.base_url, **options)


def test_speaks_mp3_with_the_voice_by_name_model_and_settings(server: FakeElevenLabs):
    clip = Clip.from_bytes(engine(server, voice="adam", model="eleven_flash_v2_5", stability=0.4,
                                  similarity_boost=0.8).synthesize("Thanks for the raid!"))
    assert clip.format == "mp3" and 450 <= clip.duration_ms <= 600
    request = server.requests[0]
    assert request["voice_id"] == "pNInz6obpgDQGcFmaJgB" and request["model_id"] == "eleven_flash_v2_5"
    assert request["query"]["output_format"] == "mp3_44100_128" and request["text"] == "Thanks for the raid!"
    settings = request["voice_settings"]
    assert settings["stability"] == 0.4 and settings["similarity_boost"] == 0.8
    assert server.headers[-1]["xi-api-key"] == KEY


def test_pcm_becomes_a_wav_clip_and_rate_becomes_speed(server: FakeElevenLabs):
    clip = Clip.from_bytes(engine(server, output_format="pcm_24000").synthesize("hi", rate=200))
    assert clip.format == "wav" and 450 <= clip.duration_ms <= 550
    assert server.requests[0]["voice_settings"]["speed"] == round(200 / 175, 3)


def test_voices_come_from_the_account(server: FakeElevenLabs):
    voices = engine(server).list_voices()
    assert [(v.id, v.name, v.gender) for v in voices] == [
        ("21m00Tcm4TlvDq8ikWAM", "Rachel", "female"), ("pNInz6obpgDQGcFmaJgB", "Adam", "male")]
    engine(server).check_voice("Rachel")
    with pytest.raises(PermanentEngineError, match="unknown voice 'Klingon'"):
        engine(server).check_voice("Klingon")


def test_invalid_key_quota_unknown_voice_or_model_are_permanent_and_never_show_the_key(server):
    cases = {"401": "key was refused \\(401\\)", "quota": "quota is used up",
             "404": "unknown voice 'nobody'", "400-model": "unknown voice 'nobody' or model",
             "422": "refused the request \\(422.*field required"}
    for mode, pattern in cases.items():
        server.mode = mode
        with pytest.raises(PermanentEngineError, match=pattern) as caught:
            engine(server).synthesize("hello", voice="nobody")
        assert KEY not in str(caught.value)
    assert KEY not in repr(engine(server))


def test_429_waits_its_retry_after_5xx_empty_and_nothing_listening_are_transient(server):
    server.mode = "429"
    with pytest.raises(EngineRateLimited, match="too_many_concurrent_requests") as caught:
        engine(server).synthesize("hello")
    assert caught.value.retry_after == 3.0
    tts = engine(server)
    server.mode = "500"
    with pytest.raises(TransientEngineError, match="server error 500"):
        tts.synthesize("hello")
    server.mode = "empty"
    with pytest.raises(TransientEngineError, match="without audio"):
        tts.synthesize("hello")
    server.stop()
    with pytest.raises(TransientEngineError, match="cannot reach"):
        tts.synthesize("hello", voice="21m00Tcm4TlvDq8ikWAM")


def test_a_service_that_hangs_times_out_within_the_call_time_out(server: FakeElevenLabs):
    tts = engine(server, timeout=1)
    tts.list_voices()
    server.mode = "hang"
    started = time.monotonic()
    with pytest.raises(TransientEngineError, match="did not answer in time"):
        tts.synthesize("hello")
    assert time.monotonic() - started < 4  # one call, no SDK retries


def test_bad_settings_fail_at_once_naming_the_setting(monkeypatch):
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    with pytest.raises(PermanentEngineError, match=r"no key: set engine\.elevenlabs\.key"):
        ElevenLabsEngine()
    with pytest.raises(PermanentEngineError, match="output_format must be an MP3"):
        ElevenLabsEngine(key=KEY, output_format="ulaw_8000")
    with pytest.raises(PermanentEngineError, match="stability must be"):
        ElevenLabsEngine(key=KEY, stability=3)


def test_config_section_reaches_the_engine_and_the_key_is_hidden(server: FakeElevenLabs):
    config = TTSConfig.from_dict({"engine": {"name": "elevenlabs", "voice": "Rachel", "elevenlabs": {
        "base_url": server.base_url, "key": KEY, "model": "eleven_turbo_v2_5", "output_format": "pcm_16000",
        "stability": 0.5, "similarity_boost": 0.75, "timeout": 5}}})
    tts = create_engine("elevenlabs", **config.engine.options_for("elevenlabs"))
    assert Clip.from_bytes(tts.synthesize("hi")).format == "wav"
    assert server.requests[-1]["voice_id"] == "21m00Tcm4TlvDq8ikWAM"
    assert KEY not in repr(config) and KEY not in repr(config.engine)


def test_an_exhausted_quota_hands_every_message_to_the_fallback_engine(server: FakeElevenLabs, make_manager,
                                                                        tmp_path):
    server.mode = "quota"
    config = TTSConfig(max_retries=2, retry_backoff_seconds=0.02, rate_limit_per_minute=0,
                       max_concurrent_workers=1, data_dir=str(tmp_path))
    config.engine.name, config.engine.fallback = "elevenlabs", ["espeak"]
    config.engine.elevenlabs = {"base_url": server.base_url, "key": KEY, "timeout": 5,
                                "voice": "21m00Tcm4TlvDq8ikWAM"}
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
    assert all(e["engine"] == "espeak" and e["fallback_from"] == "elevenlabs" for e in started)
    assert len(server.requests) == 1  # refused once: no retries, then elevenlabs counts as down
    assert manager.get_stats()["fallbacks"] == 2
