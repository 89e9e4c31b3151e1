"""Capacity across a crash (issue 19): with the queue exactly full and one clip playing,
a SIGKILL and a restart drop nothing (the clip that was playing takes no other's place)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

CHILD = Path(__file__).with_name("capacity_child.py")
ROOT = Path(__file__).resolve().parents[2]
SIZE = 8


def _run(*args: str, kill_on: str | None = None) -> str:
    """Run the child until it prints a line starting with ``kill_on`` (then SIGKILL it),
    or to its end; returns that line (or the last one)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, text=True,
                               env=env)
    assert process.stdout is not None
    last = ""
    try:
        for line in process.stdout:
            last = line.strip()
            if kill_on is not None and last.startswith(kill_on):
                os.kill(process.pid, signal.SIGKILL)
                assert process.wait(10) == -signal.SIGKILL
                return last
        assert process.wait(30) == 0, f"the child failed (exit {process.returncode})"
        return last
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def test_a_crash_at_full_capacity_with_a_clip_playing_drops_nothing(tmp_path):
    data = tmp_path / "data"
    full = _run(str(data), str(SIZE), "fill", kill_on="full ")
    accepted = json.loads(full.split(" ", 1)[1])
    assert len(accepted) == SIZE + 1, "the queue was exactly full, with one more clip playing"

    stats = json.loads(_run(str(data), str(SIZE), "recover").split(" ", 1)[1])
    assert stats["dropped"] == 0, stats
    assert stats["accepted"] == SIZE + 1
    assert stats["pending"] == accepted, "the cut clip first, then every waiting message, none dropped"
