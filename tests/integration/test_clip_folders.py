"""Clip folders of processes that were killed are removed at the next start (issue 19),
and only those: our folder name, our marker, an owner that is gone (pid reuse included)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tts_core.storage.clip_files import OWNER_FILE, ClipFiles, process_start

ROOT = Path(__file__).resolve().parents[2]
CHILD = "from tts_core.storage.clip_files import ClipFiles; import sys, time; " \
        "print(ClipFiles().folder, flush=True); time.sleep(120)"


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _killed_owner_folder(tmp: Path) -> Path:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(tmp)}
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None
        folder = Path(child.stdout.readline().strip())
        (folder / "abc.wav").write_bytes(b"RIFF")
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    assert folder.parent == tmp and folder.is_dir()
    return folder


@pytest.mark.skipif(sys.platform == "win32", reason="no abandoned folders are removed on Windows")
def test_folders_of_killed_processes_are_removed_and_nothing_else(private_tmp):
    killed = _killed_owner_folder(private_tmp)
    no_marker = private_tmp / "obs-tts-clips-nomarker"
    no_marker.mkdir()
    other_name = private_tmp / "obs-tts-clipsXabcdefgh"
    other_name.mkdir()
    (other_name / OWNER_FILE).write_text(json.dumps({"pid": 999_999_999}))
    alive = private_tmp / "obs-tts-clips-alive123"
    alive.mkdir()
    (alive / OWNER_FILE).write_text(json.dumps({"pid": os.getpid(), "started": process_start(os.getpid())}))
    reused = private_tmp / "obs-tts-clips-reused12"
    reused.mkdir()
    (reused / OWNER_FILE).write_text(json.dumps({"pid": os.getpid(), "started": "1"}))  # another start time

    clips = ClipFiles()
    try:
        assert not killed.exists(), "the killed process's folder is removed"
        assert no_marker.exists() and other_name.exists() and alive.exists()
        assert not reused.exists() or process_start(os.getpid()) is None, "a reused pid is not the owner"
        assert json.loads((clips.folder / OWNER_FILE).read_text())["pid"] == os.getpid()
    finally:
        clips.cleanup()
    assert not clips.folder.exists()
