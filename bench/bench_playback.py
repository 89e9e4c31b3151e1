"""Gap between back-to-back clips (real-time sink) and espeak engine overhead.

Targets (issue 2): median gap <= 5 ms with the real-time sink; espeak engine
overhead <= 2x bare espeak-ng: the queue's own cost, so measured with loudness
normalization off. With it on (the default) the first clip after a silence also waits
for its normalization (about 3 to 6 ms per second of audio, bench_loudness.py), reported
next to it. Run: .venv/bin/python bench/bench_playback.py
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from pathlib import Path

from common import median, percentile, table

from tts_core import TTSConfig, TTSQueueManager
from tts_core.config import LoudnessConfig
from tts_core.domain.audio import Clip, silent_wav
from tts_core.domain.message import TTSMessage
from tts_core.engines import EspeakEngine
from tts_core.sinks import RealtimeSink

CLIPS = 60
CLIP_MS = 100
RUNS = 30
TEXT = "Thanks for the five dollars, JohnDoe! Great stream today."


class TimedSink(RealtimeSink):
    """The real-time sink, recording when each clip starts and ends."""

    def __init__(self) -> None:
        super().__init__(1.0)
        self.spans: list[tuple[float, float]] = []
        self.started: dict[str, float] = {}

    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None:
        start = time.perf_counter()
        self.started[message.id] = start
        super().play(clip, message, stop)
        self.spans.append((start, time.perf_counter()))


def gaps(persist: bool) -> list[float]:
    sink = TimedSink()
    with tempfile.TemporaryDirectory() as data:
        config = TTSConfig(rate_limit_per_minute=0, persist=persist, data_dir=data)
        manager = TTSQueueManager(config, engine=lambda text, **kw: silent_wav(CLIP_MS), sink=sink)
        manager.pause()
        manager.start()
        for i in range(CLIPS):
            manager.add_message(f"clip {i}")
        time.sleep(0.2)  # let the look-ahead prepare the first clips
        manager.resume()
        manager.wait_until_idle(60)
        manager.stop()
    return [(b[0] - a[1]) * 1000 for a, b in zip(sink.spans, sink.spans[1:], strict=False)]


def bare_espeak_ms() -> list[float]:
    out = []
    with tempfile.TemporaryDirectory() as folder:
        wav = str(Path(folder) / "bare.wav")
        for _ in range(RUNS):
            start = time.perf_counter()
            subprocess.run(["espeak-ng", "-w", wav, "--", TEXT], check=True)
            out.append((time.perf_counter() - start) * 1000)
    return out


def engine_ms() -> list[float]:
    engine, out = EspeakEngine(), []
    for _ in range(RUNS):
        start = time.perf_counter()
        Clip.from_bytes(engine.synthesize(TEXT))
        out.append((time.perf_counter() - start) * 1000)
    return out


def queue_to_playback_ms(loudness: LoudnessConfig) -> list[float]:
    """add_message on an idle queue -> the clip starts in the sink (synthesis included)."""
    sink = TimedSink()
    config = TTSConfig(rate_limit_per_minute=0, loudness=loudness)
    manager = TTSQueueManager(config, engine=EspeakEngine(), sink=sink)
    manager.start()
    out = []
    for _ in range(RUNS):
        start = time.perf_counter()
        msg_id = manager.add_message(TEXT)
        while msg_id not in sink.started:
            time.sleep(0.0002)
        out.append((sink.started[msg_id] - start) * 1000)
        manager.skip()
        manager.wait_until_idle(10)
    manager.stop()
    return out


def main() -> None:
    plain, persisted = gaps(False), gaps(True)
    bare, engine = bare_espeak_ms(), engine_ms()
    queued = queue_to_playback_ms(LoudnessConfig(enabled=False))
    normalized = queue_to_playback_ms(LoudnessConfig())
    table(
        f"Gap between back-to-back {CLIP_MS} ms clips, real-time sink ({CLIPS} clips)",
        ["journal", "median gap ms", "p95 gap ms", "max gap ms", "target"],
        [
            [name, f"{median(g):.2f}", f"{percentile(g, 95):.2f}", f"{max(g):.2f}", "median <= 5"]
            for name, g in (("off", plain), ("on", persisted))
        ],
    )
    table(
        f"espeak-ng: bare command vs our engine vs the whole queue (median of {RUNS})",
        ["path", "median ms", "x bare", "target"],
        [
            ["bare `espeak-ng -w file`", f"{median(bare):.1f}", "1.00", "-"],
            ["EspeakEngine.synthesize", f"{median(engine):.1f}", f"{median(engine) / median(bare):.2f}", "-"],
            ["add_message -> clip starts, normalization off", f"{median(queued):.1f}",
             f"{median(queued) / median(bare):.2f}", "<= 2.00"],
            ["add_message -> clip starts, normalization on (default)", f"{median(normalized):.1f}",
             f"{median(normalized) / median(bare):.2f}", "-"],
        ],
    )


if __name__ == "__main__":
    main()
