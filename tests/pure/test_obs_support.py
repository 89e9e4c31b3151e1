"""Small parts of the OBS integration: pump, captions, log handler, packages, clip server."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tts_core.domain.message import MessagePriority, TTSMessage
from tts_core.obs.captions import caption_text
from tts_core.obs.remote.clipserver import byte_range
from tts_core.obs.script import packages
from tts_core.obs.script.pump import Pump


def test_pump_runs_jobs_in_order_after_the_tick_hooks() -> None:
    pump, seen = Pump(), []
    pump.on_tick(lambda: seen.append("tick"))
    for n in range(3):
        pump.post(lambda n=n: seen.append(n))
    assert pump.run() == 3
    assert seen == ["tick", 0, 1, 2]


def test_a_failing_job_does_not_stop_the_frame(caplog: pytest.LogCaptureFixture) -> None:
    # A generous budget: logging the traceback can outlast the per-frame budget on a busy machine.
    pump, seen = Pump(budget_ms=1000), []
    pump.post(lambda: 1 / 0)
    pump.post(lambda: seen.append("after"))
    pump.run()
    assert seen == ["after"] and "OBS job" in caplog.text


def test_caption_names_the_speaker_once_and_is_bounded() -> None:
    def msg(text: str, user: str | None) -> TTSMessage:
        return TTSMessage(text, MessagePriority.NORMAL, 1, username=user)

    assert caption_text(msg("Great stream!", "@JohnDoe")) == "JohnDoe: Great stream!"
    assert caption_text(msg("JohnDoe donated 5 dollars", "JohnDoe")) == "JohnDoe donated 5 dollars"
    assert caption_text(msg("just text", None)) == "just text"
    assert len(caption_text(msg("word " * 100, "x"), max_chars=50)) == 50


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


