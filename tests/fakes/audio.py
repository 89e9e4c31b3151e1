"""Real audio for the fake services and the tests: MP3 (ffmpeg), raw PCM and WAV tones."""

from __future__ import annotations

import functools
import math
import shutil
import struct
import subprocess
import wave
from pathlib import Path


@functools.lru_cache(maxsize=32)
def mp3_tone(
    ms: int = 600, freq: int = 440, rate: int = 24000, bitrate: str = "48k", id3: bool = True
) -> bytes:
    """An MP3 of a sine tone as the services send (mono, 24 kHz). ``id3``: ffmpeg's ID3v2
    tag and Info frame in front, as gTTS' answers have."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("ffmpeg is missing: run `make system-deps` (apt-get install ffmpeg)")
    args = [
        ffmpeg,
        "-hide_banner",
        "-loglevel",
        "error",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency={freq}:duration={ms / 1000}:sample_rate={rate}",
        "-ac",
        "1",
        "-ar",
        str(rate),
        "-b:a",
        bitrate,
        "-f",
        "mp3",
    ]
    if not id3:
        args += ["-id3v2_version", "0", "-write_xing", "0"]
    done = subprocess.run([*args, "-"], capture_output=True, check=True)
    return done.stdout


def pcm_tone(ms: int, rate: int = 16000, freq: int = 440, amplitude: int = 8000) -> bytes:
    """Raw 16-bit little-endian mono PCM of a sine tone."""
    n = rate * ms // 1000
    return b"".join(
        struct.pack("<h", int(amplitude * math.sin(2 * math.pi * freq * i / rate))) for i in range(n)
    )


def wav_tone(path: Path, ms: int, freq: int, amplitude: int, rate: int) -> Path:
    """Write a mono 16-bit WAV of a sine tone (``pcm_tone``) to ``path``; the path."""
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm_tone(ms, rate, freq, amplitude))
    return path
