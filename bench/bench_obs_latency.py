"""Real OBS under Xvfb: event -> clip playing.

For the OBS script and for the remote sink (obs-websocket, clip files): HTTP POST /event
on an idle queue (espeak-ng) -> obs-websocket's MediaInputPlaybackStarted for the media
source. Targets: p50 <= 100 ms, p95 <= 200 ms. The gap between back-to-back clips:
bench_obs_gaps.py.
Run: .venv/bin/python bench/bench_obs_latency.py  (needs obs-studio, xvfb, espeak-ng)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from common import median, percentile, table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

from tts_stack import Stack, running_stack

LATENCY_RUNS = 30
MODES = ("script", "remote-local")


def latencies(stack: Stack) -> list[float]:
    out = []
    for n in range(LATENCY_RUNS):
        sent = time.monotonic()
        stack.client.queue({"type": "tts", "text": f"hello number {n}"})
        started = stack.wait_media("Started", sent)
        out.append((started.t - sent) * 1000)
        stack.wait_media("Ended", started.t)
        time.sleep(0.3)  # idle again: nothing synthesized ahead
    return out


def main() -> None:
    rows = []
    for mode in MODES:
        with tempfile.TemporaryDirectory() as folder, running_stack(mode, Path(folder), pause_ms=0) as stack:
            lat = latencies(stack)
        rows.append([mode, f"{median(lat):.0f}", f"{percentile(lat, 95):.0f}", f"{max(lat):.0f}",
                     "p50 <= 100, p95 <= 200"])
    table(f"Event sent (HTTP POST /event) -> MediaInputPlaybackStarted, idle queue, espeak-ng "
          f"({LATENCY_RUNS} events)", ["mode", "p50 ms", "p95 ms", "max ms", "target"], rows)


if __name__ == "__main__":
    main()
