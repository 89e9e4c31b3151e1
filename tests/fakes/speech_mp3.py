"""Cloud voices as they really sound: espeak-ng speech, quieter, encoded to MP3 by ffmpeg.

Cloud engines deliver speech much quieter than espeak-ng at 100 %; ``SpeakingGoogle`` and
``SpeakingOpenAI`` are the loopback Google and OpenAI services (fakes/google.py,
fakes/openai_speech.py) answering with such speech of the very text they were asked to say,
so a test of loudness hears real speech through the real client libraries.
"""

from __future__ import annotations

import base64
import functools
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from fakes.google import FakeGoogle
from fakes.openai_speech import FakeOpenAI

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


@dataclass
class SpeakingOpenAI(FakeOpenAI):
    """FakeOpenAI whose MP3 answer is the asked ``input`` spoken (``gain_db`` relative to espeak-ng)."""

    gain_db: float = QUIET_DB

    async def _speech(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()  # aiohttp keeps the body: the base class reads it again
        with self.lock:
            speaking = self.mode == "ok" and not self.modes and body.get("response_format", "mp3") == "mp3"
            if speaking:
                self.requests.append(body)
                self.headers.append(dict(request.headers))
        if not speaking:
            return await super()._speech(request)
        return web.Response(body=mp3_speech(str(body["input"]), self.gain_db), content_type="audio/mpeg")
