"""Audio clips: format detection, duration, and the WAV/MP3 parsing they need."""

from __future__ import annotations

import io
import struct
import wave
from dataclasses import dataclass
from pathlib import Path

from tts_core.domain.words import SpokenWord, words_of


class AudioFormatError(ValueError):
    """The engine returned bytes that are neither WAV nor MP3."""


@dataclass(frozen=True)
class Clip:
    """Synthesized audio for one message.

    Parameters: ``data`` (the file's bytes), ``format`` ("wav" or "mp3"),
    ``duration_ms`` (playing time), ``path`` (a file holding ``data``, once written),
    ``words`` (when each word is spoken, where the engine reported it: Azure, Edge).
    """

    data: bytes
    format: str
    duration_ms: int
    path: Path | None = None
    words: tuple[SpokenWord, ...] = ()

    @classmethod
    def from_bytes(cls, data: bytes) -> Clip:
        """Build a clip from engine output; raises AudioFormatError if not WAV/MP3."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise AudioFormatError(f"engine returned {type(data).__name__}, expected bytes")
        words = words_of(data)
        data = bytes(data)
        fmt = detect_format(data)
        if fmt == "wav":
            data = fix_wav_sizes(data)
            return cls(data, "wav", wav_duration_ms(data), words=words)
        return cls(data, "mp3", mp3_duration_ms(data), words=words)


def detect_format(data: bytes) -> str:
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    head = data[:16].hex() if data else "nothing"
    raise AudioFormatError(f"audio is neither WAV nor MP3 (starts with {head})")


def fix_wav_sizes(data: bytes) -> bytes:
    """Rewrite RIFF/data chunk sizes; espeak-ng --stdout writes placeholders there."""
    pos = 12
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        if chunk_id == b"data":
            data_size = len(data) - pos - 8
            fixed = bytearray(data)
            struct.pack_into("<I", fixed, 4, len(data) - 8)
            struct.pack_into("<I", fixed, pos + 4, data_size)
            return bytes(fixed)
        (size,) = struct.unpack_from("<I", data, pos + 4)
        pos += 8 + size + (size & 1)
    raise AudioFormatError("WAV has no data chunk")


def wav_duration_ms(data: bytes) -> int:
    try:
        with wave.open(io.BytesIO(data)) as wav:
            rate = wav.getframerate()
            frames = wav.getnframes()
    except (wave.Error, EOFError) as exc:
        raise AudioFormatError(f"unreadable WAV: {exc}") from exc
    if rate <= 0:
        raise AudioFormatError("WAV has a zero sample rate")
    return round(frames * 1000 / rate)


# MPEG audio frame header tables: bitrates (kbit/s) and sample rates by version.
_BITRATES = {
    (1, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (1, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (1, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (2, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_SAMPLE_RATES = {1: (44100, 48000, 32000), 2: (22050, 24000, 16000), 25: (11025, 12000, 8000)}


def mp3_duration_ms(data: bytes) -> int:
    """Sum the duration of every MPEG audio frame (works for CBR and VBR).

    Handles what gTTS and edge-tts send: ID3v2 tags (also in the middle, when gTTS
    concatenates one MP3 per piece of text), ID3v1 tags, and the Xing/Info frame
    encoders put first (it holds no audio and is not counted).
    """
    pos = 0
    total_samples = 0.0
    frames = 0
    size = len(data)
    while pos + 4 <= size:
        if data[pos : pos + 3] == b"ID3" and pos + 10 <= size:
            tag = (data[pos + 6] << 21) | (data[pos + 7] << 14) | (data[pos + 8] << 7) | data[pos + 9]
            footer = 10 if data[pos + 5] & 0x10 else 0
            pos += 10 + tag + footer
            continue
        if data[pos : pos + 3] == b"TAG" and size - pos == 128:
            break
        b1, b2 = data[pos + 1], data[pos + 2]
        if data[pos] != 0xFF or b1 & 0xE0 != 0xE0:
            pos += 1
            continue
        version_bits = (b1 >> 3) & 3
        layer_bits = (b1 >> 1) & 3
        bitrate_idx = b2 >> 4
        rate_idx = (b2 >> 2) & 3
        if version_bits == 1 or layer_bits == 0 or bitrate_idx in (0, 15) or rate_idx == 3:
            pos += 1
            continue
        version = {3: 1, 2: 2, 0: 25}[version_bits]
        layer = 4 - layer_bits
        bitrate = _BITRATES[(1 if version == 1 else 2, layer)][bitrate_idx] * 1000
        rate = _SAMPLE_RATES[version][rate_idx]
        padding = (b2 >> 1) & 1
        if layer == 1:
            samples = 384
            length = (12 * bitrate // rate + padding) * 4
        else:
            samples = 1152 if (layer == 2 or version == 1) else 576
            length = samples // 8 * bitrate // rate + padding
        if length <= 0:
            pos += 1
            continue
        if not _is_info_frame(data, pos, version, layer):
            total_samples += samples / rate
            frames += 1
        pos += length
    if frames == 0:
        raise AudioFormatError("MP3 has no audio frames")
    return round(total_samples * 1000)


def _is_info_frame(data: bytes, pos: int, version: int, layer: int) -> bool:
    """The Xing/Info (or VBRI) header frame: metadata, no audio."""
    if layer != 3:
        return False
    mono = (data[pos + 3] >> 6) == 3
    side_info = (17 if mono else 32) if version == 1 else (9 if mono else 17)
    at = pos + 4 + side_info
    return data[at : at + 4] in (b"Xing", b"Info") or data[pos + 36 : pos + 40] == b"VBRI"


def silent_wav(duration_ms: int, sample_rate: int = 22050) -> bytes:
    """A mono 16-bit WAV of silence; used by tests, benchmarks and the null engine."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(b"\x00\x00" * (sample_rate * duration_ms // 1000))
    return buf.getvalue()
