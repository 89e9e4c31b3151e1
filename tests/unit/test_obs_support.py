"""Small parts of the OBS integration: pump, captions, log handler, packages, clip server."""

from __future__ import annotations

import logging
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tts_core.domain.message import MessagePriority, TTSMessage
from tts_core.obs.captions import caption_text
from tts_core.obs.remote.clipserver import ClipServer, byte_range
from tts_core.obs.script import packages
from tts_core.obs.script.logs import QueuedLogHandler, obs_level
from tts_core.obs.script.pump import Pump


def test_pump_runs_jobs_in_order_after_the_tick_hooks() -> None:
    pump, seen = Pump(), []
    pump.on_tick(lambda: seen.append("tick"))
    for n in range(3):
        pump.post(lambda n=n: seen.append(n))
    assert pump.run() == 3
    assert seen == ["tick", 0, 1, 2]


def test_pump_leaves_work_for_the_next_frame_past_its_budget() -> None:
    pump = Pump(budget_ms=1)
    for _ in range(5):
        pump.post(lambda: time.sleep(0.002))
    assert pump.run() == 1
    assert pump.pending == 4


def test_a_failing_job_does_not_stop_the_frame(caplog: pytest.LogCaptureFixture) -> None:
    # A generous budget: logging the traceback can outlast the per-frame budget on a busy machine.
    pump, seen = Pump(budget_ms=1000), []
    pump.post(lambda: 1 / 0)
    pump.post(lambda: seen.append("after"))
    pump.run()
    assert seen == ["after"] and "OBS job" in caplog.text


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


def test_caption_names_the_speaker_once_and_is_bounded() -> None:
    def msg(text: str, user: str | None) -> TTSMessage:
        return TTSMessage(text, MessagePriority.NORMAL, 1, username=user)

    assert caption_text(msg("Great stream!", "@JohnDoe")) == "JohnDoe: Great stream!"
    assert caption_text(msg("JohnDoe donated 5 dollars", "JohnDoe")) == "JohnDoe donated 5 dollars"
    assert caption_text(msg("just text", None)) == "just text"
    assert len(caption_text(msg("word " * 100, "x"), max_chars=50)) == 50


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


def _venv(folder: Path, version: tuple[int, int], windows: bool = False) -> Path:
    venv = folder / ".venv"
    lib = venv / "Lib" if windows else venv / "lib" / f"python{version[0]}.{version[1]}"
    site = lib / "site-packages"
    site.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text(f"home = /usr/bin\nversion = {version[0]}.{version[1]}.4\n")
    return site


def test_finds_a_venv_of_obs_python_version_next_to_the_script(tmp_path: Path) -> None:
    site = _venv(tmp_path, (3, 11))
    assert packages.venv_site_packages(tmp_path, (3, 11)) == [site]
    assert packages.venv_site_packages(tmp_path, (3, 12)) == []
    assert packages.mismatched_venvs(tmp_path, (3, 12))


def test_windows_venvs_are_matched_by_pyvenv_cfg(tmp_path: Path) -> None:
    site = _venv(tmp_path, (3, 10), windows=True)
    assert packages.venv_site_packages(tmp_path, (3, 10)) == [site]
    assert packages.venv_site_packages(tmp_path, (3, 11)) == []


def test_add_package_folders_puts_them_on_sys_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    site = _venv(tmp_path, (sys.version_info.major, sys.version_info.minor))
    extra = tmp_path / "extra"
    extra.mkdir()
    assert packages.add_package_folders(tmp_path, extra) == [site, extra]
    assert str(site) in sys.path and str(extra) in sys.path


def test_report_says_what_is_missing_and_how_to_install(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packages.importlib.util, "find_spec", lambda name: None)
    lines = packages.report(tmp_path)
    assert any("aiohttp" in line and "missing" in line for line in lines)
    assert "venv" in lines[-1] and "pip" in lines[-1] and "reload" in lines[-1]


@pytest.mark.parametrize(("header", "expected"), [
    (None, (0, 99)), ("bytes=0-", (0, 99)), ("bytes=10-19", (10, 19)), ("bytes=-10", (90, 99)),
    ("bytes=50-500", (50, 99)), ("bytes=x-", (0, 99)),
])
def test_byte_ranges(header: str | None, expected: tuple[int, int]) -> None:
    assert byte_range(header, 100) == expected


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
