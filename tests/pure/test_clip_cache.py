"""The on-disk clip cache: exact keys only, LRU by size, survives restarts."""

from __future__ import annotations

import os
import time

from tts_core.engines.cache import ClipCache

KEY = ("gtts|tld=com", "en", None, None)


def test_hit_only_for_the_identical_key(tmp_path):
    cache = ClipCache(tmp_path, max_mb=1)
    cache.put(*KEY, "NewFollower just followed!", b"ID3clip-1")
    assert cache.get(*KEY, "NewFollower just followed!") == b"ID3clip-1"
    assert cache.get(*KEY, "NewFollower just followed?") is None
    assert cache.get(*KEY, "newfollower just followed!") is None
    assert cache.get("gtts|tld=co.uk", "en", None, None, "NewFollower just followed!") is None
    assert cache.get("gtts|tld=com", "de", None, None, "NewFollower just followed!") is None
    assert cache.get("gtts|tld=com", "en", 200, None, "NewFollower just followed!") is None
    assert cache.get("gtts|tld=com", "en", None, 0.5, "NewFollower just followed!") is None
    assert (cache.hits, cache.misses) == (1, 6)


def test_survives_a_restart_and_never_serves_a_file_of_another_key(tmp_path):
    ClipCache(tmp_path).put(*KEY, "hello", b"clip-hello")
    again = ClipCache(tmp_path)
    assert again.get(*KEY, "hello") == b"clip-hello"
    # a file that holds another key under this key's name (a collision, a copied file) is not used
    (clip,) = tmp_path.glob("*.clip")
    clip.write_bytes(clip.read_bytes().replace(b'"hello"', b'"hellO"'))
    assert ClipCache(tmp_path).get(*KEY, "hello") is None


def test_bounded_by_size_least_recently_used_go_first(tmp_path):
    cache = ClipCache(tmp_path, max_mb=0.01)  # ~10 KB
    for i in range(4):
        cache.put(*KEY, f"text {i}", bytes(2000))
    assert cache.get(*KEY, "text 0") is not None  # 0 is now the most recently used
    for i in range(4, 7):
        cache.put(*KEY, f"text {i}", bytes(2000))
    assert cache.size_bytes <= 10 * 1024 * 1.024
    kept = {i for i in range(7) if cache.get(*KEY, f"text {i}") is not None}
    assert 0 in kept and 1 not in kept and {5, 6} <= kept
    assert len(list(tmp_path.glob("*.clip"))) == len(cache)


def test_lru_order_after_restart_follows_last_use(tmp_path):
    cache = ClipCache(tmp_path, max_mb=0.01)
    for i in range(3):
        cache.put(*KEY, f"text {i}", bytes(3000))
    for clip in tmp_path.glob("*.clip"):
        i = int(clip.read_bytes().split(b"\n", 1)[0].decode().rsplit(" ", 1)[1].rstrip('"]'))
        old = time.time() - 100 + i  # written in the order 0, 1, 2
        os.utime(clip, (old, old))
    cache.get(*KEY, "text 0")  # used last
    restarted = ClipCache(tmp_path, max_mb=0.01)
    restarted.put(*KEY, "text 3", bytes(3000))
    assert restarted.get(*KEY, "text 0") is not None and restarted.get(*KEY, "text 3") is not None
    assert restarted.get(*KEY, "text 1") is None  # the least recently used one went
