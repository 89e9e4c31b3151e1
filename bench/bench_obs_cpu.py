"""CPU time the OBS script costs while idle, and how long its timer pump takes per frame.

OBS (isolated, under Xvfb, 640x360 at 30 fps, software rendering) idles IDLE_SECONDS in
three set-ups, REPEATS runs each, alternating: empty; with an idle media source in the
Audio Mixer (what playing TTS through OBS needs anyway: its volume meter is redrawn by
OBS's UI thread); with the script (its listener up, queue empty, persistence on, its own
media source in the mixer). CPU time comes from /proc/<obs pid>/task/*/stat, so the
table also shows where it goes. Target: the script costs <= 1 % of one core.
Run: .venv/bin/python bench/bench_obs_cpu.py  (needs obs-studio, xvfb)
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from common import median, table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

from obs_harness import ObsHarness, ObsSetup, SourceSpec, find_free_port
from tts_stack import MEDIA, script_setup

IDLE_SECONDS = 20.0
WARM_UP_SECONDS = 5.0
REPEATS = 3
SETUPS = ("empty OBS", "OBS + idle media source", "OBS + script")
GROUPS = ("UI thread", "graphics thread", "other 'obs' threads (Python's)", "rendering and the rest")


def thread_cpu(pid: int) -> Counter[str]:
    """CPU seconds so far per group of OBS's threads."""
    out: Counter[str] = Counter()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
        if int(task.name) == pid:
            out[GROUPS[0]] += seconds
        elif name.startswith("libobs: graphic"):
            out[GROUPS[1]] += seconds
        elif name == "obs":
            out[GROUPS[2]] += seconds
        else:
            out[GROUPS[3]] += seconds
    return out


def measure(setup_name: str) -> tuple[dict[str, float], str]:
    """Percent of one core per thread group while idle; the script's pump timing (its log)."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        if setup_name == "OBS + script":
            setup = script_setup(work, find_free_port())
        elif setup_name == "OBS + idle media source":
            setup = ObsSetup(sources=[SourceSpec(MEDIA, "ffmpeg_source", {"is_local_file": True})])
        else:
            setup = ObsSetup()
        with ObsHarness(setup, workdir=work / "obs") as obs:
            assert obs.pid is not None
            if setup.script_path:
                obs.wait_for_log(r"listener on", timeout=20)
            time.sleep(WARM_UP_SECONDS)
            t0, before = time.monotonic(), thread_cpu(obs.pid)
            time.sleep(IDLE_SECONDS)
            t1, after = time.monotonic(), thread_cpu(obs.pid)
        match = re.search(r"timer pump: (.*)", obs.read_log())
    percent = {group: (after[group] - before[group]) / (t1 - t0) * 100 for group in GROUPS}
    return percent, match[1] if match else "-"


def main() -> None:
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in SETUPS}
    pump = "-"
    for _ in range(REPEATS):
        for name in SETUPS:
            percent, timing = measure(name)
            runs[name].append(percent)
            pump = timing if timing != "-" else pump
    totals = {name: median([sum(r.values()) for r in runs[name]]) for name in SETUPS}
    rows = [[name, f"{totals[name]:.2f}", " ".join(f"{sum(r.values()):.2f}" for r in runs[name]),
             *(f"{median([r[g] for r in runs[name]]):.2f}" for g in GROUPS)] for name in SETUPS]
    table(f"OBS CPU while idle: percent of one core, median of {REPEATS} runs of {IDLE_SECONDS:.0f} s",
          ["set-up", "total", "runs", *GROUPS], rows)
    table("The script's cost while idle (target <= 1.00 % of one core)", ["compared with", "overhead %"],
          [["OBS with an idle media source in the mixer",
            f"{totals['OBS + script'] - totals['OBS + idle media source']:.2f}"],
           ["empty OBS (includes the mixer's meter for the source)",
            f"{totals['OBS + script'] - totals['empty OBS']:.2f}"]])
    table("The script's timer pump on OBS's graphics thread (one run)", ["pump"], [[pump]])


if __name__ == "__main__":
    main()
