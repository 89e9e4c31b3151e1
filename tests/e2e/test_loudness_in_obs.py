"""Every voice equally loud, heard in OBS's own recording (issue 17, item 7).

espeak-ng (loud: near 0 dBFS peaks), Piper (the packaged voice) and gTTS (its real client
against the loopback Google service, answering with MP3 speech 12 dB quieter, as cloud
voices come) each speak one line through the media source. OBS's recording is measured
with ffmpeg's EBU R128 meter, clip by clip: every clip is within 2 LU of the loudness
target and of the others, while the engines' own clips are far apart.

The first test runs the queue in this process with the remote sink (obs-websocket, clip
files), as `obs-tts serve --sink obs` does, so the engines are this process's; the second
runs the OBS script itself (numpy and miniaudio inside OBS's Python), with an MP3 voice
(the openai SDK against a loopback service) and espeak-ng. The media source's volume
stays at 0 dB (100 %), so the recording hears the clips as they are.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from audio_analysis import sound_segments
from fakes.fixtures import PROXY_VARIABLES
from fakes.google import google_redirected
from fakes.speech_mp3 import SpeakingGoogle, SpeakingOpenAI, mp3_speech
from loudness_meter import Reading, ebur128
from tts_stack import MEDIA, Stack, running_stack, script_in_obs

from tts_core.config import LoudnessConfig
from tts_core.engines.base import Engine
from tts_core.engines.espeak import EspeakEngine
from tts_core.engines.gtts_engine import GTTSEngine
from tts_core.engines.piper_engine import PiperEngine

log = logging.getLogger(__name__)

TARGET = LoudnessConfig().target_lufs
LINES = {
    "espeak": "Thanks for the follow, and welcome to the stream everybody!",
    "piper": "Thanks for the raid, enjoy your stay and have a great time!",
    "gtts": "Thank you so much for the donation, that is really kind of you!",
}


@pytest.fixture
def remote_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with running_stack("remote-local", tmp_path, pause_ms=1200) as stack:
        yield stack


def _clip_readings(recording: Path, names: list[str]) -> dict[str, Reading]:
    """ffmpeg's reading of each clip heard in the recording (one sound segment per clip)."""
    segments = sound_segments(recording, min_silence=0.6)
    assert len(segments) == len(names), segments
    return {name: ebur128(recording, start=max(0.0, segment.start - 0.2), end=segment.end + 0.2)
            for name, segment in zip(names, segments, strict=True)}


def _engines() -> dict[str, Engine]:
    return {"espeak": EspeakEngine(), "piper": PiperEngine(), "gtts": GTTSEngine(timeout=10)}


def test_espeak_piper_and_an_mp3_voice_are_equally_loud_in_the_recording(remote_stack: Stack) -> None:
    stack = remote_stack
    assert stack.manager is not None
    assert stack.manager.config.loudness.enabled, "normalization is on by default"
    volume = stack.obs_call("GetInputVolume", inputName=MEDIA)
    assert volume["inputVolumeDb"] == 0.0, volume  # the recording hears the clips as they are
    assert stack.obs_call("GetInputMute", inputName=MEDIA)["inputMuted"] is False

    google = SpeakingGoogle().start()
    engines = _engines()
    try:
        with google_redirected(google):
            # What each engine makes by itself, measured by ffmpeg (as heard in a stereo mix).
            raw = {name: ebur128(engine.synthesize(LINES[name]), dual_mono=True).lufs
                   for name, engine in engines.items()}
            t0 = time.monotonic()
            stack.obs.start_recording()
            finished = {}
            for name, engine in engines.items():
                stack.manager.set_tts_engine(engine)
                message_id = stack.client.queue({"type": "tts", "text": LINES[name]})
                finished[name] = stack.client.wait_event("playback_finished", message_id, timeout=60,
                                                         after=t0)
            time.sleep(0.5)
            recording = stack.obs.stop_recording()
    finally:
        google.stop()
    assert google.texts == [LINES["gtts"]] * 2  # once alone, once through the queue

    media = stack.media_events(after=t0)
    assert [e.name[18:] for e in media] == ["Started", "Ended"] * 3, "one clip at a time"
    readings = _clip_readings(recording, list(engines))
    heard = {name: reading.lufs for name, reading in readings.items()}
    for name, reading in readings.items():
        assert reading.true_peak_db <= -0.5, (name, reading)  # -1 dBTP in the clip; AAC adds a little
    figures = ", ".join(f"{n} {raw[n]:.1f} -> {heard[n]:.1f}" for n in engines)
    summary = f"loudness in OBS's recording (LUFS, engine's clip -> heard; target {TARGET:.0f}): {figures}"
    log.info("%s", summary)
    print(f"\n{summary}")
    assert max(raw.values()) - min(raw.values()) > 5, raw  # without normalization they differ a lot
    for name, lufs in heard.items():
        assert abs(lufs - TARGET) <= 2.0, (name, heard)
    assert max(heard.values()) - min(heard.values()) <= 2.0, heard


def test_the_obs_script_plays_a_quiet_mp3_voice_and_espeak_equally_loud(tmp_path: Path) -> None:
    lines = {"openai": "Thank you so much for the donation, that is really kind of you!",
             "espeak": "Thanks for the follow, and welcome to the stream everybody!"}
    service = SpeakingOpenAI().start()
    try:
        with script_in_obs(tmp_path, rate_limit_per_minute=0, engine="openai", voice="af_bella",
                           openai_base_url=service.base_url, openai_model="kokoro", fallback_engine="espeak",
                           max_retries=0, pause_between_clips_ms=1200) as stack:
            obs, client = stack.obs, stack.client
            assert obs.client.call("GetInputVolume", inputName=MEDIA)["inputVolumeDb"] == 0.0
            t0 = time.monotonic()
            obs.start_recording()
            first = client.queue({"type": "tts", "text": lines["openai"]}, retry_for=10)
            spoken = client.wait_event("playback_finished", first, timeout=60, after=t0)
            assert spoken["engine"] == "openai", spoken
            service.mode = "401"  # the key is refused: espeak-ng speaks the next line
            second = client.queue({"type": "tts", "text": lines["espeak"]})
            fallback = client.wait_event("playback_finished", second, timeout=60, after=t0)
            assert fallback["engine"] == "espeak", fallback
            time.sleep(0.5)
            recording = obs.stop_recording()
            assert "not equally loud" not in obs.read_log()  # numpy and miniaudio load inside OBS
    finally:
        service.stop()
    raw = {"openai": ebur128(mp3_speech(lines["openai"]), dual_mono=True).lufs,
           "espeak": ebur128(EspeakEngine().synthesize(lines["espeak"]), dual_mono=True).lufs}
    heard = {name: reading.lufs for name, reading in _clip_readings(recording, list(lines)).items()}
    figures = ", ".join(f"{n} {raw[n]:.1f} -> {heard[n]:.1f}" for n in lines)
    summary = f"loudness in OBS's recording, OBS script (LUFS, engine's clip -> heard): {figures}"
    log.info("%s", summary)
    print(f"\n{summary}")
    assert max(raw.values()) - min(raw.values()) > 5, raw
    for name, lufs in heard.items():
        assert abs(lufs - TARGET) <= 2.0, (name, heard)
    assert max(heard.values()) - min(heard.values()) <= 2.0, heard
