"""Clip cache on disk: identical (engine, voice, rate, volume, text) is synthesized once.

Repeated alert phrases ("X just followed") come from here instead of the engine.
One file per clip, named by the SHA-256 of its key; the file starts with the key
itself (one JSON line), which is compared on every hit, so a clip is never used for
a text that differs. Word timings the engine reported (Azure, Edge) follow the key as a
second JSON line ``{"words": [[text, start_ms, end_ms], ...]}``, so a cached clip keeps
them; audio never starts with ``{``, and a file without that line has none (older
caches). Bounded in size: least recently used clips are deleted first (last use = the
file's modification time, so the order survives restarts). Writes are
atomic (temporary file + rename); several threads may use one cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from pathlib import Path

from tts_core.domain.words import SpokenWord, TimedAudio, words_of

log = logging.getLogger(__name__)

SUFFIX = ".clip"
WORDS_LINE = b'{"words":'
CACHE_FOLDER = "clip-cache"


def cache_key(engine: str, voice: str | None, rate: int | None, volume: float | None, text: str) -> bytes:
    """The exact identity of a clip, as the one JSON line stored in front of it."""
    return json.dumps([engine, voice, rate, volume, text], ensure_ascii=False).encode() + b"\n"


class ClipCache:
    """Parameters: ``folder`` (created if missing), ``max_mb`` (size bound of all clips)."""

    def __init__(self, folder: str | os.PathLike[str], max_mb: float = 200.0) -> None:
        self.folder = Path(folder)
        self.max_bytes = int(max_mb * 1024 * 1024)
        self._lock = threading.Lock()
        self._index: OrderedDict[str, int] = OrderedDict()  # digest -> size, oldest use first
        self._total = 0
        self.hits = 0
        self.misses = 0
        self.folder.mkdir(parents=True, exist_ok=True)
        self._load_index()

    def _load_index(self) -> None:
        entries = []
        for path in self.folder.glob(f"*{SUFFIX}"):
            try:
                st = path.stat()
            except OSError:
                continue
            entries.append((st.st_mtime, path.name[: -len(SUFFIX)], st.st_size))
        for _, digest, size in sorted(entries):
            self._index[digest] = size
            self._total += size
        self._evict()

    def _path(self, digest: str) -> Path:
        return self.folder / f"{digest}{SUFFIX}"

    @property
    def size_bytes(self) -> int:
        return self._total

    def __len__(self) -> int:
        return len(self._index)

    def get(self, engine: str, voice: str | None, rate: int | None, volume: float | None,
            text: str) -> bytes | None:
        """The cached clip for exactly this key, or None."""
        key = cache_key(engine, voice, rate, volume, text)
        digest = hashlib.sha256(key).hexdigest()
        with self._lock:
            if digest not in self._index:
                self.misses += 1
                return None
            self._index.move_to_end(digest)
        path = self._path(digest)
        try:
            with open(path, "rb") as f:
                stored = f.read()
        except OSError:
            self._forget(digest)
            self.misses += 1
            return None
        if not stored.startswith(key) or len(stored) == len(key):
            self._forget(digest)  # a different key with the same hash, or a torn file
            self.misses += 1
            return None
        try:
            now = time.time()
            os.utime(path, (now, now))  # last use, for the LRU order after a restart
        except OSError:
            pass
        self.hits += 1
        return _with_words(stored[len(key):])

    def put(self, engine: str, voice: str | None, rate: int | None, volume: float | None,
            text: str, data: bytes) -> None:
        """Store a clip; evicts the least recently used clips beyond ``max_mb``."""
        key = cache_key(engine, voice, rate, volume, text)
        digest = hashlib.sha256(key).hexdigest()
        words = words_of(data)
        timings = b""
        if words:
            timings = json.dumps({"words": [[w.text, w.start_ms, w.end_ms] for w in words]},
                                 ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        size = len(key) + len(timings) + len(data)
        if size > self.max_bytes:
            return
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(key)
                f.write(timings)
                f.write(data)
            os.replace(tmp, self._path(digest))
        except OSError as exc:
            log.warning("clip cache: cannot write to %s: %s", self.folder, exc)
            return
        with self._lock:
            self._total -= self._index.pop(digest, 0)
            self._index[digest] = size
            self._total += size
            self._evict()

    def _forget(self, digest: str) -> None:
        with self._lock:
            self._total -= self._index.pop(digest, 0)
        with contextlib.suppress(OSError):
            self._path(digest).unlink()

    def _evict(self) -> None:
        """Drop the least recently used clips until the total fits (lock held)."""
        while self._total > self.max_bytes and self._index:
            digest, size = self._index.popitem(last=False)
            self._total -= size
            with contextlib.suppress(OSError):
                self._path(digest).unlink()


def _with_words(stored: bytes) -> bytes:
    """The clip after its key: with its word timings when they were stored."""
    if not stored.startswith(WORDS_LINE):
        return stored
    line, _, audio = stored.partition(b"\n")
    try:
        words = [SpokenWord(str(t), int(a), int(b)) for t, a, b in json.loads(line)["words"]]
    except (ValueError, TypeError, KeyError):
        return audio  # unreadable timings: the captions estimate them
    return TimedAudio(audio, words)
