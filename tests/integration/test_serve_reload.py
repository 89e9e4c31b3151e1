"""`obs-tts serve` reloads its config file on SIGHUP and applies it live (issue 7 item 4):
a good file applies, a bad one is refused with one line and the old settings keep running."""

from __future__ import annotations

import json
import signal

from doubles import wait_until
from listener_support import serving
from websockets.sync.client import connect


def test_sighup_reloads_the_config_live(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"tts_queue": {"max_concurrent_workers": 1}}))
    with serving(tmp_path, config) as (url, lines, process):
        changed = {"tts_queue": {"max_concurrent_workers": 2, "rate_limit_per_minute": 30}}
        config.write_text(json.dumps(changed))
        process.send_signal(signal.SIGHUP)
        assert wait_until(lambda: any("applied" in line for line in lines), 20), lines
        assert any(line.startswith(f"obs-tts serve: config {config} applied") for line in lines), lines

        config.write_text(json.dumps({"engine": {"voice": "en-uss"}}))
        process.send_signal(signal.SIGHUP)
        assert wait_until(lambda: any("not applied" in line for line in lines), 20), lines
        refused = next(line for line in lines if "not applied" in line)
        assert "the previous configuration keeps running" in refused and "engine.voice" in refused

        with connect(url) as ws:  # still serving, with the previous configuration
            ws.send(json.dumps({"type": "tts", "text": "still here", "id": 1}))
            reply = json.loads(ws.recv(timeout=10))
        assert reply["status"] == "ok"
        assert wait_until(lambda: any("playback_finished" in line and reply["message_id"] in line
                                 for line in lines), 30), lines
    assert lines[-1].startswith("obs-tts serve: stopped; played 1")
