"""Alert sounds from Ogg Vorbis and FLAC files (made with ffmpeg here), the formats
streamers' alert packs come in: accepted by the checks, played as a 16-bit WAV copy
(what every sink plays) that holds the file's own sound, at its volume, with loudness
off and on. An Ogg Opus file and broken files are refused, naming the file and why,
while the good sounds of the same config still apply."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from doubles import skip_or_fail

from tts_core import StreamerBotIntegration, TTSConfig, TTSQueueManager
from tts_core.config import AlertsConfig
from tts_core.runtime.alerts import AlertSounds, check_alert_file
from tts_core.sinks import WavDirSink


def ffmpeg_tone(path: Path, hz: int, seconds: float, *codec: str) -> Path:
    if shutil.which("ffmpeg") is None:
        skip_or_fail("ffmpeg is not installed (`make system-deps` installs it)", required=True)
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"sine=frequency={hz}:duration={seconds}:sample_rate=44100", *codec, str(path)],
                   check=True, timeout=60)
    return path


def pitch_and_peak(path: Path) -> tuple[float, float]:
    """The loudest frequency (Hz) and the peak (full scale 1.0) of a 16-bit PCM WAV."""
    with wave.open(io.BytesIO(path.read_bytes())) as wav:
        assert wav.getsampwidth() == 2, "a 16-bit PCM WAV"
        rate, channels = wav.getframerate(), wav.getnchannels()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(float) / 32768
    mono = samples.reshape(-1, channels).mean(axis=1)
    spectrum = np.abs(np.fft.rfft(mono))
    return float(np.fft.rfftfreq(mono.size, 1 / rate)[spectrum.argmax()]), float(np.abs(mono).max())


@pytest.fixture
def pack(tmp_path: Path) -> dict[str, Path]:
    return {"ogg": ffmpeg_tone(tmp_path / "follow.ogg", 1000, 0.6, "-c:a", "libvorbis"),
            "flac": ffmpeg_tone(tmp_path / "coin.flac", 660, 0.5)}


def play_alerts(tmp_path: Path, pack: dict[str, Path], loudness: bool) -> list[dict]:
    """A follow (the OGG, alert only) and a donation (the FLAC at 50 %) through a real
    queue (espeak-ng) into the wav-dir sink; the timeline's alert rows."""
    config = TTSConfig(rate_limit_per_minute=0)
    config.loudness.enabled = loudness
    config.alerts = AlertsConfig.from_dict({
        "follow": {"file": str(pack["ogg"]), "alert_only": True},
        "donation": {"file": str(pack["flac"]), "volume": 50}})
    out = tmp_path / f"out-{loudness}"
    manager = TTSQueueManager(config, sink=WavDirSink(out, speed=0))
    manager.start()
    try:
        assert manager.alerts.refused == ()
        integration = StreamerBotIntegration(manager)
        integration.submit("follow", {"username": "Ann"})
        integration.submit("donation", {"donor_name": "Bob", "amount": 5, "message": "hi"})
        assert manager.wait_until_idle(60)
    finally:
        manager.stop()
    rows = [json.loads(line) for line in (out / "timeline.jsonl").read_text().splitlines()]
    return [{**row, "path": out / row["file"]} for row in rows if row["alert"]]


@pytest.mark.parametrize("loudness", [False, True], ids=["loudness-off", "loudness-on"])
def test_ogg_vorbis_and_flac_alerts_play_as_wav_copies_of_their_sound(tmp_path, pack, loudness):
    assert check_alert_file(str(pack["ogg"])) is None and check_alert_file(str(pack["flac"]), 50) is None
    follow, donation = play_alerts(tmp_path, pack, loudness)
    for row, hz, ms in ((follow, 1000, 600), (donation, 660, 500)):
        assert row["file"].endswith(".wav") and abs(row["duration_ms"] - ms) <= 30, row
        pitch, _ = pitch_and_peak(row["path"])
        assert abs(pitch - hz) < 10, f"{row['file']} is not the {hz} Hz tone of the file: {pitch:.0f} Hz"
    _, follow_peak = pitch_and_peak(follow["path"])
    _, donation_peak = pitch_and_peak(donation["path"])
    # ffmpeg's sine is at 1/8 of full scale; loudness on brings both to the voices' level
    # and then 50 % is 6 dB below it; off, 50 % scales the samples.
    assert 0.4 < donation_peak / follow_peak < 0.6, (follow_peak, donation_peak)
    for original in pack.values():
        assert original.read_bytes()[:4] in (b"OggS", b"fLaC"), "the streamer's file is never changed"


def test_opus_and_broken_files_are_refused_naming_the_file_and_why(tmp_path, pack):
    opus = ffmpeg_tone(tmp_path / "raid.ogg", 800, 0.4, "-c:a", "libopus")
    broken_ogg = tmp_path / "cheer.ogg"
    broken_ogg.write_bytes(b"OggS" + bytes(200))
    broken_flac = tmp_path / "sub.flac"
    broken_flac.write_bytes(pack["flac"].read_bytes()[:120] + bytes(4000))  # header, then no frames
    config = TTSConfig()
    config.alerts = AlertsConfig.from_dict({
        "raid": {"file": str(opus)}, "cheer": {"file": str(broken_ogg)},
        "subscription": {"file": str(broken_flac)}, "follow": {"file": str(pack["ogg"])}})
    sounds = AlertSounds(config)
    assert sorted(sounds.refused) == sorted([
        f"alert sound for raid refused: {opus}: Ogg Opus is not supported: use a WAV, MP3, Ogg Vorbis "
        "or FLAC file (e.g. ffmpeg -i alert.ogg alert.wav)",
        f"alert sound for cheer refused: {broken_ogg}: not a readable Ogg Vorbis file "
        "(could not open/decode data)",
        f"alert sound for subscription refused: {broken_flac}: not a readable FLAC file "
        "(no sound could be decoded)"])
    chosen = sounds.choose("follow", None)
    assert chosen is not None and chosen.file == str(pack["ogg"]), "the good sound still applies"
    assert sounds.choose("raid", 10) is None
