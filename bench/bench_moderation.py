"""Chat messages per second through the default moderation pipeline.

What it measures: a StreamerBotIntegration's pipeline (the stages the default config
switches on: gates, look-alike letters, links, commands, emotes, emoji, blobs,
repeats, whitespace, "nothing left") on a mix of real-world chat lines, plain and
nasty (links in dodge shapes, look-alikes, zero-width, emoji, spam, blobs), plus a
bad-word list of 50 entries. Target (issue 10): >= 20,000 chat messages per second.
Run: .venv/bin/python bench/bench_moderation.py
"""

from __future__ import annotations

import contextlib
import time

from common import median, table

from tts_core.config import ModerationConfig, StreamerBotConfig
from tts_core.ingest.moderation import Memory, Stopped, Words, build_pipeline

N = 20_000
RUNS = 7
SAMPLES = [
    "hello chat how is everyone doing today",
    "that was an insane play lets go",
    "can you play the next level on hard mode please",
    "gg wp", "LUL that was close KEKW", "sooooooo goooood!!!!!!",
    "check out my stream at twitch . tv / somebody", "free skins at hxxps://evil[.]com/free",
    "this is a ѕсаm do not click", "hi 😂😂 👍🏽 nice", "spam spam spam spam spam spam",
    "aGVsbG8gd29ybGQgdGhpcyBpcyBhIGJhc2U2NA== decode this", "!so coolstreamer",
    "I think version 1.5 fixed it. Node.js is fine too", "привет из России, отличный стрим",
    "ｆｕｌｌ ｗｉｄｔｈ letters", "what is the song name?", "mods please ban that bot",
    "first time here, love the vibe", "que buena partida amigo",
]
BAD_WORDS = [f"badword{i}*" for i in range(48)] + ["scam", "frick*"]


def run_once(n: int) -> tuple[float, float]:
    """Messages per second of wall-clock time and of this process's CPU time."""
    pipeline = build_pipeline(ModerationConfig(bad_words=list(BAD_WORDS)), StreamerBotConfig(), Memory())
    lines = [SAMPLES[i % len(SAMPLES)] for i in range(n)]
    wall, cpu = time.perf_counter(), time.process_time()
    for i, line in enumerate(lines):
        with contextlib.suppress(Stopped):
            pipeline.run(Words(line, "chat", f"viewer{i % 500}", now=float(i)))
    return n / (time.perf_counter() - wall), n / (time.process_time() - cpu)


def main() -> None:
    run_once(2_000)  # warm up the regex caches
    runs = [run_once(N) for _ in range(RUNS)]
    wall, cpu = [r[0] for r in runs], [r[1] for r in runs]
    # The machine is shared: CPU time shows what one core does when it is ours.
    table("Moderation pipeline (default stages + 50 bad words), chat messages per second",
          ["messages", "runs", "median / s (wall)", "best / s (wall)", "median / s (CPU time)", "target"],
          [[N, RUNS, f"{median(wall):,.0f}", f"{max(wall):,.0f}", f"{median(cpu):,.0f}", ">= 20,000 / s"]])


if __name__ == "__main__":
    main()
