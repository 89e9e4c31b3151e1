"""OBS support pieces with threads: the pump's budget and calls, the log handler, the clip server."""

from __future__ import annotations

import logging
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tts_core.obs.remote.clipserver import ClipServer
from tts_core.obs.script.logs import QueuedLogHandler, obs_level
from tts_core.obs.script.pump import Pump


def test_pump_leaves_work_for_the_next_frame_past_its_budget() -> None:
    pump = Pump(budget_ms=1)
    for _ in range(5):
        pump.post(lambda: time.sleep(0.002))
    assert pump.run() == 1
    assert pump.pending == 4


def test_call_returns_the_result_from_obs_thread_and_times_out_without_frames() -> None:
    pump = Pump()
    stop = threading.Event()

    def frames() -> None:  # OBS's graphics thread: a frame every 5 ms
        while not stop.wait(0.005):
            pump.run()

    graphics = threading.Thread(target=frames, daemon=True)
    graphics.start()
    try:
        assert pump.call(lambda: threading.current_thread() is graphics, timeout=2) is True
    finally:
        stop.set()
        graphics.join()
    with pytest.raises(TimeoutError):
        Pump().call(lambda: None, timeout=0.05)


def test_log_records_wait_for_obs_thread() -> None:
    written: list[tuple[int, str]] = []
    handler = QueuedLogHandler(lambda level, line: written.append((level, line)))
    logger = logging.getLogger("tts_core.test_obs_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        worker = threading.Thread(target=lambda: logger.warning("from a worker %d", 7))
        worker.start()
        worker.join()
        assert written == []  # logged, but only OBS's thread writes it
        assert handler.flush_to_obs() == 1
    finally:
        logger.removeHandler(handler)
    assert written == [(200, "WARNING tts_core.test_obs_logs: from a worker 7")]
    assert obs_level(logging.ERROR) == 100 and obs_level(logging.DEBUG) == 400


def test_clip_server_serves_registered_clips_only(tmp_path: Path) -> None:
    clip = tmp_path / "m1.wav"
    clip.write_bytes(bytes(range(200)))
    server = ClipServer("127.0.0.1", 0, public_host="127.0.0.1")
    try:
        url = server.register(clip, "m1")
        with urllib.request.urlopen(url, timeout=5) as response:
            assert response.status == 200 and response.read() == clip.read_bytes()
        request = urllib.request.Request(url, headers={"Range": "bytes=100-"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 206 and response.read() == clip.read_bytes()[100:]
        server.unregister(url)
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(url, timeout=5)
        guessed = f"http://127.0.0.1:{server.port}/clips/x/m1.wav"
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(guessed, timeout=5)
    finally:
        server.close()

