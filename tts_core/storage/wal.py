"""Checks and repairs SQLite write-ahead logs (the journal's ``-wal`` file).

SQLite silently ignores a WAL from its first damaged frame on, so a flipped byte loses
every later commit without a word. ``damage(path)`` finds such a break followed by
more frames of the same log (a process crash never makes one: it can only leave an
incomplete last frame), and
``repaired(data)`` recomputes the salts and checksums so SQLite replays every frame
again; rows in damaged pages then fail one by one instead of all at once.

Format: https://www.sqlite.org/fileformat2.html#walformat (32-byte header; frames of
a 24-byte header plus one page; cumulative checksums over 32-bit word pairs).
"""

from __future__ import annotations

import struct
from pathlib import Path

MAGICS = (0x377F0682, 0x377F0683)  # checksums over little- / big-endian words
HEADER_SIZE = 32
FRAME_HEADER_SIZE = 24


def _checksum(data: bytes, big_endian: bool, s0: int = 0, s1: int = 0) -> tuple[int, int]:
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    mask = 0xFFFFFFFF
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & mask
        s1 = (s1 + words[i + 1] + s0) & mask
    return s0, s1


def _layout(data: bytes) -> tuple[int, bool, bytes, list[int]] | None:
    """(page size, big-endian checksums, header salt, frame offsets) or None if no WAL."""
    if len(data) < HEADER_SIZE:
        return None
    magic, _version, page_size = struct.unpack(">III", data[:12])
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        page_size = 0
    frame = FRAME_HEADER_SIZE + page_size
    offsets = list(range(HEADER_SIZE, len(data) - frame + 1, frame)) if page_size else []
    return page_size, magic == MAGICS[1], data[16:24], offsets


def damage(path: Path) -> str | None:
    """Why the WAL at ``path`` lost commits SQLite will not replay, or None if it did not."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    layout = _layout(data)
    if layout is None:
        return None
    page_size, big, salt, offsets = layout
    magic = struct.unpack(">I", data[:4])[0]
    stored = struct.unpack(">II", data[24:32])
    header_ok = magic in MAGICS and page_size and _checksum(data[:24], big) == stored
    if not header_ok:
        return "the write-ahead log header is damaged" if offsets or not page_size else None
    s0, s1 = _checksum(data[:24], big)
    frame = FRAME_HEADER_SIZE + page_size
    current = [i for i, off in enumerate(offsets) if data[off + 8 : off + 16] == salt]
    last_current = current[-1] if current else -1
    for n, off in enumerate(offsets[: last_current + 1]):
        header = data[off : off + FRAME_HEADER_SIZE]
        if header[8:16] != salt:
            return f"frame {n + 1} of the write-ahead log is damaged"
        s0, s1 = _checksum(header[:8] + data[off + FRAME_HEADER_SIZE : off + frame], big, s0, s1)
        if (s0, s1) != struct.unpack(">II", header[16:24]):
            if n == last_current:
                return None  # the last frame only: a write cut off by a crash, never committed
            return f"frame {n + 1} of the write-ahead log is damaged"
    return None


def repaired(data: bytes) -> bytes:
    """``data`` with the header and every current frame re-salted and re-checksummed."""
    layout = _layout(data)
    if layout is None or not layout[0]:
        return data
    page_size, _big, salt, offsets = layout
    big = struct.unpack(">I", data[:4])[0] == MAGICS[1]
    out = bytearray(data)
    out[0:4] = struct.pack(">I", MAGICS[1] if big else MAGICS[0])
    if not any(data[off + 8 : off + 16] == salt for off in offsets) and offsets:
        salt = data[offsets[0] + 8 : offsets[0] + 16]  # header salt damaged: trust the first frame
        out[16:24] = salt
    s0, s1 = _checksum(bytes(out[:24]), big)
    out[24:32] = struct.pack(">II", s0, s1)
    current = [i for i, off in enumerate(offsets) if data[off + 8 : off + 16] == salt]
    frame = FRAME_HEADER_SIZE + page_size
    for off in offsets[: (current[-1] + 1) if current else 0]:
        out[off + 8 : off + 16] = salt
        s0, s1 = _checksum(bytes(out[off : off + 8]) + bytes(out[off + FRAME_HEADER_SIZE : off + frame]), big,
                           s0, s1)
        out[off + 16 : off + 24] = struct.pack(">II", s0, s1)
    return bytes(out)
