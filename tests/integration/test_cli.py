"""The `obs-tts` command as a user runs it: demo, say, voices, doctor."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def obs_tts(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "tts_core.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def test_demo_plays_the_burst_in_priority_order_and_prints_a_table(tmp_path):
    done = obs_tts("demo", "--speed", "0", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    live = [line for line in lines if line.startswith("  > #")]
    assert len(live) == 8, done.stdout  # nine events; the chat line without !tts is not read
    assert "URGENT" in live[0] and "VIP User donated 150 dollars" in live[0]
    header = lines.index(next(line for line in lines if line.startswith("ORDER")))
    table = lines[header + 1 : header + 9]
    priorities = [row.split()[1] for row in table]
    rank = {"URGENT": 0, "HIGH": 1, "NORMAL": 2, "LOW": 3}
    assert [rank[p] for p in priorities] == sorted(rank[p] for p in priorities)
    assert "played 8, failed 0" in done.stdout
    rows = [json.loads(x) for x in (tmp_path / "timeline.jsonl").read_text().splitlines()]
    assert len(rows) == 8 and all((tmp_path / r["file"]).stat().st_size > 1000 for r in rows)


def test_say_writes_a_clip_file(tmp_path):
    out = tmp_path / "hello.wav"
    done = obs_tts("say", "Hello chat", "--voice", "en-us", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:4] == b"RIFF" and "wrote" in done.stdout


def test_say_plays_through_the_queue():
    done = obs_tts("say", "Hello chat", "--priority", "urgent")
    assert done.returncode == 0, done.stderr
    assert "queued" in done.stdout and "spoke" in done.stdout


def test_say_with_a_bad_priority_or_voice_explains_the_problem():
    bad = obs_tts("say", "hi", "--priority", "mega")
    assert bad.returncode == 2 and "expected one of URGENT, HIGH, NORMAL, LOW" in bad.stderr
    voice = obs_tts("say", "hi", "--voice", "klingon-xx")
    # refused before anything starts (issue 8), with the closest voices
    assert voice.returncode == 2 and "unknown voice 'klingon-xx' for engine espeak" in voice.stderr


def test_voices_lists_espeak_voices():
    done = obs_tts("voices", "--language", "de")
    assert done.returncode == 0
    assert any(line.split()[0] == "de" for line in done.stdout.splitlines()[1:-1])


def test_doctor_reports_each_engine_and_sink():
    done = obs_tts("doctor")
    assert "engine espeak" in done.stdout and "sink wav-dir" in done.stdout
    assert "ok    engine espeak" in done.stdout
