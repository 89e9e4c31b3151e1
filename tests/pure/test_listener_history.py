"""GetHistory: the ring of how the last messages ended, and its request over the protocol."""

from __future__ import annotations

from listener_support import Served

from tts_core import TTSConfig, TTSQueueManager
from tts_core.domain.events import event_dict
from tts_core.listener.history import History
from tts_core.listener.protocol import ErrorCode, parse_frame


def ending(name: str, number: int, **extra: object) -> dict:
    return event_dict(name, f"m{number}", "NORMAL", f"text {number}", username=f"viewer{number}", **extra)


def test_keeps_only_endings_newest_first_and_bounded():
    history = History(TTSQueueManager(TTSConfig()), size=3)
    history.record(ending("queued", 0))
    history.record(ending("playback_started", 0))
    history.record(ending("playback_finished", 1))
    history.record(ending("rejected", 2, reason="blocked_user", stage="blocked_users"))
    history.record(ending("filtered", 3, stage="duplicates", reason="duplicate"))
    history.record(ending("dropped", 4, reason="user_banned"))
    assert [e["message_id"] for e in history.recent()] == ["m4", "m3", "m2"], "the oldest fell out"
    assert history.recent(1)[0]["reason"] == "user_banned"
    assert history.recent(0) == []
    history.recent()[0]["text"] = "changed"
    assert history.recent()[0]["text"] == "text 4", "callers get copies"


def test_get_history_request():
    assert parse_frame('{"request": "gethistory", "limit": "5"}').fields == {"limit": 5}
    served = Served(TTSQueueManager(TTSConfig()))
    served.dispatcher.history.record(ending("failed", 7, error="engine down", attempts=3))
    reply = served.reply({"request": "GetHistory", "id": "h"})
    assert reply["status"] == "ok" and reply["id"] == "h"
    shown = [(e["event"], e["message_id"], e["error"]) for e in reply["history"]]
    assert shown == [("failed", "m7", "engine down")]
    bad = served.reply({"request": "GetHistory", "limit": 0})
    assert bad["error"]["code"] == ErrorCode.INVALID_FIELD and "limit" in bad["error"]["message"]
