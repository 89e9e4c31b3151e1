"""Alert sounds through `obs-tts serve` (real process, real espeak-ng, the wav-dir sink):
the timeline is the alert file then its speech file, nothing between, with the URGENT
message that arrived during the alert after them; tiers by amount; alert-only follows;
a WAV's volume in the copy that played; a refused file named on SIGHUP while the rest
applies. Also the file checks on real MP3, FLAC and float WAV files (ffmpeg)."""

from __future__ import annotations

import array
import json
import signal
import subprocess
import wave
from pathlib import Path

from doubles import wait_until
from fakes.audio import mp3_tone, wav_tone
from listener_support import serving
from loudness_meter import ebur128
from websockets.sync.client import connect

from tts_core.runtime.alerts import check_alert_file

WAV_MS = 1500


def tone_wav(path: Path, ms: int = WAV_MS) -> Path:
    return wav_tone(path, ms, freq=880, amplitude=20000, rate=22050)


def peak(path: Path) -> int:
    with wave.open(str(path)) as wav:
        return max(abs(s) for s in array.array("h", wav.readframes(wav.getnframes())))


def send(ws, frame: dict) -> dict:
    frame_id = f"f{id(frame)}"
    ws.send(json.dumps({**frame, "id": frame_id}))
    while True:
        data = json.loads(ws.recv(timeout=10))
        if data.get("id") == frame_id:
            return data


def donation(name: str, amount: float) -> dict:
    return {"type": "donation", "donor_name": name, "amount": amount, "message": "hi"}


def timeline(folder: Path) -> list[dict]:
    path = folder / "clips" / "timeline.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_serve_plays_alert_then_speech_and_urgent_after(tmp_path):
    coin = tone_wav(tmp_path / "coin.wav")
    original = coin.read_bytes()
    fanfare = tmp_path / "fanfare.mp3"
    fanfare.write_bytes(mp3_tone(800))
    follow = tone_wav(tmp_path / "follow.wav", ms=400)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"tts_queue": {"rate_limit_per_minute": 0}, "alerts": {
        "donation": [{"min_amount": 0, "file": str(coin), "volume": 50},
                     {"min_amount": 50, "file": str(fanfare)}],
        "follow": {"file": str(follow), "alert_only": True}}}))
    with serving(tmp_path, config) as (url, lines, _process), connect(url) as ws:
        assert send(ws, {"request": "Subscribe"})["status"] == "ok"
        small = send(ws, donation("Alice", 5))["message_id"]
        assert wait_until(lambda: any("playback_started" in line and small in line for line in lines), 20)
        urgent = send(ws, {"type": "tts", "text": "urgent news", "priority": "URGENT"})["message_id"]
        big = send(ws, donation("Bob", 60))["message_id"]
        followed = send(ws, {"type": "follow", "username": "Carol"})["message_id"]
        assert wait_until(lambda: len(timeline(tmp_path)) == 6, 60), timeline(tmp_path)
    lines_ = timeline(tmp_path)
    assert [(e["message_id"], e["alert"]) for e in lines_] == [
        (small, True), (small, False), (urgent, False), (big, True), (big, False), (followed, True)]
    first_alert, first_speech = lines_[0], lines_[1]
    assert first_alert["duration_ms"] == WAV_MS
    assert first_speech["started_at"] - first_alert["ended_at"] < 0.05  # nothing between them
    clips = tmp_path / "clips"
    # Alert sounds reach the voices' loudness (-16 LUFS by default); 50 % is 6 dB below it.
    assert abs(ebur128(clips / first_alert["file"], dual_mono=True).lufs - (-16 - 6.02)) <= 0.7
    assert coin.read_bytes() == original  # the streamer's file is unchanged
    assert lines_[3]["file"].endswith(".wav")  # the tier from 50: the MP3 at the voices' loudness
    assert abs(ebur128(clips / lines_[3]["file"], dual_mono=True).lufs - -16) <= 0.7
    assert lines_[5]["text"] == ""


def test_a_refused_file_is_named_on_reload_and_the_rest_applies(tmp_path):
    coin = tone_wav(tmp_path / "coin.wav", ms=300)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"alerts": {"donation": [{"min_amount": 0, "file": str(coin)}]}}))
    ogg = tmp_path / "song.ogg"  # Ogg Opus: OBS would play it, but it is refused (no decoder here)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=0.3", "-c:a",
                    "libopus", str(ogg)], check=True, timeout=60)
    with serving(tmp_path, config) as (url, lines, process):
        config.write_text(json.dumps({"tts_queue": {"max_queue_size": 77},
                                      "alerts": {"donation": [{"min_amount": 0, "file": str(coin)},
                                                              {"min_amount": 10, "file": str(ogg)}]}}))
        process.send_signal(signal.SIGHUP)
        assert wait_until(lambda: any("applied" in line for line in lines), 20), lines
        applied = next(line for line in lines if "applied" in line)
        assert f"alert sound for donation (from 10) refused: {ogg}: Ogg Opus is not supported" in applied, \
            applied
        with connect(url) as ws:
            stats = send(ws, {"request": "GetStats"})["stats"]
            assert stats["alert_sounds_refused"] == [
                f"alert sound for donation (from 10) refused: {ogg}: Ogg Opus is not supported: use a WAV, "
                "MP3, Ogg Vorbis or FLAC file (e.g. ffmpeg -i alert.ogg alert.wav)"]
            big = send(ws, donation("Bob", 20))["message_id"]
            assert wait_until(lambda: len(timeline(tmp_path)) == 2, 30), timeline(tmp_path)
    assert [(e["message_id"], e["alert"]) for e in timeline(tmp_path)] == [(big, True), (big, False)]
    assert timeline(tmp_path)[0]["duration_ms"] == 300  # the tier that works


def test_mp3_flac_and_float_wav_files_as_the_checks_see_them(tmp_path):
    mp3 = tmp_path / "a.mp3"
    mp3.write_bytes(mp3_tone(500))
    assert check_alert_file(str(mp3)) is None
    assert "needs a WAV file" in check_alert_file(str(mp3), 60)  # with loudness off
    assert check_alert_file(str(mp3), 60, levelled=True) is None  # on: a levelled copy plays
    flac = tmp_path / "a.flac"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=0.3", str(flac)],
                   check=True, timeout=60)
    assert check_alert_file(str(flac)) is None and check_alert_file(str(flac), 60) is None  # a WAV copy plays
    float_wav = tmp_path / "float.wav"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=0.3", "-c:a",
                    "pcm_f32le", str(float_wav)], check=True, timeout=60)
    assert check_alert_file(str(float_wav), 60) is None  # float WAV: played as a 16-bit copy too
