"""Cloud voices as they really sound: espeak-ng speech, quieter, encoded to MP3 by ffmpeg.

Cloud engines deliver speech much quieter than espeak-ng at 100 %; ``SpeakingGoogle`` is the
loopback Google service (fakes/google.py) answering with such speech of the very text it was
asked to say, so a test of loudness hears real speech through gTTS' real client.
"""

from __future__ import annotations

import base64
import functools
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from fakes.google import FakeGoogle

QUIET_DB = -12.0  # cloud voices come this much quieter than espeak-ng at 100 %


@functools.lru_cache(maxsize=16)
def mp3_speech(text: str, gain_db: float = QUIET_DB, rate: int = 24000, bitrate: str = "48k") -> bytes:
    """``text`` spoken by espeak-ng, ``gain_db`` louder or quieter, as a mono MP3 (24 kHz, like gTTS)."""
    for program in ("espeak-ng", "ffmpeg"):
        if shutil.which(program) is None:
            raise RuntimeError(f"{program} is missing: run `make system-deps`")
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), "--", text], check=True, capture_output=True)
        done = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(wav),
                               "-af", f"volume={gain_db}dB", "-ac", "1", "-ar", str(rate), "-b:a", bitrate,
                               "-f", "mp3", "-"], check=True, capture_output=True)
    return done.stdout


class SpeakingGoogle(FakeGoogle):
    """FakeGoogle whose answer is the asked text spoken (``gain_db`` relative to espeak-ng)."""

    def __init__(self, gain_db: float = QUIET_DB) -> None:
        super().__init__()
        self.gain_db = gain_db

    def answer(self, text: str) -> bytes:
        audio = base64.b64encode(mp3_speech(text, self.gain_db)).decode()
        rpc = json.dumps([["wrb.fr", "jQ1olc", json.dumps([audio]), None, None, None, "generic"]],
                         separators=(",", ":"))
        return f")]}}'\n\n{len(rpc)}\n{rpc}\n".encode()
