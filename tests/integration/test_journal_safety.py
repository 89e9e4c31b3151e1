"""The journal is safe (issue 8): recovery obeys capacity, start() is all-or-nothing, a
damaged journal is moved aside with every readable row recovered, and a full or
read-only disk gives clients a clear error while every accepted message stays counted.

Real SQLite files throughout; the disk-full and read-only cases use a real tmpfs.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
import struct
from pathlib import Path

import pytest
from doubles import EventLog, RecordingSink, ToneEngine, assert_accounting
from journal_support import journal_config, journal_ids, paused_manager
from listener_support import ask

from tts_core import StorageError, TTSQueueManager
from tts_core.domain.message import MessagePriority, TTSMessage
from tts_core.listener import ListenerServer
from tts_core.storage.journal_store import JOURNAL_FILE, MessageStore

# -- capacity ------------------------------------------------------------------------------


def test_lowering_the_queue_size_never_prevents_start(make_manager, tmp_path):
    first = paused_manager(make_manager, journal_config(tmp_path, max_queue_size=20))
    ids = [first.add_message(f"urgent {i}", "URGENT") for i in range(6)]
    ids += [first.add_message(f"low {i}", "LOW") for i in range(2)]
    first.stop()

    log = EventLog()
    # used to raise QueueFull:
    second = paused_manager(make_manager, journal_config(tmp_path, max_queue_size=3), log)
    assert second.is_running
    kept = [m["message_id"] for m in second.get_queue()]
    assert kept == ids[:3], "the oldest of the highest priority are kept"
    dropped = log.named("dropped")
    assert sorted(e["message_id"] for e in dropped) == sorted(ids[3:])
    assert all(e["reason"] == "queue_full" and e["recovered"] for e in dropped)
    stats = assert_accounting(second)
    assert stats["pending"] == 3 and stats["dropped"] == 5
    second.stop()
    assert journal_ids(tmp_path) == set(kept), "evicted messages left the journal"

    third = paused_manager(make_manager, journal_config(tmp_path, max_queue_size=20))
    assert [m["message_id"] for m in third.get_queue()] == kept, "nothing evicted comes back"


# -- all or nothing --------------------------------------------------------------------------


def test_failed_start_closes_everything_and_a_later_start_works(make_manager, tmp_path, private_tmp):
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("a file where the data folder should be")
    manager = make_manager(journal_config(not_a_folder), engine=ToneEngine(2), sink=RecordingSink(speed=0))
    with pytest.raises(StorageError, match="journal folder") as info:
        manager.start()
    assert info.value.code == "storage_error" and str(not_a_folder) in str(info.value)
    assert not manager.is_running and manager.get_stats()["active_workers"] == 0
    assert list(private_tmp.iterdir()) == [], "the clip folder of the failed start is gone"

    manager.config.data_dir = str(tmp_path / "good")
    manager.start()
    msg = manager.add_message("after the failed start", "NORMAL")
    assert manager.wait_until_idle(10)
    assert manager.get_stats()["played"] == 1 and msg


# -- damaged journals --------------------------------------------------------------------------


def _damage_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "was damaged" in r.getMessage()]


def _start_on(make_manager, data_dir: Path, caplog) -> TTSQueueManager:
    caplog.set_level(logging.INFO)
    manager = paused_manager(make_manager, journal_config(data_dir))
    assert manager.is_running
    assert not any(r.exc_info for r in caplog.records), "no traceback"
    return manager


def _asides(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.iterdir()
                  if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm")))


def test_garbage_journal_is_moved_aside(make_manager, tmp_path, caplog):
    (tmp_path / JOURNAL_FILE).write_bytes(b"this is not a database at all " * 100)
    manager = _start_on(make_manager, tmp_path, caplog)
    (aside,) = _asides(tmp_path)
    assert aside.read_bytes().startswith(b"this is not a database")
    (line,) = _damage_lines(caplog)
    text = line.getMessage()
    assert "recovered 0 message(s)" in text and str(aside) in text and "lost" in text
    msg = manager.add_message("the fresh journal works", "NORMAL")
    assert journal_ids(tmp_path) == {msg}


def _journal_with(data_dir: Path, count: int) -> list[str]:
    store = MessageStore(data_dir / JOURNAL_FILE)
    ids = []
    for i in range(count):
        msg = TTSMessage(text=f"message {i}", priority=MessagePriority.NORMAL, seq=i + 1)
        store.add(msg)
        ids.append(msg.id)
    store.close()
    return ids


def test_one_bad_row_loses_only_that_row(make_manager, tmp_path, caplog):
    ids = _journal_with(tmp_path, 5)
    db = sqlite3.connect(str(tmp_path / JOURNAL_FILE))
    db.execute("UPDATE messages SET priority=9 WHERE id=?", (ids[2],))
    db.commit()
    db.close()
    manager = _start_on(make_manager, tmp_path, caplog)
    assert [m["message_id"] for m in manager.get_queue()] == ids[:2] + ids[3:]
    (line,) = _damage_lines(caplog)
    assert "recovered 4 message(s), lost 1" in line.getMessage()
    assert len(_asides(tmp_path)) == 1
    assert_accounting(manager)


def test_wrong_schema_is_moved_aside_and_its_rows_recovered(make_manager, tmp_path, caplog):
    ids = _journal_with(tmp_path, 3)
    db = sqlite3.connect(str(tmp_path / JOURNAL_FILE))
    db.execute("ALTER TABLE messages ADD COLUMN mood TEXT")
    db.commit()
    db.close()
    manager = _start_on(make_manager, tmp_path, caplog)
    assert [m["message_id"] for m in manager.get_queue()] == ids
    (line,) = _damage_lines(caplog)
    assert "wrong columns" in line.getMessage() and "recovered 3 message(s), lost 0" in line.getMessage()


def test_foreign_database_is_moved_aside(make_manager, tmp_path, caplog):
    db = sqlite3.connect(str(tmp_path / JOURNAL_FILE))
    db.execute("CREATE TABLE notes (body TEXT)")
    db.commit()
    db.close()
    _start_on(make_manager, tmp_path, caplog)
    (line,) = _damage_lines(caplog)
    assert "not a TTS journal" in line.getMessage()


def _crashed_journal(source: Path, target: Path, count: int) -> list[str]:
    """The journal files as a process killed with SIGKILL leaves them: WAL not checkpointed."""
    store = MessageStore(source / JOURNAL_FILE)
    ids = []
    for i in range(count):
        msg = TTSMessage(text=f"message {i}", priority=MessagePriority.NORMAL, seq=i + 1)
        store.add(msg)
        ids.append(msg.id)
    target.mkdir()
    for suffix in ("", "-wal"):
        shutil.copyfile(source / f"{JOURNAL_FILE}{suffix}", target / f"{JOURNAL_FILE}{suffix}")
    store.close()
    return ids


def test_crashed_journal_recovers_everything_without_a_damage_line(make_manager, tmp_path, caplog):
    ids = _crashed_journal(tmp_path / "live", tmp_path / "crashed", 10)
    manager = _start_on(make_manager, tmp_path / "crashed", caplog)
    assert [m["message_id"] for m in manager.get_queue()] == ids
    assert _damage_lines(caplog) == []


def test_damaged_wal_is_detected_and_every_row_recovered(make_manager, tmp_path, caplog):
    ids = _crashed_journal(tmp_path / "live", tmp_path / "crashed", 10)
    wal_file = tmp_path / "crashed" / f"{JOURNAL_FILE}-wal"
    data = bytearray(wal_file.read_bytes())
    page_size = struct.unpack(">I", data[8:12])[0]
    second_frame = 32 + 24 + page_size
    data[second_frame + 16] ^= 0xFF  # a flipped bit in frame 2: SQLite ignores the rest of the WAL
    wal_file.write_bytes(bytes(data))
    manager = _start_on(make_manager, tmp_path / "crashed", caplog)
    assert [m["message_id"] for m in manager.get_queue()] == ids, "every message came back"
    (line,) = _damage_lines(caplog)
    assert "write-ahead log" in line.getMessage() and "recovered 10 message(s), lost 0" in line.getMessage()
    assert len(_asides(tmp_path / "crashed")) == 1


# -- full and read-only disks (a real tmpfs) ----------------------------------------------------


def _fill(disk: Path, leave_bytes: int) -> None:
    free = shutil.disk_usage(disk).free
    (disk / "filler").write_bytes(b"\0" * max(0, free - leave_bytes))


def test_full_disk_refuses_new_messages_clearly_and_loses_none(make_manager, small_disk):
    log = EventLog()
    manager = paused_manager(make_manager, journal_config(small_disk), log)
    _fill(small_disk, 48 * 1024)
    accepted, error = [], None
    for i in range(2000):
        try:
            accepted.append(manager.add_message(f"message {i} " + "x" * 200, "NORMAL"))
        except StorageError as exc:
            error = exc
            break
    assert error is not None and accepted, "the disk filled up"
    assert error.code == "storage_full" and str(small_disk / JOURNAL_FILE) in str(error)
    stats = assert_accounting(manager)
    assert stats["accepted"] == len(accepted) == stats["pending"]

    server = ListenerServer(manager)
    manager.config.listener.port = 0
    server.start()
    try:
        from websockets.sync.client import connect

        with connect(server.url, open_timeout=5) as ws:
            reply = ask(ws, {"type": "tts", "text": "one more", "id": 7})
        assert reply["status"] == "error" and reply["error"]["code"] == "storage_full", reply
        assert JOURNAL_FILE in reply["error"]["message"]
    finally:
        server.stop()

    manager.resume()  # the accepted ones still play although the journal cannot record it
    assert manager.wait_until_idle(60)
    stats = assert_accounting(manager)
    assert stats["played"] == len(accepted) and stats["failed"] == 0


def test_frames_journaled_together_on_a_full_disk_are_answered_truly(make_manager, small_disk):
    """The listener journals the frames that arrive together with one commit. When the
    disk fills up during such a batch, every frame still gets a true answer: ok means
    journaled and queued, storage_full means not queued (and counted as dropped)."""
    log = EventLog()
    manager = paused_manager(make_manager, journal_config(small_disk), log)
    _fill(small_disk, 40 * 1024)
    manager.config.listener.port = 0
    manager.config.listener.max_messages_per_second = 0
    server = ListenerServer(manager)
    server.start()
    try:
        from websockets.sync.client import connect

        frames = [json.dumps({"type": "tts", "text": f"burst {i} " + "y" * 900, "id": i}) for i in range(120)]
        with connect(server.url, open_timeout=5) as ws:
            for frame in frames:  # all sent before the first answer is read: they arrive together
                ws.send(frame)
            replies = {}
            while len(replies) < len(frames):
                reply = json.loads(ws.recv(timeout=30))
                if "status" in reply:
                    replies[reply["id"]] = reply
    finally:
        server.stop()
    ok = {r["message_id"] for r in replies.values() if r["status"] == "ok"}
    refused = [r for r in replies.values() if r["status"] == "error"]
    assert ok and refused, "the disk filled up during the burst"
    assert all(r["error"]["code"] == "storage_full" for r in refused)
    assert all(JOURNAL_FILE in r["error"]["message"] for r in refused)
    assert {m["message_id"] for m in manager.get_queue()} == ok  # nothing refused is queued
    assert journal_ids(small_disk) == ok  # and everything queued is journaled
    stats = assert_accounting(manager)
    assert stats["pending"] == len(ok)
    assert manager.events.flush()
    dropped = log.named("dropped")
    assert all(e["reason"] == "storage_full" for e in dropped)
    assert len(dropped) == stats["dropped"]


def test_a_failed_commit_lists_exactly_the_messages_not_written(small_disk):
    store = MessageStore(small_disk / JOURNAL_FILE)
    try:
        _fill(small_disk, 24 * 1024)
        messages = [TTSMessage(text=f"together {i} " + "z" * 900, priority=MessagePriority.NORMAL, seq=i + 1)
                    for i in range(60)]
        with store.together() as unwritten:
            for msg in messages:
                store.add(msg)  # buffered in the transaction: the commit is what fails
        assert unwritten.error is not None and unwritten.error.code == "storage_full"
        assert 0 < len(unwritten.messages) < len(messages)
        written = {m.id for m in messages} - {m.id for m in unwritten.messages}
        assert journal_ids(small_disk) == written
        assert unwritten.messages == messages[-len(unwritten.messages):]  # the first ones got in, in order
    finally:
        store.close()


# A read-only journal at the start: tests/integration/test_storage_failures.py (degraded, then recovers).


def test_an_end_written_in_a_failed_commit_is_kept_and_never_replayed(small_disk):
    """A message that ended inside a ``together`` block whose commit fails: its end is
    kept (written later or in the side record), so a restart does not speak it again."""
    path = small_disk / JOURNAL_FILE
    store = MessageStore(path)
    ended = TTSMessage(text="cleared by a moderator", priority=MessagePriority.NORMAL, seq=1)
    store.add(ended)
    _fill(small_disk, 24 * 1024)
    burst = [TTSMessage(text=f"burst {i} " + "z" * 900, priority=MessagePriority.NORMAL, seq=i + 2)
             for i in range(60)]
    with store.together() as unwritten:
        for msg in burst:
            store.add(msg)
        store.remove(ended.id)
    assert unwritten.error is not None, "the commit failed on the full disk"
    store.close()
    (small_disk / "filler").unlink()
    reopened = MessageStore(path)
    try:
        recovered = {m.id for m in reopened.recover()}
    finally:
        reopened.close()
    assert ended.id not in recovered
    assert recovered == {m.id for m in burst} - {m.id for m in unwritten.messages}
