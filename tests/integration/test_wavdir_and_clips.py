"""Real espeak through the queue into the wav-dir sink; temporary clips are cleaned up."""

from __future__ import annotations

import itertools
import json
import wave

from doubles import assert_accounting

from tts_core import TTSConfig, TTSQueueManager
from tts_core.sinks import WavDirSink


def test_wav_dir_writes_each_played_clip_and_a_timeline(tmp_path):
    out = tmp_path / "out"
    manager = TTSQueueManager(TTSConfig(rate_limit_per_minute=0), sink=WavDirSink(out))
    manager.pause()
    manager.start()
    texts = ["first normal", "an urgent one", "a low one", "second normal"]
    priorities = ["NORMAL", "URGENT", "LOW", "NORMAL"]
    ids = [manager.add_message(t, p) for t, p in zip(texts, priorities, strict=True)]
    clip_folder = manager._clips.folder  # type: ignore[union-attr]
    manager.resume()
    assert manager.wait_until_idle(30)
    manager.stop()
    assert_accounting(manager)

    rows = [json.loads(line) for line in (out / "timeline.jsonl").read_text().splitlines()]
    assert [r["text"] for r in rows] == ["an urgent one", "first normal", "second normal", "a low one"]
    assert {r["message_id"] for r in rows} == set(ids)
    for prev, row in itertools.pairwise(rows):
        assert prev["ended_at"] <= row["started_at"], "one clip at a time"
        assert row["started_at"] - prev["ended_at"] < 0.05, "no gap beyond the sink's own"
    for row in rows:
        with wave.open(str(out / row["file"])) as wav:
            seconds = wav.getnframes() / wav.getframerate()
        assert abs((row["ended_at"] - row["started_at"]) - seconds) < 0.05, "held for its true duration"
        assert set(row) >= {"message_id", "priority", "text", "started_at", "ended_at"}
    assert not clip_folder.exists(), "temporary clips are removed when the queue stops"


def test_only_the_last_few_played_clips_stay_on_disk(tmp_path):
    manager = TTSQueueManager(
        TTSConfig(rate_limit_per_minute=0, replay_keep=2), sink=WavDirSink(tmp_path / "out", speed=0)
    )
    manager.start()
    try:
        for i in range(6):
            manager.add_message(f"clip {i}")
        assert manager.wait_until_idle(30)
        files = sorted(p.name for p in manager._clips.folder.iterdir())  # type: ignore[union-attr]
        assert len(files) == 2, files
    finally:
        manager.stop()
