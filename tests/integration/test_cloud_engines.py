"""gTTS, Azure Speech and edge-tts run their real client code against loopback servers
that answer like the real services (tests/fakes); nothing reaches the internet."""

# ruff: noqa: F811 - the fixtures imported from fakes.fixtures are test arguments

from __future__ import annotations

import html
import re
import time

import pytest
from doubles import wait_until
from fakes.fixtures import azure_server, edge_server, google, no_proxy  # noqa: F401 - fixtures
from fakes.google import FakeGoogle
from fakes.usp import UspServer, ssml_text

from tts_core import ConfigError, MessagePriority, TTSConfig
from tts_core.domain.audio import Clip
from tts_core.engines import (
    EngineRateLimited,
    PermanentEngineError,
    TransientEngineError,
    create_engine,
)
from tts_core.engines.azure_engine import AzureEngine
from tts_core.engines.edge_engine import EdgeEngine
from tts_core.engines.gtts_engine import GTTSEngine

KEY = "0123456789abcdef-secret-key"
INJECTION = 'hi </voice><voice name="en-US-GuyNeural"><break time="10s"/>evil</voice> & \'bye\''

# -- gTTS ------------------------------------------------------------------------------


def test_gtts_speaks_mp3_one_request_per_piece_in_order(google: FakeGoogle):
    text = "Thanks for the follow, NewFollower! " + "Welcome to the stream, enjoy your stay here. " * 4
    clip = Clip.from_bytes(GTTSEngine(lang="en", tld="co.uk", timeout=5).synthesize(text))
    assert clip.format == "mp3"
    assert len(google.texts) >= 3  # gTTS splits at punctuation into <= 100-character pieces
    assert _words(" ".join(google.texts)) == _words(text)  # all of it, in order
    # every piece is one 500 ms MP3 (plus encoder padding), concatenated
    assert len(google.texts) * 500 <= clip.duration_ms <= len(google.texts) * 600


def test_gtts_429_is_rate_limited_with_retry_after(google: FakeGoogle):
    google.mode = "429"
    with pytest.raises(EngineRateLimited) as caught:
        GTTSEngine(timeout=5).synthesize("hello")
    assert caught.value.retry_after == 7.0 and "429" in str(caught.value)


def test_gtts_500_and_empty_answer_are_transient(google: FakeGoogle):
    engine = GTTSEngine(timeout=5)
    google.mode = "500"
    with pytest.raises(TransientEngineError, match="server error 500"):
        engine.synthesize("hello")
    google.mode = "empty"
    with pytest.raises(TransientEngineError, match="without audio"):
        engine.synthesize("hello")


def test_gtts_unknown_language_is_permanent_and_names_it():
    with pytest.raises(PermanentEngineError, match="unknown language 'xx-klingon'"):
        GTTSEngine(lang="xx-klingon")


def test_gtts_nothing_listening_is_transient(google: FakeGoogle):
    google.stop()
    with pytest.raises(TransientEngineError, match="cannot reach Google"):
        GTTSEngine(timeout=2).synthesize("hello")


def test_gtts_through_the_queue_retries_429_and_500_then_plays(google: FakeGoogle, make_manager, tmp_path):
    google.modes = ["429", "500"]
    google.retry_after = "0"
    config = TTSConfig(max_retries=3, retry_backoff_seconds=0.05, data_dir=str(tmp_path))  # clip cache there
    config.engine.name = "gtts"
    manager = make_manager(config)
    events: list[dict] = []
    manager.subscribe(events.append)
    manager.start()
    manager.add_message("Thanks for the raid!", MessagePriority.HIGH)
    assert manager.wait_until_idle(60)
    _wait_for(lambda: any(e["event"] == "playback_finished" for e in events))
    stats = manager.get_stats()
    assert stats["played"] == 1 and stats["failed"] == 0 and stats["retried"] == 2
    assert google.texts == ["Thanks for the raid!"]


# -- Azure Speech ----------------------------------------------------------------------------


def azure(server: UspServer, **options) -> AzureEngine:
    return AzureEngine(key=KEY, host=f"ws://127.0.0.1:{server.port}", timeout=10, **options)


def test_azure_speaks_pcm_wav_and_sends_the_key_in_the_handshake(azure_server: UspServer):
    clip = Clip.from_bytes(azure(azure_server).synthesize("Thanks for the sub!"))
    assert clip.format == "wav" and 380 <= clip.duration_ms <= 420  # the fake sends 400 ms of PCM
    assert azure_server.handshake_headers[0]["Ocp-Apim-Subscription-Key"] == KEY
    (ssml,) = azure_server.ssml_bodies
    assert '<voice name="en-US-AriaNeural">Thanks for the sub!</voice>' in ssml


def test_azure_ssml_injection_is_spoken_as_plain_text(azure_server: UspServer):
    azure(azure_server).synthesize(INJECTION)
    (ssml,) = azure_server.ssml_bodies
    assert ssml.count("<voice ") == 1 and "<break" not in ssml and "GuyNeural\"" not in ssml
    assert "&lt;/voice&gt;&lt;voice name=&quot;en-US-GuyNeural&quot;&gt;" in ssml
    assert html.unescape(ssml_text(ssml)) == INJECTION  # what is spoken is exactly the text


def test_azure_voice_and_prosody_are_in_the_ssml(azure_server: UspServer):
    engine = azure(azure_server, voice="de-DE-KatjaNeural", pitch="+5%")
    engine.synthesize("Hallo", rate=210, volume=0.5)
    (ssml,) = azure_server.ssml_bodies
    assert 'xml:lang="de-DE"' in ssml and '<voice name="de-DE-KatjaNeural">' in ssml
    assert re.search(r'<prosody rate="\+20%" pitch="\+5%" volume="50">Hallo</prosody>', ssml)


def test_azure_401_at_the_handshake_is_permanent_and_never_shows_the_key(azure_server: UspServer):
    azure_server.handshake_status = 401
    engine = azure(azure_server)
    with pytest.raises(PermanentEngineError, match="key was refused") as caught:
        engine.synthesize("hello")
    assert KEY not in str(caught.value) and KEY not in repr(engine) and "***" in repr(engine)


def test_azure_429_is_rate_limited_and_500_transient(azure_server: UspServer):
    azure_server.handshake_status = 429
    azure_server.retry_after = "3"
    with pytest.raises(EngineRateLimited, match="429"):
        azure(azure_server).synthesize("hello")
    azure_server.handshake_status = 500
    with pytest.raises(TransientEngineError):
        azure(azure_server).synthesize("hello")


def test_azure_a_service_that_never_ends_the_turn_times_out(azure_server: UspServer):
    azure_server.hang = True
    engine = AzureEngine(key=KEY, host=f"ws://127.0.0.1:{azure_server.port}", timeout=1.5)
    started = time.monotonic()
    with pytest.raises(TransientEngineError, match=r"no answer within 1\.5 s"):
        engine.synthesize("hello")
    assert time.monotonic() - started < 10


def test_azure_bad_settings_fail_with_the_key_to_fix():
    with pytest.raises(PermanentEngineError, match=r"engine\.azure\.key"):
        AzureEngine(region="westeurope")
    with pytest.raises(PermanentEngineError, match=r"engine\.azure\.region"):
        AzureEngine(key=KEY)
    with pytest.raises(PermanentEngineError, match="invalid voice name"):
        AzureEngine(key=KEY, region="westeurope", voice='x"><evil')


def test_azure_nothing_listening_is_transient(azure_server: UspServer):
    engine = azure(azure_server)
    azure_server.stop()
    with pytest.raises(TransientEngineError):
        engine.synthesize("hello")


def test_azure_lists_voices_from_the_service(azure_server: UspServer):
    azure_server.voices = [{"ShortName": "en-US-AriaNeural", "Locale": "en-US", "Gender": "Female",
                            "LocalName": "Aria", "DisplayName": "Aria", "VoiceType": "Neural", "Status": "GA",
                            "Name": "Microsoft Server Speech Text to Speech Voice (en-US, AriaNeural)"}]
    voices = azure(azure_server).list_voices()
    assert [(v.id, v.language, v.gender) for v in voices] == [("en-US-AriaNeural", "en-US", "female")]
    assert azure_server.handshake_headers[-1]["Ocp-Apim-Subscription-Key"] == KEY


# -- edge-tts ------------------------------------------------------------------------------


def test_edge_speaks_mp3_with_voice_and_rate(edge_server: UspServer):
    clip = Clip.from_bytes(EdgeEngine(voice="de-DE-KatjaNeural", timeout=10).synthesize(INJECTION, rate=210))
    assert clip.format == "mp3" and 400 <= clip.duration_ms <= 600
    (ssml,) = edge_server.ssml_bodies
    assert "(de-DE, KatjaNeural)" in ssml and "rate='+20%'" in ssml
    assert "<break" not in ssml and html.unescape(ssml_text(ssml)) == INJECTION


def test_edge_lists_voices_from_the_service(edge_server: UspServer):
    voices = create_engine("edge").list_voices()
    assert [(v.id, v.language, v.gender) for v in voices] == [
        ("en-US-AriaNeural", "en-US", "female"), ("de-DE-KatjaNeural", "de-DE", "female")]


def test_edge_429_401_and_hang_are_classified(edge_server: UspServer):
    edge_server.handshake_status, edge_server.retry_after = 429, "5"
    with pytest.raises(EngineRateLimited) as caught:
        EdgeEngine(timeout=10).synthesize("hello")
    assert caught.value.retry_after == 5.0
    edge_server.handshake_status = 401
    with pytest.raises(PermanentEngineError, match="401"):
        EdgeEngine(timeout=10).synthesize("hello")
    edge_server.handshake_status, edge_server.hang = None, True
    with pytest.raises(TransientEngineError, match=r"within 1\.5 s"):
        EdgeEngine(timeout=1.5).synthesize("hello")


def test_edge_invalid_voice_is_permanent():
    with pytest.raises(PermanentEngineError, match="voice"):
        EdgeEngine(voice="not a voice").synthesize("hello")


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def _wait_for(condition, timeout: float = 10.0) -> None:
    assert wait_until(condition, timeout), "condition not met in time"


def test_edge_seed_engine_works_from_async_code_too(edge_server: UspServer):
    import asyncio

    from tts_core import EdgeTTSEngine

    async def inside_a_loop() -> bytes:
        return EdgeTTSEngine(voice="en-US-AriaNeural").generate_audio("hello from async code")

    assert Clip.from_bytes(asyncio.run(inside_a_loop())).format == "mp3"


def test_the_azure_key_is_hidden_in_the_config_too():
    config = TTSConfig.from_dict({"engine": {"name": "azure", "azure": {"key": KEY, "region": "westeurope"}}})
    assert KEY not in repr(config) and "***" in repr(config.engine)
    with pytest.raises(ConfigError, match=r"engine\.azure\.key must be str or null, got int$"):
        TTSConfig.from_dict({"engine": {"azure": {"key": 123456789}}})
