"""The offline engines really speak: espeak-ng and pyttsx3 produce audio of sensible length.

No skips: without espeak-ng or pyttsx3 these fail with the engine's own install hint.
"""

from __future__ import annotations

import shutil
import subprocess
import threading

import pytest

from tts_core.domain.audio import Clip
from tts_core.engines import EngineError, EspeakEngine, Pyttsx3Engine, create_engine


def test_espeak_speaks_wav_of_plausible_duration():
    clip = Clip.from_bytes(EspeakEngine().synthesize("Thanks for the five dollar donation, John!"))
    assert clip.format == "wav"
    assert 1500 < clip.duration_ms < 6000


def test_espeak_rate_voice_and_volume_change_the_audio():
    engine = EspeakEngine()
    text = "This sentence is spoken at two different speeds."
    slow = Clip.from_bytes(engine.synthesize(text, rate=120)).duration_ms
    fast = Clip.from_bytes(engine.synthesize(text, rate=300)).duration_ms
    assert slow > fast * 1.8
    loud = engine.synthesize(text, volume=1.0)
    quiet = engine.synthesize(text, volume=0.2)
    assert _peak(loud) > _peak(quiet) * 2
    german = engine.synthesize("Guten Tag", voice="de")
    assert Clip.from_bytes(german).duration_ms > 300


def test_espeak_speaks_text_that_starts_with_a_dash():
    assert Clip.from_bytes(EspeakEngine().synthesize("-5 dollars is a refund")).duration_ms > 800


@pytest.mark.parametrize("typed", ["say [[f'Vk]] now", "[[h@l'oU]]"])
def test_espeak_reads_phoneme_brackets_as_brackets_not_as_phoneme_codes(typed):
    # espeak-ng reads [[...]] as phoneme codes: a viewer could say a listed word without spelling it.
    def raw(text: str) -> bytes:
        return subprocess.run(["espeak-ng", "--stdout", "--", text], capture_output=True, check=True).stdout

    spoken = Clip.from_bytes(create_engine("espeak").synthesize(typed)).duration_ms
    as_phonemes = Clip.from_bytes(raw(typed.replace("[ [", "[[").replace("] ]", "]]"))).duration_ms
    as_brackets = Clip.from_bytes(raw(typed.replace("[[", "[ [").replace("]]", "] ]"))).duration_ms
    assert as_brackets != as_phonemes
    assert spoken == as_brackets


def test_espeak_unknown_voice_is_an_engine_error():
    with pytest.raises(EngineError, match="unknown espeak voice"):
        EspeakEngine().synthesize("hello", voice="no-such-voice-xyz")


def test_espeak_lists_its_voices():
    voices = create_engine("espeak").list_voices()
    assert len(voices) > 50
    assert any(v.id == "en-us" for v in voices)


def test_espeak_is_safe_to_call_from_several_threads():
    engine, results = EspeakEngine(), []
    threads = [
        threading.Thread(target=lambda i=i: results.append(engine.synthesize(f"thread {i}")))
        for i in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and all(Clip.from_bytes(r).duration_ms > 300 for r in results)


def test_pyttsx3_engine_speaks_from_many_threads_and_applies_rate():
    engine = Pyttsx3Engine()
    text = "A sentence for the pyttsx3 engine to say."
    slow = Clip.from_bytes(engine.synthesize(text, rate=120)).duration_ms
    fast = Clip.from_bytes(engine.synthesize(text, rate=300)).duration_ms
    assert slow > fast * 1.5, (slow, fast)
    results: list[int] = []
    threads = [
        threading.Thread(
            target=lambda i=i: results.append(
                Clip.from_bytes(engine.synthesize(f"worker {i} speaking")).duration_ms
            )
        )
        for i in range(5)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 5 and min(results) > 300
    assert len(engine.list_voices()) > 10


def test_mp3_duration_matches_ffmpeg(tmp_path):
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg missing (make test installs it)")
    wav = tmp_path / "a.wav"
    wav.write_bytes(EspeakEngine().synthesize("An MP3 clip, like Google's voice returns."))
    mp3 = tmp_path / "a.mp3"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(wav), "-b:a", "64k", str(mp3)], check=True)
    wav_ms = Clip.from_bytes(wav.read_bytes()).duration_ms
    mp3_clip = Clip.from_bytes(mp3.read_bytes())
    assert mp3_clip.format == "mp3"
    assert abs(mp3_clip.duration_ms - wav_ms) < 120  # encoder padding only


def _peak(wav: bytes) -> int:
    import array

    samples = array.array("h", wav[44:])
    return max(abs(s) for s in samples)
