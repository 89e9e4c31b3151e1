"""Clip folders of processes that were killed are removed at the next start (issue 19),
and only those: our folder name (which names the owner), an owner that is gone (pid
reuse included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tts_core.storage.clip_files import ClipFiles, folder_prefix, process_start

ROOT = Path(__file__).resolve().parents[2]
CHILD = "from tts_core.storage.clip_files import ClipFiles; import sys, time; " \
        "print(ClipFiles().folder, flush=True); time.sleep(120)"


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
    started = process_start(os.getpid())
    kept = [private_tmp / "obs-tts-clips-abcdefgh",  # an older version's folder: owner unknown
            private_tmp / "obs-tts-clipsX999999999-x-abcdefgh",  # not our name
            private_tmp / f"{folder_prefix(os.getpid())}alive123",  # its owner runs (this process)
            private_tmp / "obs-tts-clips-999999999-x-Abcdefgh"]  # not mkdtemp's characters
    reused = private_tmp / f"obs-tts-clips-{os.getpid()}-1-reused12"  # this pid, another start time
    for folder in [*kept, reused]:
        folder.mkdir()
        (folder / "a.wav").write_bytes(b"RIFF")

    clips = ClipFiles()
    try:
        assert not killed.exists(), "the killed process's folder is removed"
        assert all(folder.exists() for folder in kept)
        assert reused.exists() == (started is None), "a reused pid is not the owner"
        assert clips.folder.name.startswith(folder_prefix(os.getpid()))
        assert [p.name for p in clips.folder.iterdir()] == [], "nothing but clips in the folder"
    finally:
        clips.cleanup()
    assert not clips.folder.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="no abandoned folders are removed on Windows")
def test_a_folder_kept_for_obs_survives_a_day_then_goes(private_tmp):
    """The OBS script writes back the clip OBS saved in its scene collection at exit (the
    queue had deleted it) and marks its folder: the next start keeps it, so OBS finds the
    file and shows no "Missing Files"; a day later it is removed like any other."""
    from tts_core.obs.script.media_source import SavedClipFile
    from tts_core.storage.clip_files import KEPT_FOR_OBS, kept_for_obs

    folder = _killed_owner_folder(private_tmp)
    saved = SavedClipFile(str(folder / "abc.wav"))
    for leftover in folder.iterdir():
        leftover.unlink()
    folder.rmdir()  # the queue removed its folder at stop
    saved.restore()
    assert (folder / "abc.wav").read_bytes() == b"RIFF" and kept_for_obs(folder)
    ClipFiles().cleanup()
    assert folder.exists(), "OBS's saved collection still points into it"
    day_old = (folder / KEPT_FOR_OBS).stat().st_mtime - 25 * 3600
    os.utime(folder / KEPT_FOR_OBS, (day_old, day_old))
    ClipFiles().cleanup()
    assert not folder.exists()
