"""Crash safety: a queue process killed with SIGKILL loses nothing it had accepted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CHILD = Path(__file__).with_name("crash_child.py")
ROOT = Path(__file__).resolve().parents[2]


def _spawn(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, text=True, env=env)


def _timeline(folder: Path) -> list[dict]:
    path = folder / "timeline.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _started(folder: Path) -> list[str]:
    """Clip files are written when a clip starts: started, finished or not."""
    return sorted(p.name for p in folder.glob("[0-9][0-9][0-9][0-9]-*"))


def test_sigkill_mid_queue_then_restart_plays_every_pending_message(tmp_path):
    data, first_out, second_out = tmp_path / "data", tmp_path / "run1", tmp_path / "run2"
    child = _spawn(str(data), str(first_out), "20")
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "queued"
    deadline = time.monotonic() + 30
    while len(_timeline(first_out)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_timeline(first_out)) >= 3, "the first run should have played a few clips"
    time.sleep(0.3)  # most likely mid-clip
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)

    finished_first = [row["message_id"] for row in _timeline(first_out)]
    started_first = [name.split("-", 1)[1].split(".")[0] for name in _started(first_out)]
    cut_off = [m for m in started_first if m not in finished_first]

    restart = _spawn(str(data), str(second_out))
    out, _ = restart.communicate(timeout=120)
    assert restart.returncode == 0 and "idle" in out
    second = [row["message_id"] for row in _timeline(second_out)]

    assert len(set(finished_first) | set(second)) == 20, "every accepted message was played"
    assert not set(finished_first) & set(second), "finished clips are not played twice"
    assert set(cut_off) <= set(second), "the clip cut by the crash is spoken again"
    if cut_off:
        assert second[0] == cut_off[0], "the interrupted clip comes back first"
    rows = _timeline(second_out)
    order = {"URGENT": 4, "HIGH": 3, "NORMAL": 2, "LOW": 1}
    keys = [(-order[r["priority"]], int(r["text"].rsplit(" ", 1)[1])) for r in rows[len(cut_off) :]]
    assert keys == sorted(keys), "recovered messages play in priority, then arrival order"
