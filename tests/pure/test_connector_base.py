"""The connector base's pure parts: the bounded memory of event ids and the back-off."""

from __future__ import annotations

from tts_core.connectors.base import MAX_BACKOFF_SECONDS, RecentIds, backoff_seconds


def test_recent_ids_remember_the_newest_only_and_refresh_on_a_repeat():
    ids = RecentIds(limit=3)
    assert [ids.seen(i) for i in ("a", "b", "c")] == [False, False, False]
    assert ids.seen("a") is True  # "a" is now the newest
    assert ids.seen("d") is False  # "b", the oldest, is forgotten
    assert len(ids) == 3
    assert ids.seen("b") is False and ids.seen("a") is True


def test_the_back_off_grows_by_a_second_up_to_thirty():
    assert [backoff_seconds(n) for n in (0, 1, 2, 5)] == [1.0, 1.0, 2.0, 5.0]
    assert backoff_seconds(1000) == MAX_BACKOFF_SECONDS == 30.0
