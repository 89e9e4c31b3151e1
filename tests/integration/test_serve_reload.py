"""`obs-tts serve` reloads its config file on SIGHUP and applies it live (issue 7 item 4):
a good file applies, a bad one is refused with one line and the old settings keep running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parents[2]


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sighup_reloads_the_config_live(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"tts_queue": {"max_concurrent_workers": 1}}))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OBS_TTS_TOKEN": ""}
    process = subprocess.Popen(
        [sys.executable, "-m", "tts_core.cli", "serve", "--config", str(config), "--port", "0",
         "--sink", "wav-dir", "--out", str(tmp_path / "clips"), "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        assert _wait(lambda: lines, 20), process.stderr.read() if process.poll() is not None else "no output"
        url = lines[0].split("listening on ", 1)[1].split()[0]

        changed = {"tts_queue": {"max_concurrent_workers": 2, "rate_limit_per_minute": 30}}
        config.write_text(json.dumps(changed))
        process.send_signal(signal.SIGHUP)
        assert _wait(lambda: any("applied" in line for line in lines), 20), lines
        assert any(line.startswith(f"obs-tts serve: config {config} applied") for line in lines), lines

        config.write_text(json.dumps({"engine": {"voice": "en-uss"}}))
        process.send_signal(signal.SIGHUP)
        assert _wait(lambda: any("not applied" in line for line in lines), 20), lines
        refused = next(line for line in lines if "not applied" in line)
        assert "the previous configuration keeps running" in refused and "engine.voice" in refused

        with connect(url) as ws:  # still serving, with the previous configuration
            ws.send(json.dumps({"type": "tts", "text": "still here", "id": 1}))
            reply = json.loads(ws.recv(timeout=10))
        assert reply["status"] == "ok"
        assert _wait(lambda: any("playback_finished" in line and reply["message_id"] in line
                                 for line in lines), 30), lines
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0
    reader.join(5)
    assert lines[-1].startswith("obs-tts serve: stopped; played 1")
