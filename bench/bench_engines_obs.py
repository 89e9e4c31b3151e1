"""Real OBS under Xvfb: the gap between back-to-back clips when the engine takes 800 ms
per clip (look-ahead hides slow engines).

Two set-ups, messages arriving all at once, no pause between clips; the gap is
MediaInputPlaybackEnded of one clip -> MediaInputPlaybackStarted of the next:
  * script: the OBS script with the Azure engine from its settings, talking to the
    loopback Azure service (tests/fakes) that takes 800 ms before each clip's audio;
  * remote: the queue in this process with the remote sink (obs-websocket, clip
    files), as `obs-tts serve --sink obs` runs it, engine = espeak-ng + 800 ms sleep.
Target (issue 9): median <= 40 ms.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

from fakes.usp import UspServer
from obs_harness import ObsHarness, RecordedEvent, find_free_port
from tts_stack import MEDIA, ListenerClient, running_stack, script_setup

from tts_core.engines import EspeakEngine

CLIPS = 20
ENGINE_SECONDS = 0.8
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")


def texts() -> list[str]:
    return [" ".join(WORDS[: 3 + n % 5]) for n in range(CLIPS)]


def gaps_of(events: list[RecordedEvent]) -> list[float]:
    return [
        (b.t - a.t) * 1000
        for a, b in itertools.pairwise(events)
        if a.name.endswith("Ended") and b.name.endswith("Started")
    ]


def remote_gaps() -> list[float]:
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
        t0 = time.monotonic()
        ids = [stack.client.queue({"type": "tts", "text": text}) for text in texts()]
        stack.client.wait_event("playback_finished", ids[-1], timeout=CLIPS * 6, after=t0)
        time.sleep(0.2)
        return gaps_of(stack.media_events(after=t0))


def script_gaps() -> list[float]:
    service = UspServer(flavour="azure", tone_ms=700, delay_s=ENGINE_SECONDS).start()
    port = find_free_port()
    try:
        with tempfile.TemporaryDirectory() as folder:
            setup = script_setup(
                Path(folder),
                port,
                pause_between_clips_ms=0,
                rate_limit_per_minute=0,
                engine="azure",
                azure_key="bench-key-0123456789",
                azure_host=f"ws://127.0.0.1:{service.port}",
            )
            with ObsHarness(setup, workdir=Path(folder) / "obs") as obs:
                obs.wait_for_log(r"TTS queue started", timeout=30)
                client = ListenerClient(port)
                client.subscribe()
                try:
                    t0 = time.monotonic()
                    ids = [client.queue({"type": "tts", "text": text}, retry_for=10) for text in texts()]
                    client.wait_event("playback_finished", ids[-1], timeout=CLIPS * 6, after=t0)
                    time.sleep(0.2)
                    names = ("MediaInputPlaybackStarted", "MediaInputPlaybackEnded")
                    events = [
                        e
                        for e in obs.client.events_named(*names, after=t0)
                        if e.data.get("inputName") == MEDIA
                    ]
                finally:
                    client.close()
    finally:
        service.stop()
    return gaps_of(events)


def main() -> None:
    rows = []
    for label, measure in (
        ("script, Azure engine (loopback service, 800 ms per clip)", script_gaps),
        ("remote sink, espeak + 800 ms per clip", remote_gaps),
    ):
        gaps = measure()
        rows.append(
            [
                label,
                f"{median(gaps):.1f}",
                f"{percentile(gaps, 95):.1f}",
                f"{max(gaps):.1f}",
                len(gaps),
                "median <= 40",
            ]
        )
    table(
        f"Real OBS, engine {ENGINE_SECONDS * 1000:.0f} ms per clip, {CLIPS} clips at once, no pause: "
        "gap between back-to-back clips",
        ["set-up", "median ms", "p95 ms", "max ms", "gaps", "target"],
        rows,
    )


if __name__ == "__main__":
    main()
