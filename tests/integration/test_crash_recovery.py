"""Crash safety: a queue process killed with SIGKILL loses nothing it had accepted."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHILD = Path(__file__).with_name("crash_child.py")
ROOT = Path(__file__).resolve().parents[2]
CUT_AT = 4  # the first run is killed while its 4th clip plays: three have finished by then


class Child:
    """A crash_child.py process whose stdout lines arrive on a queue (readline with a time-out)."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, text=True, env=env
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, name="crash-child-stdout", daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())
        self.lines.put("")  # end of output

    def next_line(self, timeout: float = 30) -> str:
        line = self.lines.get(timeout=timeout)
        assert line, f"the child ended (exit {self.process.wait(10)}) before printing what was expected"
        return line

    def rest(self, timeout: float) -> list[str]:
        """Every line still to come, once the child has exited (within ``timeout`` seconds)."""
        self.process.wait(timeout)
        lines = []
        while line := self.lines.get(timeout=10):
            lines.append(line)
        return lines


@contextmanager
def child(*args: str) -> Iterator[Child]:
    running = Child(*args)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            running.process.kill()
        running.process.wait(10)


def _timeline(folder: Path) -> list[dict]:
    path = folder / "timeline.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_sigkill_mid_clip_then_restart_plays_the_cut_clip_first_and_every_pending_message(tmp_path):
    data, first_out, second_out = tmp_path / "data", tmp_path / "run1", tmp_path / "run2"
    with child(str(data), str(first_out), "20", str(CUT_AT)) as first:
        started = []
        while len(started) < CUT_AT:
            line = first.next_line()
            if line.startswith("playing "):
                started.append(line.split()[1])
        os.kill(first.process.pid, signal.SIGKILL)  # the 4th clip is playing (crash_child holds it)
        assert first.process.wait(10) == -signal.SIGKILL
    cut = started[-1]
    finished_first = [row["message_id"] for row in _timeline(first_out)]
    assert finished_first == started[:-1], "the first run played three clips to their end, then was cut"

    with child(str(data), str(second_out)) as restart:
        out = restart.rest(timeout=120)
    assert restart.process.returncode == 0 and out[-1] == "idle", out
    rows = _timeline(second_out)
    second = [row["message_id"] for row in rows]

    assert len(set(finished_first) | set(second)) == 20, "every accepted message was played"
    assert not set(finished_first) & set(second), "finished clips are not played twice"
    assert second[0] == cut, "the clip cut by the crash is spoken again, first"
    order = {"URGENT": 4, "HIGH": 3, "NORMAL": 2, "LOW": 1}
    keys = [(-order[r["priority"]], int(r["text"].rsplit(" ", 1)[1])) for r in rows[1:]]
    assert keys == sorted(keys), "recovered messages play in priority, then arrival order"
