"""MP3 clips as gTTS and edge-tts deliver them have their duration known without
playing them: ID3 tags (also mid-stream in gTTS' concatenations), Info frames."""

from __future__ import annotations

import subprocess

import pytest
from fakes.audio import mp3_tone

from tts_core.domain.audio import AudioFormatError, Clip, mp3_duration_ms


def decoded_ms(data: bytes, rate: int = 24000) -> float:
    """What a player (ffmpeg, as in OBS's media source) really plays."""
    pcm = subprocess.run(["ffmpeg", "-loglevel", "error", "-i", "-", "-f", "s16le", "-ac", "1", "-ar",
                          str(rate), "-"], input=data, capture_output=True, check=True).stdout
    return len(pcm) / 2 / rate * 1000


@pytest.mark.parametrize("ms,bitrate,id3", [(500, "48k", True), (500, "48k", False), (1234, "32k", True),
                                            (3000, "64k", False)])
def test_single_mp3_duration_matches_the_decoder(ms, bitrate, id3):
    data = mp3_tone(ms, bitrate=bitrate, id3=id3)
    assert abs(mp3_duration_ms(data) - decoded_ms(data)) <= 30
    assert Clip.from_bytes(data).format == "mp3"


def test_concatenated_mp3s_with_id3_tags_in_the_middle():
    pieces = [mp3_tone(700), mp3_tone(400, freq=660), mp3_tone(900, freq=550)]
    data = b"".join(pieces)
    expected = sum(decoded_ms(p) for p in pieces)
    assert abs(mp3_duration_ms(data) - expected) <= 30 * len(pieces)
    # an ID3 tag whose bytes look like frame headers is skipped, not counted
    tag_body = b"\xff\xfb\x90\x64" * 200
    size = len(tag_body)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    tagged = b"ID3\x04\x00\x00" + syncsafe + tag_body + pieces[1]
    assert abs(mp3_duration_ms(tagged) - decoded_ms(pieces[1])) <= 30


def test_bytes_without_frames_are_refused():
    with pytest.raises(AudioFormatError, match="no audio frames"):
        Clip.from_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 100)
