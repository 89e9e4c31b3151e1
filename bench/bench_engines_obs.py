"""Real OBS under Xvfb: the gap between back-to-back clips when the engine takes 800 ms
per clip (look-ahead hides slow engines).

The queue runs in this process with the remote sink (obs-websocket, clip files), as
`obs-tts serve --sink obs` does, so the engine can be made slow: espeak-ng plus an
800 ms sleep per clip. Messages arrive all at once and play with no pause between
clips; the gap is MediaInputPlaybackEnded of one clip -> MediaInputPlaybackStarted of
the next. Target (issue 9): median <= 40 ms.
Run: .venv/bin/python bench/bench_engines_obs.py  (needs obs-studio, xvfb, espeak-ng)
"""

from __future__ import annotations

import itertools
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import median, percentile, table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

from tts_stack import running_stack

from tts_core.engines import EspeakEngine

CLIPS = 20
ENGINE_SECONDS = 0.8
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")


def main() -> None:
    espeak = EspeakEngine()

    def slow(text: str, **kwargs: Any) -> bytes:
        time.sleep(ENGINE_SECONDS)
        return espeak.synthesize(text)

    with (
        tempfile.TemporaryDirectory() as folder,
        running_stack("remote-local", Path(folder), pause_ms=0) as stack,
    ):
        assert stack.manager is not None
        stack.manager.set_tts_engine(slow)
        c = stack.client
        t0 = time.monotonic()
        ids = [c.queue({"type": "tts", "text": " ".join(WORDS[: 3 + n % 5])}) for n in range(CLIPS)]
        c.wait_event("playback_finished", ids[-1], timeout=CLIPS * 6, after=t0)
        time.sleep(0.2)
        events = stack.media_events(after=t0)
    gaps = [
        (b.t - a.t) * 1000
        for a, b in itertools.pairwise(events)
        if a.name.endswith("Ended") and b.name.endswith("Started")
    ]
    table(
        f"Real OBS, remote sink, engine {ENGINE_SECONDS * 1000:.0f} ms per clip, {CLIPS} clips, no pause: "
        "gap between back-to-back clips (target median <= 40 ms)",
        ["median ms", "p95 ms", "max ms", "gaps"],
        [[f"{median(gaps):.1f}", f"{percentile(gaps, 95):.1f}", f"{max(gaps):.1f}", len(gaps)]],
    )


if __name__ == "__main__":
    main()
