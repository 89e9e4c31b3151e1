"""Every voice equally loud, with real voices (issue 17, item 7).

Our meter reads what ffmpeg's EBU R128 meter reads on real espeak-ng, Piper and MP3
speech; the queue's clips from espeak-ng, Piper and gTTS (its real client against the
loopback Google service, speaking MP3 12 dB quieter) all come out at the target, as
ffmpeg measures them; alert-sound files of other formats are normalized too.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from fakes.fixtures import no_proxy  # noqa: F401 - fixture
from fakes.google import google_redirected
from fakes.speech_mp3 import SpeakingGoogle, mp3_speech
from loudness_meter import ebur128

from tts_core import TTSConfig, TTSQueueManager
from tts_core.audio.decode import decode
from tts_core.audio.loudness import integrated_loudness, true_peak_db
from tts_core.audio.normalize import normalize_clip
from tts_core.config import LoudnessConfig
from tts_core.engines.espeak import EspeakEngine
from tts_core.engines.gtts_engine import GTTSEngine
from tts_core.engines.piper_engine import PiperEngine
from tts_core.sinks.wavdir import WavDirSink

TEXT = "Thanks for the follow, and welcome to the stream everybody!"
TARGET = -16.0


def _espeak(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "espeak.wav"
    subprocess.run(["espeak-ng", *args, "-w", str(out), "--", TEXT], check=True, capture_output=True)
    return out


def _ffmpeg(source: Path, out: Path, *args: str) -> Path:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source), *args, str(out)],
                   check=True, capture_output=True)
    return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real speech in the shapes clips come in: engine WAVs, MP3, stereo, 48 kHz FLAC, Ogg, 8/24-bit."""
    if shutil.which("ffmpeg") is None or shutil.which("espeak-ng") is None:
        pytest.fail("ffmpeg and espeak-ng are needed: `make system-deps`")
    folder = tmp_path_factory.mktemp("clips")
    espeak = _espeak(folder)
    piper = folder / "piper.wav"
    piper.write_bytes(PiperEngine().synthesize("Thanks for the raid, enjoy your stay and have a great time!"))
    mp3 = folder / "cloud.mp3"
    mp3.write_bytes(mp3_speech(TEXT))
    return {
        "espeak": espeak,
        "piper": piper,
        "mp3": mp3,
        "stereo": _ffmpeg(espeak, folder / "stereo.wav", "-af", "aecho=0.8:0.6:40:0.4",
                          "-ac", "2", "-ar", "44100"),
        "flac": _ffmpeg(espeak, folder / "alert.flac", "-ar", "48000", "-af", "volume=-9dB"),
        "ogg": _ffmpeg(espeak, folder / "alert.ogg", "-c:a", "libvorbis", "-af", "volume=6dB"),
        "8-bit": _ffmpeg(espeak, folder / "alert8.wav", "-c:a", "pcm_u8"),
        "24-bit": _ffmpeg(espeak, folder / "alert24.wav", "-c:a", "pcm_s24le", "-af", "volume=-20dB"),
    }


@pytest.mark.parametrize("name", ["espeak", "piper", "mp3", "stereo", "flac", "ogg", "8-bit", "24-bit"])
def test_our_meter_reads_what_ffmpegs_ebu_r128_meter_reads(clips, name):
    sound = decode(clips[name].read_bytes())
    for dual_mono in (False, True):
        ours = integrated_loudness(sound.samples, sound.sample_rate, dual_mono)
        theirs = ebur128(clips[name], dual_mono=dual_mono)
        assert abs(ours - theirs.lufs) <= 0.5, (name, dual_mono, ours, theirs)
    peak = true_peak_db(sound.samples, sound.sample_rate)
    print(f"\n{name}: ours {ours:.2f} LUFS {peak:.2f} dBTP, "
          f"ffmpeg {theirs.lufs:.1f} LUFS {theirs.true_peak_db:.1f} dBTP")
    assert abs(peak - theirs.true_peak_db) <= 0.5, (name, theirs)


@pytest.mark.parametrize("name", ["flac", "ogg", "8-bit", "24-bit", "stereo", "mp3"])
def test_alert_sound_files_of_every_format_are_normalized(clips, name, tmp_path):
    out = tmp_path / f"{name}.normalized.wav"
    result = normalize_clip(clips[name], TARGET, -1.0, out=out)
    assert result.path == out and out.read_bytes() == result.data
    reading = ebur128(out, dual_mono=True)
    assert abs(reading.lufs - TARGET) <= 0.5, (name, reading, result.describe())
    assert reading.true_peak_db <= -0.9, (name, reading)
    assert abs(result.duration_ms - decode(clips[name].read_bytes()).duration_ms) <= 1


def test_normalized_mp3_clips_keep_their_duration(clips):
    data = clips["mp3"].read_bytes()
    args = ["ffmpeg", "-loglevel", "error", "-i", "-", "-f", "s16le", "-ac", "1", "-ar", "24000", "-"]
    decoded = subprocess.run(args, input=data, capture_output=True, check=True).stdout
    ffmpeg_ms = len(decoded) / 2 / 24000 * 1000
    result = normalize_clip(clips["mp3"], TARGET, -1.0, out=clips["mp3"].with_suffix(".n.wav"))
    assert abs(result.duration_ms - ffmpeg_ms) <= 30, (result.duration_ms, ffmpeg_ms)


def _play_with(engine: object, texts: list[str], folder: Path, **config: object) -> list[Path]:
    """Speak ``texts`` through a real queue into a folder of WAVs; the files that were played."""
    manager = TTSQueueManager(TTSConfig(rate_limit_per_minute=0, **config), sink=WavDirSink(folder, speed=0))
    manager.set_tts_engine(engine)
    done = threading.Event()
    ended: list[dict[str, object]] = []

    def on_event(event: dict[str, object]) -> None:
        if event["event"] in ("playback_finished", "failed"):
            ended.append(event)
            if len(ended) == len(texts):
                done.set()

    manager.subscribe(on_event)
    manager.start()
    try:
        for text in texts:
            manager.add_message(text)
        assert done.wait(60), ended
    finally:
        manager.stop()
    assert [e["event"] for e in ended] == ["playback_finished"] * len(texts), ended
    return sorted(folder.glob("[0-9][0-9][0-9][0-9]-*"))


def test_the_queue_brings_espeak_piper_and_gtts_to_the_target(tmp_path):
    google = SpeakingGoogle().start()
    try:
        with google_redirected(google):
            played = {
                "espeak": _play_with(EspeakEngine(), [TEXT], tmp_path / "espeak"),
                "piper": _play_with(PiperEngine(), [TEXT], tmp_path / "piper"),
                "gtts": _play_with(GTTSEngine(timeout=10), [TEXT], tmp_path / "gtts"),
            }
    finally:
        google.stop()
    readings = {}
    for name, files in played.items():
        (clip,) = files
        assert clip.suffix == ".wav", clip  # the MP3 engine's clip is played as the normalized WAV
        readings[name] = ebur128(clip, dual_mono=True)
        assert abs(readings[name].lufs - TARGET) <= 0.5, (name, readings)
        assert readings[name].true_peak_db <= -0.9, (name, readings)


def test_the_target_comes_from_the_config_and_off_means_as_the_engine_made_it(tmp_path):
    quiet = LoudnessConfig(target_lufs=-24.0)
    (quieter,) = _play_with(EspeakEngine(), [TEXT], tmp_path / "a", loudness=quiet)
    assert abs(ebur128(quieter, dual_mono=True).lufs + 24.0) <= 0.5
    (as_made,) = _play_with(EspeakEngine(), [TEXT], tmp_path / "b", loudness=LoudnessConfig(enabled=False))
    made = ebur128(EspeakEngine().synthesize(TEXT), dual_mono=True).lufs
    assert abs(made - TARGET) > 1.0, made  # espeak-ng by itself is not at the target...
    assert abs(ebur128(as_made, dual_mono=True).lufs - made) < 0.1  # ...and off, it plays as made
