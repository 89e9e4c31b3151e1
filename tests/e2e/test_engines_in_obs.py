"""New voices in real OBS: an MP3 clip (gTTS, its real HTTP client against the loopback
Google service) and a Piper clip (the real packaged voice) play through the media
source, one after the other, and are heard in OBS's own recording.

Runs the queue in this process with the remote sink (obs-websocket, clip files), as
`obs-tts serve --sink obs` does, so the engines are this process's.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from audio_analysis import sound_segments
from fakes.fixtures import PROXY_VARIABLES
from fakes.google import FakeGoogle, google_redirected
from fakes.usp import UspServer
from tts_stack import Stack, running_stack, script_in_obs

from tts_core.engines.gtts_engine import GTTSEngine
from tts_core.engines.piper_engine import PiperEngine

log = logging.getLogger(__name__)


@pytest.fixture
def remote_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with running_stack("remote-local", tmp_path, pause_ms=600) as stack:
        yield stack


def test_mp3_and_piper_clips_play_through_the_media_source_and_are_recorded(remote_stack: Stack) -> None:
    stack = remote_stack
    assert stack.manager is not None
    google = FakeGoogle(tone_ms=1200).start()
    try:
        with google_redirected(google):
            t0 = time.monotonic()
            stack.obs.start_recording()
            stack.manager.set_tts_engine(GTTSEngine(timeout=10))
            mp3_id = stack.client.queue({"type": "tts", "text": "Thanks for the raid, everyone!"})
            mp3 = stack.client.wait_event("playback_finished", mp3_id, timeout=30, after=t0)
            stack.manager.set_tts_engine(PiperEngine())
            piper_id = stack.client.queue({"type": "tts", "text": "Thanks for the follow, NewFollower!"})
            piper = stack.client.wait_event("playback_finished", piper_id, timeout=30, after=t0)
            time.sleep(0.5)
            recording = stack.obs.stop_recording()
    finally:
        google.stop()
    assert google.texts == ["Thanks for the raid, everyone!"]

    media = stack.media_events(after=t0)
    assert [e.name[18:] for e in media] == ["Started", "Ended"] * 2, "two clips at once?"
    spans = [b.t - a.t for a, b in zip(media[::2], media[1::2], strict=True)]
    for span, event in zip(spans, (mp3, piper), strict=True):
        assert abs(span - event["duration_ms"] / 1000) < 0.4, (span, event)  # duration known up front

    segments = sound_segments(recording)
    log.info("recording segments %s; clips %s / %s ms", segments, mp3["duration_ms"], piper["duration_ms"])
    assert len(segments) == 2, segments
    tone, voice = segments
    assert abs(tone.duration - 1.2) < 0.25, tone  # the MP3's 1.2 s tone, heard whole
    assert 0.5 * piper["duration_ms"] / 1000 < voice.duration <= piper["duration_ms"] / 1000 + 0.15, voice
    assert voice.start > tone.end
    assert os.path.getsize(recording) > 10_000


@pytest.fixture
def azure_service() -> Iterator[UspServer]:
    server = UspServer(flavour="azure", tone_ms=1000).start()
    yield server
    server.stop()


def test_script_speaks_with_azure_from_its_settings_and_falls_back_to_piper(
        azure_service: UspServer, tmp_path: Path) -> None:
    """The OBS script itself: engine, key, host and fallback engine come from its settings;
    the Azure SDK runs inside OBS against the loopback service; when the key is refused,
    Piper speaks and the events say so."""
    key = "obs-e2e-key-0123456789abcdef"
    with script_in_obs(tmp_path, rate_limit_per_minute=0, engine="azure", voice="en-US-AriaNeural",
                       azure_key=key, azure_host=f"ws://127.0.0.1:{azure_service.port}",
                       fallback_engine="piper", max_retries=1) as stack:
        obs, client = stack.obs, stack.client
        t0 = time.monotonic()
        first = client.queue({"type": "tts", "text": "Azure <speaks> this & that"}, retry_for=10)
        spoken = client.wait_event("playback_finished", first, timeout=40, after=t0)
        assert spoken["engine"] == "azure" and "fallback_from" not in spoken, spoken
        (ssml,) = azure_service.ssml_bodies
        assert "Azure &lt;speaks&gt; this &amp; that" in ssml
        assert azure_service.handshake_headers[0]["Ocp-Apim-Subscription-Key"] == key
        azure_service.refuse(401)
        second = client.queue({"type": "tts", "text": "Piper speaks when the key is refused"})
        fallback = client.wait_event("playback_finished", second, timeout=60, after=t0)
        assert fallback["engine"] == "piper" and fallback["fallback_from"] == "azure", fallback
        assert fallback["duration_ms"] > 1000
        assert key not in obs.read_log()


def test_openai_and_elevenlabs_clips_play_through_the_media_source_and_are_recorded(
        remote_stack: Stack) -> None:
    """The real openai and elevenlabs SDKs against loopback services: an MP3 clip
    (OpenAI-compatible /v1/audio/speech) and a PCM->WAV clip (ElevenLabs) are heard whole
    in OBS's recording, one after the other."""
    from fakes.elevenlabs import FakeElevenLabs
    from fakes.openai_speech import FakeOpenAI

    from tts_core.engines.elevenlabs_engine import ElevenLabsEngine
    from tts_core.engines.openai_engine import OpenAIEngine

    stack = remote_stack
    assert stack.manager is not None
    openai_service = FakeOpenAI(tone_ms=1200).start()
    elevenlabs_service = FakeElevenLabs(tone_ms=800).start()
    try:
        t0 = time.monotonic()
        stack.obs.start_recording()
        stack.manager.set_tts_engine(OpenAIEngine(base_url=openai_service.base_url, timeout=10))
        mp3_id = stack.client.queue({"type": "tts", "text": "Thanks for the sub!"})
        mp3 = stack.client.wait_event("playback_finished", mp3_id, timeout=30, after=t0)
        stack.manager.set_tts_engine(ElevenLabsEngine(key="good-key-0123456789", voice="Rachel",
                                                      output_format="pcm_24000",
                                                      base_url=elevenlabs_service.base_url, timeout=10))
        wav_id = stack.client.queue({"type": "tts", "text": "Thanks for the raid!"})
        wav = stack.client.wait_event("playback_finished", wav_id, timeout=30, after=t0)
        time.sleep(0.5)
        recording = stack.obs.stop_recording()
    finally:
        openai_service.stop()
        elevenlabs_service.stop()
    assert [r["input"] for r in openai_service.requests] == ["Thanks for the sub!"]
    assert [r["text"] for r in elevenlabs_service.requests] == ["Thanks for the raid!"]

    media = stack.media_events(after=t0)
    assert [e.name[18:] for e in media] == ["Started", "Ended"] * 2, "two clips at once?"
    segments = sound_segments(recording)
    log.info("recording segments %s; clips %s / %s ms", segments, mp3["duration_ms"], wav["duration_ms"])
    assert len(segments) == 2, segments
    first, second = segments
    assert abs(first.duration - 1.2) < 0.25, first  # the MP3's 1.2 s tone, heard whole
    assert abs(second.duration - 0.8) < 0.25, second  # the PCM->WAV 0.8 s tone
    assert second.start > first.end


def test_script_speaks_with_an_openai_compatible_server_from_its_settings_and_falls_back(
        tmp_path: Path) -> None:
    """The OBS script itself: engine openai with server URL, key and model from its
    settings (the openai SDK inside OBS); when the key is refused, espeak speaks."""
    from fakes.openai_speech import FakeOpenAI

    service = FakeOpenAI(tone_ms=1000).start()
    key = "sk-obs-e2e-0123456789abcdef"
    try:
        with script_in_obs(tmp_path, rate_limit_per_minute=0, engine="openai", voice="af_bella",
                           openai_base_url=service.base_url, openai_key=key, openai_model="kokoro",
                           fallback_engine="espeak", max_retries=1) as stack:
            obs, client = stack.obs, stack.client
            t0 = time.monotonic()
            first = client.queue({"type": "tts", "text": "Kokoro speaks this"}, retry_for=10)
            spoken = client.wait_event("playback_finished", first, timeout=40, after=t0)
            assert spoken["engine"] == "openai" and "fallback_from" not in spoken, spoken
            assert abs(spoken["duration_ms"] - 1000) < 150, spoken
            assert service.requests[0]["model"] == "kokoro" and service.requests[0]["voice"] == "af_bella"
            assert service.headers[-1]["Authorization"] == f"Bearer {key}"
            service.mode = "401"
            second = client.queue({"type": "tts", "text": "espeak speaks when the key is refused"})
            fallback = client.wait_event("playback_finished", second, timeout=60, after=t0)
            assert fallback["engine"] == "espeak" and fallback["fallback_from"] == "openai", fallback
            assert key not in obs.read_log()
    finally:
        service.stop()
