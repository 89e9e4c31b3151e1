"""Find where a recording (mkv/mp4/...) or a WAV contains sound.

The audio is decoded with ffmpeg to mono 16-bit PCM (or read with ``wave`` for a
16-bit PCM WAV when ffmpeg is not wanted), cut into 10 ms windows, and windows whose
RMS level is above a threshold (dBFS) are joined into segments. Short gaps (pauses
between words) are bridged, very short blips are dropped.

    segs = sound_segments("rec.mkv")
    total = total_sound_duration(segs)
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Audio",
    "AudioAnalysisError",
    "Segment",
    "decode_audio",
    "media_duration",
    "read_wav",
    "sound_segments",
    "total_sound_duration",
    "window_levels",
]

FULL_SCALE = 32768.0
SILENCE_DB = -120.0


class AudioAnalysisError(RuntimeError):
    pass


@dataclass(frozen=True)
class Audio:
    samples: array[int]  # signed 16-bit mono samples ("h")
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class Segment:
    start: float  # seconds from the start of the audio
    end: float
    peak_db: float  # highest absolute sample, dBFS
    rms_db: float  # RMS over the whole segment, dBFS

    @property
    def duration(self) -> float:
        return self.end - self.start


def _db(value: float) -> float:
    return 20.0 * math.log10(value / FULL_SCALE) if value > 0 else SILENCE_DB


def decode_audio(path: str | Path, sample_rate: int = 16000, stream: int = 0) -> Audio:
    """Decode audio stream ``stream`` (0 = first) of any media file ffmpeg reads to
    mono 16-bit PCM at ``sample_rate`` (channels are averaged by ffmpeg).
    """
    if shutil.which("ffmpeg") is None:
        raise AudioAnalysisError("ffmpeg is not installed")
    cmd = [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(path),
        "-map",
        f"0:a:{stream}",
        "-ac",
        "1",
        "-ar",
        str(sample_rate),
        "-f",
        "s16le",
        "-acodec",
        "pcm_s16le",
        "-",
    ]
    proc = subprocess.run(cmd, capture_output=True, check=False, timeout=120)
    if proc.returncode != 0:
        raise AudioAnalysisError(
            f"ffmpeg could not decode audio of {path}: "
            f"{proc.stderr.decode(errors='replace').strip()}"
        )
    samples = array("h")
    data = proc.stdout[: len(proc.stdout) // 2 * 2]
    samples.frombytes(data)
    if sys.byteorder == "big":
        samples.byteswap()
    return Audio(samples, sample_rate)


def read_wav(path: str | Path) -> Audio:
    """Read a 16-bit PCM WAV with the ``wave`` module (channels are averaged)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise AudioAnalysisError(
                f"{path}: only 16-bit PCM WAV is supported here (use decode_audio)"
            )
        channels = w.getnchannels()
        rate = w.getframerate()
        raw = w.readframes(w.getnframes())
    samples = array("h")
    samples.frombytes(raw[: len(raw) // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if channels > 1:
        mono = array(
            "h",
            (
                int(sum(samples[i : i + channels]) / channels)
                for i in range(0, len(samples) - channels + 1, channels)
            ),
        )
        samples = mono
    return Audio(samples, rate)


def _load(source: str | Path | Audio, sample_rate: int) -> Audio:
    if isinstance(source, Audio):
        return source
    path = Path(source)
    if path.suffix.lower() == ".wav":
        try:
            return read_wav(path)
        except (AudioAnalysisError, wave.Error):
            pass
    return decode_audio(path, sample_rate)


def window_levels(audio: Audio, window: float = 0.01) -> list[tuple[float, float]]:
    """(rms, peak) linear levels (0..32768) of consecutive ``window``-second windows."""
    n = max(1, round(audio.sample_rate * window))
    s = audio.samples
    levels: list[tuple[float, float]] = []
    for i in range(0, len(s), n):
        chunk = s[i : i + n]
        if not chunk:
            break
        sq = math.fsum(x * x for x in chunk)
        hi, lo = max(chunk), min(chunk)
        peak = max(hi, -lo)
        levels.append((math.sqrt(sq / len(chunk)), float(peak)))
    return levels


def sound_segments(
    source: str | Path | Audio,
    *,
    threshold_db: float = -45.0,
    min_silence: float = 0.3,
    min_sound: float = 0.05,
    window: float = 0.01,
    sample_rate: int = 16000,
) -> list[Segment]:
    """Time segments whose 10 ms RMS level is above ``threshold_db`` dBFS.

    Gaps shorter than ``min_silence`` seconds are bridged (one spoken clip is one
    segment); segments shorter than ``min_sound`` are dropped. ``source`` is a media
    file (decoded with ffmpeg), a 16-bit WAV, or an ``Audio``.
    """
    audio = _load(source, sample_rate)
    levels = window_levels(audio, window)
    threshold = FULL_SCALE * 10 ** (threshold_db / 20.0)
    # raw runs of loud windows: [first_index, last_index_exclusive]
    runs: list[list[int]] = []
    for i, (rms, _peak) in enumerate(levels):
        if rms >= threshold:
            if runs and runs[-1][1] == i:
                runs[-1][1] = i + 1
            else:
                runs.append([i, i + 1])
    gap = round(min_silence / window)
    merged: list[list[int]] = []
    for run in runs:
        if merged and run[0] - merged[-1][1] < gap:
            merged[-1][1] = run[1]
        else:
            merged.append(list(run))
    segments: list[Segment] = []
    for a, b in merged:
        if (b - a) * window < min_sound:
            continue
        win = levels[a:b]
        energy = math.fsum(r * r for r, _ in win) / len(win)
        segments.append(
            Segment(
                start=a * window,
                end=min(b * window, audio.duration),
                peak_db=_db(max(p for _, p in win)),
                rms_db=_db(math.sqrt(energy)),
            )
        )
    return segments


def total_sound_duration(segments: list[Segment]) -> float:
    """Sum of the segments' durations, in seconds."""
    return math.fsum(s.duration for s in segments)


def media_duration(path: str | Path) -> float:
    """Duration of a media file in seconds (ffprobe, container duration)."""
    if shutil.which("ffprobe") is None:
        raise AudioAnalysisError("ffprobe is not installed")
    proc = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "default=noprint_wrappers=1:nokey=1",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    try:
        return float(proc.stdout.strip())
    except ValueError as exc:
        raise AudioAnalysisError(
            f"ffprobe could not read the duration of {path}: {proc.stderr.strip()}"
        ) from exc
