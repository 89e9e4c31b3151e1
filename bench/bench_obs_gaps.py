"""Real OBS under Xvfb, 30 fps, no pause between clips: the gap between back-to-back clips,
for the in-OBS script and the remote sink (obs-websocket), with espeak-ng and with an
engine that takes 800 ms per clip (the look-ahead workers hide it), in one table.

Two measures of the gap from one clip's end to the next one's start:
  * events: OBS's own media events, as an obs-websocket client receives them:
    MediaInputPlaybackEnded of one clip -> MediaInputPlaybackStarted of the next. OBS
    sends Ended from its media thread when the clip's last audio is handed to the mix,
    and Started on the video frame that applies the next file.
  * recording: the silence between two clips in OBS's own recording (mkv, AAC), for
    clips that are a plain tone from their first sample to their last (the 800 ms
    engines: the loopback Azure service answers with a 700 ms tone, the remote engine
    returns one); espeak's speech has its own pauses, so only events are measured there.
    A transition with no silence of at least one 2 ms window counts as 0 ms.
Set-ups (messages arriving all at once; the engines' first clips ready before playback):
  * script, espeak: the OBS script with its default engine;
  * remote, espeak: the queue in this process with the remote sink (`obs-tts serve
    --sink obs`);
  * script, Azure 800 ms: the script with the Azure engine, talking to the loopback Azure
    service (tests/fakes) that waits 800 ms before each clip's audio;
  * remote, 800 ms: the remote sink, engine = an 800 ms sleep, then a 700 ms tone.
Target (issue 17): at most one video frame (33.3 ms) at the median and the 95th percentile.
Run: .venv/bin/python bench/bench_obs_gaps.py  (needs obs-studio, xvfb, espeak-ng, ffmpeg);
``--only script-espeak,remote-espeak`` runs some set-ups (script-espeak, remote-espeak,
script-azure, remote-slow); ``--runs N`` runs each N times (one row per run).
"""

from __future__ import annotations

import argparse
import io
import itertools
import math
import re
import sys
import tempfile
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import median, percentile, table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

from audio_analysis import FULL_SCALE, decode_audio
from fakes.audio import pcm_tone
from fakes.usp import UspServer
from obs_harness import ObsHarness, RecordedEvent, find_free_port
from tts_stack import MEDIA, ListenerClient, running_stack, script_setup

ESPEAK_CLIPS = 40
SLOW_CLIPS = 20
ENGINE_SECONDS = 0.8
TONE_MS = 700
FRAME_MS = 1000 / 30
WINDOW_S = 0.002  # recording: silence is measured in windows of this length
SILENCE_DB = -40.0  # the tone is at -12 dBFS
WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")


@dataclass
class Measured:
    events: list[float] = field(default_factory=list)  # ms, Ended -> next Started
    audible: list[float] | None = None  # ms of silence between clips in the recording
    note: str = ""


def event_gaps(events: list[RecordedEvent]) -> list[float]:
    import os
    if os.environ.get('TTS_GAP_PROFILE'):
        with open(os.environ['TTS_GAP_PROFILE'], 'a') as f:
            for e in events:
                f.write(f'{e.t:.6f} OBS.{e.name}\n')
    return [(b.t - a.t) * 1000 for a, b in itertools.pairwise(events)
            if a.name.endswith("Ended") and b.name.endswith("Started")]


def recorded_gaps(recording: Path, clips: int) -> tuple[list[float], str]:
    """The silences between ``clips`` back-to-back tone clips in the recording, in ms
    (transitions with no silent window: 0), and a note on the sound's total length."""
    audio = decode_audio(recording, 16000)
    n = round(audio.sample_rate * WINDOW_S)
    threshold = FULL_SCALE * 10 ** (SILENCE_DB / 20)
    loud = [math.sqrt(math.fsum(x * x for x in audio.samples[i:i + n]) / n) >= threshold
            for i in range(0, len(audio.samples) - n + 1, n)]
    first, last = loud.index(True), len(loud) - 1 - loud[::-1].index(True)
    silences = [len(list(run)) * WINDOW_S * 1000
                for is_loud, run in itertools.groupby(loud[first:last + 1]) if not is_loud]
    heard = (last - first + 1) * WINDOW_S * 1000 - sum(silences)
    note = (f"{len(silences)} silences for {clips - 1} transitions; sound {heard:.0f} ms "
            f"of {clips * TONE_MS} ms")
    return silences + [0.0] * max(0, clips - 1 - len(silences)), note


def texts(count: int, shortest: int) -> list[str]:
    return [" ".join(WORDS[: shortest + n % 5]) for n in range(count)]


def wait_played(client: ListenerClient, ids: list[str], t0: float, seconds_each: float) -> None:
    client.wait_event("playback_finished", ids[-1], timeout=len(ids) * seconds_each, after=t0)
    time.sleep(0.3)


def handoff_note(log: str) -> str:
    match = re.search(r"graphics thread waited for the next clip (\d+) time\(s\)", log)
    return f"graphics thread waited for the player {match[1]} time(s)" if match else ""


def espeak_gaps(mode: str) -> Measured:
    with tempfile.TemporaryDirectory() as folder:
        with running_stack(mode, Path(folder), pause_ms=0) as stack:
            c = stack.client
            c.request("Pause")
            ids = [c.queue({"type": "tts", "text": text}) for text in texts(ESPEAK_CLIPS, 1)]
            time.sleep(1.0)  # the look-ahead workers synthesize the first clips
            t0 = time.monotonic()
            c.request("Resume")
            wait_played(c, ids, t0, 5)
            events = stack.media_events(after=t0)
        note = handoff_note(stack.obs.read_log()) if mode == "script" else ""  # OBS has stopped: all logged
    return Measured(event_gaps(events), None, note)


def tone_wav(ms: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm_tone(ms))
    return out.getvalue()


@contextmanager
def recording(obs: ObsHarness) -> Iterator[list[Path]]:
    found: list[Path] = []
    obs.start_recording()
    time.sleep(0.3)
    try:
        yield found
    finally:
        found.append(obs.stop_recording())


def remote_slow_gaps() -> Measured:
    tone = tone_wav(TONE_MS)

    def slow(text: str, **kwargs: Any) -> bytes:
        time.sleep(ENGINE_SECONDS)
        return tone

    with tempfile.TemporaryDirectory() as folder, \
            running_stack("remote-local", Path(folder), pause_ms=0) as stack:
        assert stack.manager is not None
        stack.manager.set_tts_engine(slow)
        with recording(stack.obs) as rec:
            t0 = time.monotonic()
            ids = [stack.client.queue({"type": "tts", "text": text}) for text in texts(SLOW_CLIPS, 3)]
            wait_played(stack.client, ids, t0, 6)
        events = stack.media_events(after=t0)
        audible, note = recorded_gaps(rec[0], SLOW_CLIPS)
    return Measured(event_gaps(events), audible, note)


def script_slow_gaps() -> Measured:
    service = UspServer(flavour="azure", tone_ms=TONE_MS, delay_s=ENGINE_SECONDS).start()
    port = find_free_port()
    try:
        with tempfile.TemporaryDirectory() as folder:
            setup = script_setup(Path(folder), port, pause_between_clips_ms=0, rate_limit_per_minute=0,
                                 engine="azure", azure_key="bench-key-0123456789",
                                 azure_host=f"ws://127.0.0.1:{service.port}")
            with ObsHarness(setup, workdir=Path(folder) / "obs") as obs:
                obs.wait_for_log(r"TTS queue started", timeout=30)
                client = ListenerClient(port)
                client.subscribe()
                try:
                    with recording(obs) as rec:
                        t0 = time.monotonic()
                        ids = [client.queue({"type": "tts", "text": text}, retry_for=10)
                               for text in texts(SLOW_CLIPS, 3)]
                        wait_played(client, ids, t0, 6)
                    names = ("MediaInputPlaybackStarted", "MediaInputPlaybackEnded")
                    events = [e for e in obs.client.events_named(*names, after=t0)
                              if e.data.get("inputName") == MEDIA]
                finally:
                    client.close()
                audible, note = recorded_gaps(rec[0], SLOW_CLIPS)
            note = "; ".join(x for x in (note, handoff_note(obs.read_log())) if x)  # OBS stopped
    finally:
        service.stop()
    return Measured(event_gaps(events), audible, note)


def figures(values: list[float] | None) -> list[str]:
    if not values:
        return ["-", "-", "-"]
    return [f"{median(values):.1f}", f"{percentile(values, 95):.1f}", f"{max(values):.1f}"]


SETUPS = {
    "script-espeak": ("script, espeak", lambda: espeak_gaps("script")),
    "remote-espeak": ("remote, espeak", lambda: espeak_gaps("remote-local")),
    "script-azure": ("script, Azure 800 ms (loopback)", script_slow_gaps),
    "remote-slow": ("remote, 800 ms engine", remote_slow_gaps),
}


def main() -> None:
    parser = argparse.ArgumentParser(description="gap between back-to-back clips in real OBS")
    parser.add_argument("--only", default=",".join(SETUPS),
                        help=f"comma-separated set-ups, of: {', '.join(SETUPS)} (default: all)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each set-up, one row each")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SETUPS]
    if unknown:
        parser.error(f"unknown set-up(s) {', '.join(unknown)}; expected some of {', '.join(SETUPS)}")
    rows = []
    for _ in range(args.runs):
        for name in chosen:
            label, measure = SETUPS[name]
            m = measure()
            within = sum(1 for g in m.events if g <= FRAME_MS)
            rows.append([label, *figures(m.events), f"{within}/{len(m.events)}", *figures(m.audible), m.note])
    table(f"Real OBS, 30 fps, no pause: gap from one clip's end to the next one's start, ms "
          f"(events: MediaInputPlaybackEnded -> next Started; recording: silence between tone clips). "
          f"Target: median and p95 <= {FRAME_MS:.1f} ms (one frame)",
          ["set-up", "events p50", "p95", "max", "<= 1 frame", "recording p50", "p95", "max", "note"], rows)


if __name__ == "__main__":
    main()
