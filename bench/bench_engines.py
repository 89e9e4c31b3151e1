"""Engines: clip cache hit time, our overhead over each bare client library, Piper's speed,
and the gap between back-to-back clips when the engine takes 800 ms per clip.

gTTS, Azure Speech and edge-tts run their real client code against the loopback
services of tests/fakes (no internet); Piper is the real packaged voice. "Overhead"
compares our engine's synthesize() with the same library call made directly, calls
interleaved, medians of many.

Targets (issue 9): cache hit <= 1 ms; overhead <= 10 % per engine; median gap with an
800 ms engine <= 5 ms (real-time sink).
Run: .venv/bin/python bench/bench_engines.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import median, percentile, table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fakes.google import FakeGoogle, google_redirected
from fakes.usp import EDGE_VOICES, UspServer

from tts_core import TTSConfig, TTSQueueManager
from tts_core.domain.audio import Clip, silent_wav
from tts_core.domain.message import TTSMessage
from tts_core.engines.azure_engine import AzureEngine
from tts_core.engines.base import Engine
from tts_core.engines.cache import ClipCache
from tts_core.engines.chain import EngineChain, Link
from tts_core.engines.edge_engine import EdgeEngine
from tts_core.engines.gtts_engine import GTTSEngine
from tts_core.engines.piper_engine import PiperEngine, load_voice
from tts_core.sinks import RealtimeSink

TEXT = "Thanks for the five dollars, JohnDoe! Great stream today."
KEY = "0123456789abcdef0123456789abcdef"

for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
    os.environ.pop(name, None)


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def interleaved(
    bare: Callable[[], Any], ours: Callable[[], Any], runs: int
) -> tuple[list[float], list[float]]:
    bare(), ours()  # warm-up (connections, imports, model)
    a, b = [], []
    for _ in range(runs):
        a.append(timed(bare))
        b.append(timed(ours))
    return a, b


# -- cache --------------------------------------------------------------------------------------


def cache_hits(runs: int) -> list[list[object]]:
    clip = Clip.from_bytes(silent_wav(2500, 24000)).data  # a 2.5 s alert, 120 KB
    with tempfile.TemporaryDirectory() as folder:
        cache = ClipCache(folder, 200)
        cache.put("gtts|tld=com", "en", None, None, TEXT, clip)
        direct = [timed(lambda: cache.get("gtts|tld=com", "en", None, None, TEXT)) for _ in range(runs)]

        class Never(Engine):
            name = "gtts"

            def cache_identity(self, voice: str | None) -> str:
                return "gtts|tld=com"

            def synthesize(self, *args: Any, **kwargs: Any) -> bytes:
                raise AssertionError("a cache hit must not call the engine")

        chain = EngineChain([Link("gtts", Never)], cache=ClipCache(folder, 200))
        chain.cache.put("gtts|tld=com", "en", None, None, TEXT, clip)  # type: ignore[union-attr]
        msg = TTSMessage(TEXT, 2, 1)  # type: ignore[arg-type]
        through = [timed(lambda: chain.synthesize_message(msg, "en", None, None)) for _ in range(runs)]
    return [
        [
            "cache hit, ClipCache.get (120 KB clip)",
            f"{median(direct):.3f} ms",
            f"p99 {percentile(direct, 99):.3f}",
        ],
        [
            "cache hit through the engine chain",
            f"{median(through):.3f} ms",
            f"p99 {percentile(through, 99):.3f}",
        ],
    ]


# -- overhead per engine ------------------------------------------------------------------------


def gtts_overhead(runs: int) -> list[object]:
    import gtts

    fake = FakeGoogle(tone_ms=800).start()
    with google_redirected(fake):
        engine = GTTSEngine(timeout=10)

        def bare() -> bytes:
            buf = io.BytesIO()
            gtts.gTTS(TEXT, lang="en", tld="com", lang_check=False, timeout=10).write_to_fp(buf)
            return buf.getvalue()

        result = interleaved(bare, lambda: engine.synthesize(TEXT), runs)
    fake.stop()
    return _row("gtts (loopback batchexecute)", *result)


def azure_overhead(runs: int) -> list[object]:
    import azure.cognitiveservices.speech as sdk

    server = UspServer(flavour="azure", tone_ms=800).start()
    engine = AzureEngine(key=KEY, host=f"ws://127.0.0.1:{server.port}")
    config = sdk.SpeechConfig(host=f"ws://127.0.0.1:{server.port}", subscription=KEY)
    config.set_speech_synthesis_output_format(sdk.SpeechSynthesisOutputFormat.Riff24Khz16BitMonoPcm)
    synth = sdk.SpeechSynthesizer(speech_config=config, audio_config=None)
    ssml = engine.ssml(TEXT)
    result = interleaved(
        lambda: synth.speak_ssml_async(ssml).get().audio_data, lambda: engine.synthesize(TEXT), runs
    )
    server.stop()
    return _row("azure (loopback USP websocket)", *result)


def edge_overhead(runs: int) -> list[object]:
    import edge_tts
    import edge_tts.communicate

    server = UspServer(flavour="edge", tone_ms=800, voices=EDGE_VOICES).start()
    edge_tts.communicate.WSS_URL = f"ws://127.0.0.1:{server.port}/edge/v1?TrustedClientToken=x"
    engine = EdgeEngine(voice="en-US-AriaNeural")

    async def collect() -> bytes:
        chunks = []
        async for chunk in edge_tts.Communicate(TEXT, "en-US-AriaNeural", boundary="WordBoundary").stream():
            if chunk["type"] == "audio":
                chunks.append(chunk["data"])
        return b"".join(chunks)

    result = interleaved(lambda: asyncio.run(collect()), lambda: engine.synthesize(TEXT), runs)
    server.stop()
    return _row("edge (loopback websocket)", *result)


def piper_overhead(runs: int) -> tuple[list[object], list[object]]:
    engine = PiperEngine()
    voice = load_voice(engine.model).voice

    def bare() -> bytes:
        buf = io.BytesIO()
        with wave.open(buf, "wb") as wav:
            voice.synthesize_wav(TEXT, wav)
        return buf.getvalue()

    result = interleaved(bare, lambda: engine.synthesize(TEXT), runs)
    audio_ms = Clip.from_bytes(engine.synthesize(TEXT)).duration_ms
    per_second = min(result[1]) / (audio_ms / 1000)
    return _row("piper (en_US-joe-medium, real)", *result), [
        "piper synthesis per second of audio (best run)",
        f"{per_second:.0f} ms",
        f"real-time factor {per_second / 1000:.3f} ({audio_ms / 1000:.1f} s clip)",
    ]


def _row(label: str, bare: list[float], ours: list[float]) -> list[object]:
    """Medians, and the overhead of the best runs too: on a shared machine noise only adds."""
    mb, mo, bb, bo = median(bare), median(ours), min(bare), min(ours)
    return [
        label,
        f"{mb:.2f} / {bb:.2f} ms",
        f"{mo:.2f} / {bo:.2f} ms",
        f"{(mo - mb) / mb * 100:+.1f} %",
        f"{(bo - bb) / bb * 100:+.1f} %",
    ]


# -- look-ahead with a slow engine ---------------------------------------------------------------------


class TimedSink(RealtimeSink):
    def __init__(self) -> None:
        super().__init__(1.0)
        self.spans: list[tuple[float, float]] = []

    def play(self, clip: Clip, message: TTSMessage, stop: threading.Event) -> None:
        start = time.perf_counter()
        super().play(clip, message, stop)
        self.spans.append((start, time.perf_counter()))


def slow_engine_gaps(clips: int) -> list[float]:
    def slow(text: str, **kwargs: Any) -> bytes:
        time.sleep(0.8)
        return silent_wav(600)

    sink = TimedSink()
    manager = TTSQueueManager(
        TTSConfig(rate_limit_per_minute=0, max_concurrent_workers=3), engine=slow, sink=sink
    )
    manager.start()
    for i in range(clips):  # arriving all at once, as a raid or a sub train does
        manager.add_message(f"clip {i}")
    manager.wait_until_idle(120)
    manager.stop()
    return [(b[0] - a[1]) * 1000 for a, b in zip(sink.spans, sink.spans[1:], strict=False)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    args = parser.parse_args()
    runs = 5 if args.quick else 40
    print(
        f"load average before: {os.getloadavg()[0]:.2f} (the machine may be shared; see the best-run column)"
    )
    table(
        "Clip cache (issue 9; target <= 1 ms)",
        ["what", "median", ""],
        cache_hits(200 if args.quick else 2000),
    )
    piper_row, rtf_row = piper_overhead(max(3, runs // 2))
    table(
        "Engine call overhead over the bare library call (issue 9; target <= 10 %)",
        ["engine", "bare library (median / best)", "our engine", "overhead (medians)", "(best runs)"],
        [gtts_overhead(runs), azure_overhead(runs), edge_overhead(runs), piper_row],
    )
    table("Piper speed", ["what", "median", ""], [rtf_row])
    gaps = slow_engine_gaps(8 if args.quick else 20)
    table(
        "Gap between back-to-back clips, engine 800 ms per clip, 600 ms clips, 3 workers, real-time sink "
        "(issue 9; target median <= 5 ms)",
        ["median", "p95", "max"],
        [[f"{median(gaps):.2f} ms", f"{percentile(gaps, 95):.2f} ms", f"{max(gaps):.2f} ms"]],
    )


if __name__ == "__main__":
    main()
