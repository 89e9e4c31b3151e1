"""Exactly once when storage fails (issue 19): a message that ended while the journal
could not record it is never spoken again after a restart; a journal that refuses writes
at the start shows a degraded state and recovers by itself once it takes writes.

A real tmpfs as the data folder: filled to the last byte, or remounted read-only.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from doubles import EventLog, RecordingSink, ToneEngine, assert_accounting, wait_until
from journal_support import journal_config, journal_ids, paused_manager

from tts_core import StorageError
from tts_core.domain.message import MessagePriority, TTSMessage
from tts_core.listener import ListenerServer
from tts_core.storage.journal_store import JOURNAL_FILE, MessageStore


def _fill_up(disk: Path) -> None:
    """Fill ``disk`` to the last byte (a file per write, until the disk says it is full)."""
    n = 0
    while True:
        try:
            with open(disk / f"filler-{n}", "wb") as f:
                f.write(b"\0" * max(1, shutil.disk_usage(disk).free))
        except OSError:
            break
        n += 1
    for size in (4096, 512, 1):  # and every byte left in partly used pages
        try:
            while True:
                with open(disk / f"filler-{n}", "ab") as f:
                    f.write(b"\0" * size)
                n += 1
        except OSError:
            continue


def _free_up(disk: Path) -> None:
    for filler in disk.glob("filler-*"):
        filler.unlink()


def _remount(disk: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(disk)], check=True)


# -- ends that the journal cannot write ------------------------------------------------------------


def _ended_while_full(make_manager, disk: Path) -> dict[str, list[str]]:
    """A run that plays 5, rejects 5 and clears 10 messages while the disk is full."""
    log = EventLog()
    manager = paused_manager(make_manager, journal_config(disk), log)
    played = [manager.add_message(f"played {i}", "NORMAL") for i in range(5)]
    rejected = [manager.add_message(f"rejected {i}", "NORMAL", needs_approval=True) for i in range(5)]
    cleared = [manager.add_message(f"cleared {i}", "LOW", needs_approval=True) for i in range(10)]
    assert journal_ids(disk) == set(played + rejected + cleared)
    _fill_up(disk)
    for msg_id in rejected:
        assert manager.reject(msg_id)
    assert manager.get_stats()["journal_state"] == "refusing_writes", "the disk really refused the end"
    manager.resume()
    assert wait_until(lambda: manager.get_stats()["played"] == 5 and manager.get_stats()["in_flight"] == 0)
    assert manager.clear() == 10
    stats = assert_accounting(manager)
    assert stats["journal_state"] == "refusing_writes" and stats["journal_unwritten_ends"] == 20, stats
    assert "full" in stats["journal_error"] and str(disk / JOURNAL_FILE) in stats["journal_error"]
    with pytest.raises(StorageError):
        manager.add_message("refused while the ends cannot be written", "NORMAL")
    manager.stop()
    assert len(journal_ids(disk)) == 20, "the rows are still there: the disk is full"
    return {"played": played, "rejected": rejected, "cleared": cleared}


def test_ends_on_a_full_disk_are_not_replayed_after_a_restart(make_manager, small_disk, private_tmp):
    _ended_while_full(make_manager, small_disk)

    log = EventLog()
    restarted = paused_manager(make_manager, journal_config(small_disk), log)  # the disk is still full
    stats = assert_accounting(restarted)
    assert stats["accepted"] == 0 and restarted.get_queue() == [], "0 replays"
    assert stats["journal_state"] == "refusing_writes"

    _free_up(small_disk)
    assert wait_until(lambda: restarted.get_stats()["journal_state"] == "ok", 10), restarted.get_stats()
    restarted.events.flush()
    assert restarted.get_queue() == [] and log.named("queued") == [], "0 replays once writable"
    assert journal_ids(small_disk) == set(), "the ends were written once the disk had room"
    assert not list(private_tmp.glob("obs-tts-ended-*")), "the side record is gone"
    assert not (small_disk / f"{JOURNAL_FILE}-ended").exists()
    new = restarted.add_message("accepted again", "NORMAL")
    assert journal_ids(small_disk) == {new}
    restarted.resume()
    assert restarted.wait_until_idle(10)
    restarted.events.flush()
    assert [e["message_id"] for e in log.named("playback_finished")] == [new]
    assert journal_ids(small_disk) == set()


def test_ends_are_written_as_soon_as_the_disk_has_room(make_manager, small_disk, private_tmp):
    log = EventLog()
    manager = paused_manager(make_manager, journal_config(small_disk), log)
    ids = [manager.add_message(f"cleared {i}", "NORMAL") for i in range(10)]
    _fill_up(small_disk)
    assert manager.clear() == 10
    assert manager.get_stats()["journal_state"] == "refusing_writes"
    _free_up(small_disk)
    assert wait_until(lambda: manager.get_stats()["journal_state"] == "ok", 10), manager.get_stats()
    assert manager.get_stats()["journal_unwritten_ends"] == 0
    assert journal_ids(small_disk) == set(), "no restart needed"
    manager.stop()
    restarted = paused_manager(make_manager, journal_config(small_disk))
    assert restarted.get_queue() == [] and restarted.get_stats()["accepted"] == 0
    assert ids


# -- a read-only journal at the start ------------------------------------------------------------------


def _health(server: ListenerServer) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/health", timeout=5) as answer:
        return json.loads(answer.read())


def test_read_only_journal_at_start_is_degraded_then_recovers_by_itself(make_manager, small_disk,
                                                                        private_tmp):
    first = paused_manager(make_manager, journal_config(small_disk))
    kept = first.add_message("kept", "NORMAL")
    first.stop()
    _remount(small_disk, "ro")
    try:
        log = EventLog()
        manager = paused_manager(make_manager, journal_config(small_disk), log)
        assert manager.is_running, "degraded, not refused"
        stats = manager.get_stats()
        assert stats["journal_state"] == "refusing_writes" and str(small_disk) in stats["journal_error"]
        assert manager.get_queue() == [], "nothing is replayed from a journal that cannot record ends"
        with pytest.raises(StorageError) as info:
            manager.add_message("refused", "NORMAL")
        assert info.value.code == "storage_error" and JOURNAL_FILE in str(info.value)

        manager.config.listener.port = 0
        server = ListenerServer(manager)
        server.start()
        try:
            health = _health(server)
            assert health["status"] == "degraded" and health["journal_state"] == "refusing_writes", health
            assert JOURNAL_FILE in health["journal_error"]
        finally:
            server.stop()
    finally:
        _remount(small_disk, "rw")
    assert wait_until(lambda: manager.get_stats()["journal_state"] == "ok", 10), manager.get_stats()
    assert [m["message_id"] for m in manager.get_queue()] == [kept], "recovered once writable"
    new = manager.add_message("accepted and journaled", "NORMAL")
    assert journal_ids(small_disk) == {kept, new}
    manager.resume()
    assert manager.wait_until_idle(10)
    manager.events.flush()
    assert [e["message_id"] for e in log.named("playback_finished")] == [kept, new]
    assert journal_ids(small_disk) == set()
    assert_accounting(manager)


def test_ends_kept_through_a_read_only_restart_are_not_replayed(make_manager, small_disk, private_tmp):
    _ended_while_full(make_manager, small_disk)
    _free_up(small_disk)  # room again, but the disk turns read-only before the next start
    _remount(small_disk, "ro")
    try:
        restarted = paused_manager(make_manager, journal_config(small_disk))
        assert restarted.get_stats()["journal_state"] == "refusing_writes"
        assert restarted.get_queue() == []
    finally:
        _remount(small_disk, "rw")
    assert wait_until(lambda: restarted.get_stats()["journal_state"] == "ok", 10)
    assert restarted.get_queue() == [] and restarted.get_stats()["accepted"] == 0, "0 replays"
    assert journal_ids(small_disk) == set()


# -- latency across a restart ----------------------------------------------------------------------------


def test_a_recovered_message_waits_from_its_original_acceptance(make_manager, tmp_path):
    store = MessageStore(tmp_path / JOURNAL_FILE)
    store.add(TTSMessage(text="accepted an hour ago", priority=MessagePriority.NORMAL, seq=1,
                         created_at=time.time() - 3600))
    store.close()
    manager = make_manager(journal_config(tmp_path), engine=ToneEngine(2), sink=RecordingSink(speed=0))
    manager.start()
    assert manager.wait_until_idle(10)
    p50 = manager.get_stats()["latency_ms"]["p50"]
    assert 3600_000 <= p50 < 3700_000, p50


def test_doctor_says_the_journal_refuses_writes_and_why(small_disk, tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"tts_queue": {"persist": True, "data_dir": str(small_disk)}}))
    MessageStore(small_disk / JOURNAL_FILE).close()
    _remount(small_disk, "ro")
    try:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        done = subprocess.run([sys.executable, "-m", "tts_core.cli", "doctor", "--config", str(config)],
                              capture_output=True, text=True, timeout=120, env=env, check=False)
    finally:
        _remount(small_disk, "rw")
    (line,) = [line for line in done.stdout.splitlines() if line.strip().startswith("FAIL  journal:")]
    assert "refuses writes" in line and str(small_disk / JOURNAL_FILE) in line, line
    assert done.returncode == 1


# -- the same across a SIGKILL (a real process) ------------------------------------------------------

CHILD = Path(__file__).with_name("ended_child.py")


def _child(data: Path, tmp: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "TMPDIR": str(tmp)}
    return subprocess.Popen([sys.executable, str(CHILD), str(data), *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)


def _line(process: subprocess.Popen[str], prefix: str) -> str:
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith(prefix), f"expected {prefix!r}, got {line!r} (exit {process.poll()})"
    return line[len(prefix):].strip()


def _count(data: Path, tmp: Path) -> dict[str, Any]:
    process = _child(data, tmp, "count")
    try:
        return json.loads(_line(process, "stats "))
    finally:
        assert process.wait(30) == 0


@pytest.mark.parametrize("command", ["clear", "play"])
def test_ended_on_a_full_disk_then_sigkill_zero_replays(small_disk, tmp_path, command):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    process = _child(small_disk, tmp, "run", "12")
    try:
        assert len(json.loads(_line(process, "queued "))) == 12
        _fill_up(small_disk)
        assert process.stdin is not None
        process.stdin.write(f"{command}\n")
        process.stdin.flush()
        word = "cleared" if command == "clear" else "played"
        assert _line(process, word) == "12 refusing_writes", "the disk refused the ends"
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert len(journal_ids(small_disk)) == 12, "the rows outlived their messages (the disk was full)"

    for _run in range(2):  # two restarts on the full disk: 0 replays each time
        stats = _count(small_disk, tmp)
        assert stats["accepted"] == 0 and stats["pending"] == [], stats
    _free_up(small_disk)
    stats = _count(small_disk, tmp)
    assert stats == {"accepted": 0, "pending": [], "journal_state": "ok"}, "0 replays once writable"
    assert journal_ids(small_disk) == set()


def test_messages_queued_before_a_degraded_start_are_journaled_once_it_is_writable(make_manager, small_disk,
                                                                                   private_tmp):
    first = paused_manager(make_manager, journal_config(small_disk))
    old = first.add_message("from the earlier run", "NORMAL")
    first.stop()
    _remount(small_disk, "ro")
    try:
        manager = make_manager(journal_config(small_disk), engine=ToneEngine(2), sink=RecordingSink(speed=0))
        manager.pause()
        early = manager.add_message("queued before start", "NORMAL")
        manager.start()
        assert manager.get_stats()["journal_state"] == "refusing_writes"
        assert [m["message_id"] for m in manager.get_queue()] == [early]
    finally:
        _remount(small_disk, "rw")
    assert wait_until(lambda: manager.get_stats()["journal_state"] == "ok", 10), manager.get_stats()
    assert journal_ids(small_disk) == {old, early}
    assert [m["message_id"] for m in manager.get_queue()] == [old, early], "the earlier run's first"
    later = manager.add_message("after", "NORMAL")
    assert [m["message_id"] for m in manager.get_queue()] == [old, early, later]
    assert_accounting(manager)
