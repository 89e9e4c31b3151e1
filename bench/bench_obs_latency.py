"""Real OBS under Xvfb: event -> clip playing, and the gap between back-to-back clips.

For the OBS script and for the remote sink (obs-websocket, clip files):
  * latency: HTTP POST /event on an idle queue (espeak-ng) -> obs-websocket's
    MediaInputPlaybackStarted for the media source. Targets: p50 <= 100 ms, p95 <= 200 ms.
  * gap: zero pause between clips, OBS at 30 fps: MediaInputPlaybackEnded of one clip ->
    MediaInputPlaybackStarted of the next. Target: median <= 40 ms.
Run: .venv/bin/python bench/bench_obs_latency.py  (needs obs-studio, xvfb, espeak-ng)
"""

from __future__ import annotations

import itertools
import re
import sys
import tempfile
import time
from pathlib import Path

from common import median, percentile, table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

from tts_stack import Stack, running_stack

LATENCY_RUNS = 30
GAP_CLIPS = 40
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")
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


def gaps(stack: Stack) -> list[float]:
    c = stack.client
    c.request("Pause")
    ids = [c.queue({"type": "tts", "text": " ".join(WORDS[: 1 + n % len(WORDS)])}) for n in range(GAP_CLIPS)]
    time.sleep(1.0)  # the look-ahead workers synthesize the first clips
    t0 = time.monotonic()
    c.request("Resume")
    c.wait_event("playback_finished", ids[-1], timeout=GAP_CLIPS * 5, after=t0)
    time.sleep(0.2)
    events = stack.media_events(after=t0)
    return [(b.t - a.t) * 1000 for a, b in itertools.pairwise(events)
            if a.name.endswith("Ended") and b.name.endswith("Started")]


def handoff_note(stack: Stack) -> str:
    match = re.search(r"graphics thread waited for the next clip (\d+) time\(s\): median ([\d.]+) ms, "
                      r"max ([\d.]+) ms", stack.obs.read_log())
    return f"{match[1]} waits, median {match[2]} ms, max {match[3]} ms" if match else "-"


def main() -> None:
    latency_rows, gap_rows = [], []
    for mode in MODES:
        with tempfile.TemporaryDirectory() as folder:
            with running_stack(mode, Path(folder), pause_ms=0) as stack:
                lat = latencies(stack)
                gap = gaps(stack)
            note = handoff_note(stack) if mode == "script" else "-"
        latency_rows.append([mode, f"{median(lat):.0f}", f"{percentile(lat, 95):.0f}", f"{max(lat):.0f}",
                             "p50 <= 100, p95 <= 200"])
        gap_rows.append([mode, f"{median(gap):.1f}", f"{percentile(gap, 95):.1f}", f"{max(gap):.1f}",
                         len(gap), note, "median <= 40"])
    table(f"Event sent (HTTP POST /event) -> MediaInputPlaybackStarted, idle queue, espeak-ng "
          f"({LATENCY_RUNS} events)", ["mode", "p50 ms", "p95 ms", "max ms", "target"], latency_rows)
    table("Gap between back-to-back clips (MediaInputPlaybackEnded -> next Started), no pause, 30 fps",
          ["mode", "median ms", "p95 ms", "max ms", "gaps", "graphics thread hand-off", "target"], gap_rows)


if __name__ == "__main__":
    main()
