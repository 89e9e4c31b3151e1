"""Clip files to samples and back: WAV, MP3, FLAC, Ogg Vorbis in; 16-bit PCM WAV out.

PCM WAV (8, 16, 24 or 32 bits, what espeak-ng, Piper, pyttsx3, Azure and ElevenLabs
give) is read with the standard library's ``wave``; MP3 (gTTS, edge-tts, OpenAI), FLAC,
Ogg Vorbis and float or extensible WAV with miniaudio (its dr_mp3 decodes exactly as
many samples as ffmpeg, so durations do not change). miniaudio is imported only for
those, so WAV engines need nothing but numpy.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from importlib import import_module
from types import ModuleType

import numpy as np

from tts_core.audio.loudness import Samples
from tts_core.domain.audio import AudioFormatError

FULL_SCALE_16 = 32768.0
KIND_NAMES = {"wav": "WAV", "mp3": "MP3", "flac": "FLAC", "ogg": "Ogg Vorbis"}


class DecoderMissing(RuntimeError):
    """The clip needs miniaudio (MP3, FLAC, Ogg Vorbis, float WAV), which is not installed."""


@dataclass(frozen=True)
class Sound:
    """Decoded audio: ``samples`` shaped (channels, frames), full scale 1.0, at ``sample_rate``."""

    samples: Samples
    sample_rate: int

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def frames(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration_ms(self) -> int:
        return round(self.frames * 1000 / self.sample_rate)


def kind_of(data: bytes) -> str:
    """"wav", "mp3", "flac" or "ogg"; AudioFormatError for anything else."""
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"fLaC":
        return "flac"
    if data[:4] == b"OggS":
        return "ogg"
    if data[:3] == b"ID3" or (len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    head = data[:16].hex() if data else "nothing"
    raise AudioFormatError(f"audio is not WAV, MP3, FLAC or Ogg Vorbis (starts with {head})")


def is_ogg_opus(data: bytes) -> bool:
    """An Ogg file whose first stream is Opus (its first page carries ``OpusHead``)."""
    return data[:4] == b"OggS" and b"OpusHead" in data[:128]


def length_seconds(data: bytes) -> float | None:
    """How long a FLAC or Ogg Vorbis file plays, from its header (before decoding it);
    None for other kinds. AudioFormatError when the header is unreadable."""
    kind = kind_of(data)
    if kind not in ("flac", "ogg"):
        return None
    ma = _miniaudio()
    try:
        info = ma.flac_get_info(data) if kind == "flac" else ma.vorbis_get_info(data)
    except ma.DecodeError as exc:
        raise AudioFormatError(f"unreadable {KIND_NAMES[kind]} audio: {exc}") from None
    return float(info.duration)


def decode(data: bytes) -> Sound:
    """Decode a whole clip file; AudioFormatError when it is unreadable, DecoderMissing
    when it needs miniaudio and that is not installed."""
    kind = kind_of(data)
    if kind == "wav":
        sound = _pcm_wav(data)
        if sound is not None:
            return sound
    return _with_miniaudio(kind, data)


def _pcm_wav(data: bytes) -> Sound | None:
    """A PCM WAV through ``wave``; None when ``wave`` cannot read it (float, extensible)."""
    try:
        with wave.open(io.BytesIO(data)) as wav:
            width, channels, rate = wav.getsampwidth(), wav.getnchannels(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError):
        return None
    if channels < 1 or rate <= 0:
        raise AudioFormatError(f"WAV has {channels} channel(s) at {rate} Hz")
    usable = len(raw) // (width * channels) * width * channels
    raw = raw[:usable]
    if width == 1:
        values = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 2:
        values = np.frombuffer(raw, dtype="<i2").astype(np.float64) / FULL_SCALE_16
    elif width == 3:
        bytes3 = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = bytes3[:, 0] | (bytes3[:, 1] << 8) | (bytes3[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        values = ints.astype(np.float64) / float(1 << 23)
    elif width == 4:
        values = np.frombuffer(raw, dtype="<i4").astype(np.float64) / float(1 << 31)
    else:
        raise AudioFormatError(f"WAV with {width * 8}-bit samples is not supported (8, 16, 24 or 32 bits)")
    return Sound(values.reshape(-1, channels).T.copy(), rate)


def _miniaudio() -> ModuleType:
    try:
        return import_module("miniaudio")
    except ImportError:
        raise DecoderMissing("MP3, FLAC, Ogg Vorbis and float WAV clips need the Python package "
                             "miniaudio: pip install miniaudio") from None


def _with_miniaudio(kind: str, data: bytes) -> Sound:
    ma = _miniaudio()
    try:
        if kind == "wav":
            decoded = ma.wav_read_f32(data)
        elif kind == "mp3":
            decoded = ma.mp3_read_f32(data)
        elif kind == "flac":
            decoded = ma.flac_read_f32(data)
        else:
            info = ma.vorbis_get_info(data)
            decoded = ma.decode(data, ma.SampleFormat.FLOAT32, info.nchannels, info.sample_rate)
    except ma.DecodeError as exc:
        raise AudioFormatError(f"unreadable {KIND_NAMES[kind]} audio: {exc}") from None
    channels = int(decoded.nchannels)
    values = np.frombuffer(decoded.samples, dtype=np.float32).astype(np.float64)
    if channels < 1 or decoded.sample_rate <= 0:
        raise AudioFormatError(f"{kind.upper()} has {channels} channel(s) at {decoded.sample_rate} Hz")
    values = values[: values.size // channels * channels]
    return Sound(values.reshape(-1, channels).T.copy(), int(decoded.sample_rate))


def encode_wav(sound: Sound) -> bytes:
    """A 16-bit PCM WAV of ``sound`` (rounded; values beyond full scale are clipped)."""
    ints = np.clip(np.rint(sound.samples.T * FULL_SCALE_16), -32768, 32767).astype("<i2")  # little-endian
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(sound.channels)
        wav.setsampwidth(2)
        wav.setframerate(sound.sample_rate)
        wav.writeframes(ints.tobytes())
    return buf.getvalue()
