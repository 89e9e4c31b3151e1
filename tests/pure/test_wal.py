"""tts_core.storage.wal on real SQLite write-ahead logs: a break in the middle is damage, a torn
last frame (what a crash leaves) is not, and a repaired log verifies again."""

from __future__ import annotations

import shutil
import sqlite3
import struct
from pathlib import Path

from tts_core.storage import wal


def _crashed_wal(tmp_path: Path, rows: int = 12) -> Path:
    live = tmp_path / "live.sqlite3"
    db = sqlite3.connect(str(live), isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (x TEXT)")
    for i in range(rows):
        db.execute("INSERT INTO t VALUES (?)", (f"row {i}",))
    copy = tmp_path / "copy-wal"
    shutil.copyfile(f"{live}-wal", copy)  # as a SIGKILLed process leaves it
    db.close()
    return copy


def _frames(data: bytes) -> list[int]:
    page_size = struct.unpack(">I", data[8:12])[0]
    return list(range(32, len(data) - (24 + page_size) + 1, 24 + page_size))


def test_intact_log_has_no_damage(tmp_path):
    assert wal.damage(_crashed_wal(tmp_path)) is None
    assert wal.damage(tmp_path / "missing-wal") is None


def test_a_flipped_byte_in_the_middle_is_damage_and_repair_fixes_the_chain(tmp_path):
    path = _crashed_wal(tmp_path)
    data = bytearray(path.read_bytes())
    frames = _frames(bytes(data))
    data[frames[2] + 24 + 100] ^= 0x01  # page content of frame 3
    path.write_bytes(bytes(data))
    assert wal.damage(path) == "frame 3 of the write-ahead log is damaged"
    path.write_bytes(wal.repaired(bytes(data)))
    assert wal.damage(path) is None


def test_a_torn_last_frame_is_not_damage(tmp_path):
    path = _crashed_wal(tmp_path)
    data = bytearray(path.read_bytes())
    data[_frames(bytes(data))[-1] + 24 + 7] ^= 0xFF
    path.write_bytes(bytes(data))
    assert wal.damage(path) is None


def test_a_damaged_header_is_damage(tmp_path):
    path = _crashed_wal(tmp_path)
    data = bytearray(path.read_bytes())
    data[20] ^= 0xFF  # salt 2
    path.write_bytes(bytes(data))
    assert wal.damage(path) is not None
    path.write_bytes(wal.repaired(bytes(data)))
    assert wal.damage(path) is None
