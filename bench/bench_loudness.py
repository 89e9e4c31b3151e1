"""Every voice equally loud: what normalizing a clip costs on a synthesis worker thread.

For clips of real espeak-ng, Piper and MP3 speech (espeak-ng encoded by ffmpeg, as gTTS
sends it) of about 2, 5 and 15 seconds: decode, measure (BS.1770 loudness, 4x true peak),
gain, limiter, encode, timed as ``normalize_audio`` (what the workers call), medians of
repeated runs, in ms per second of audio; and the latency it adds to an idle queue
(espeak-ng, `add_message` -> the clip starts playing, normalization on / off).

No target: the time is spent on a worker thread while the previous clip plays, except
for the first clip after a silence, whose start it delays.
Run: .venv/bin/python bench/bench_loudness.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

from common import median, table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakes.speech_mp3 import mp3_speech

from tts_core import TTSConfig, TTSQueueManager
from tts_core.audio.decode import decode
from tts_core.audio.normalize import normalize_audio
from tts_core.config import LoudnessConfig
from tts_core.engines.espeak import EspeakEngine
from tts_core.engines.piper_engine import PiperEngine
from tts_core.sinks import RealtimeSink

SENTENCE = "Thanks for the five dollars, JohnDoe! Great stream today, see you next time."
LENGTHS = {"short": 1, "medium": 3, "long": 9}  # sentences per clip


def per_second(data: bytes, runs: int) -> tuple[float, float, str]:
    """(ms per second of audio, ms per clip, what the normalization did), medians."""
    seconds = decode(data).frames / decode(data).sample_rate
    times = []
    result = normalize_audio(data)
    for _ in range(runs):
        start = time.perf_counter()
        normalize_audio(data)
        times.append((time.perf_counter() - start) * 1000)
    return median(times) / seconds, median(times), f"{seconds:.1f} s, {result.describe()}"


def start_latency(loudness: LoudnessConfig, runs: int) -> float:
    """Median ms from add_message on an idle queue to the clip starting (espeak-ng)."""
    config = TTSConfig(rate_limit_per_minute=0, loudness=loudness)
    manager = TTSQueueManager(config, sink=RealtimeSink(speed=0.01))  # 1 s of audio plays in 10 ms
    manager.set_tts_engine(EspeakEngine())
    started = threading.Event()
    manager.subscribe(lambda e: started.set() if e["event"] == "playback_started" else None)
    manager.start()
    times = []
    try:
        for _ in range(runs):
            started.clear()
            t0 = time.perf_counter()
            manager.add_message(SENTENCE)
            started.wait(10)
            times.append((time.perf_counter() - t0) * 1000)
            while manager.get_stats().get("pending") or manager.get_stats().get("now_playing"):
                time.sleep(0.01)
            time.sleep(0.05)
    finally:
        manager.stop()
    return median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runs = 5 if args.quick else 21
    espeak, piper = EspeakEngine(), PiperEngine()
    rows = []
    for length, count in LENGTHS.items():
        print(f"{length} clips...", flush=True)
        text = " ".join([SENTENCE] * count)
        clips = {"espeak-ng WAV": espeak.synthesize(text), "Piper WAV": piper.synthesize(text),
                 "MP3 speech (gTTS-like)": mp3_speech(text)}
        for name, data in clips.items():
            ms_per_s, ms, what = per_second(data, runs)
            rows.append((f"{name}, {length}", f"{ms_per_s:.1f}", f"{ms:.1f}", what))
    table("normalize_audio per clip (medians)", ("clip", "ms per s of audio", "ms per clip", "clip, result"),
          rows)
    on = start_latency(LoudnessConfig(), runs)
    off = start_latency(LoudnessConfig(enabled=False), runs)
    table("idle queue, add_message -> clip starts, espeak-ng (medians)", ("normalization", "ms"),
          [("on", f"{on:.1f}"), ("off", f"{off:.1f}")])


if __name__ == "__main__":
    main()
