"""A ban on a queue whose events are delivered: messages dropped, counted, the viewer blocked."""

from __future__ import annotations

from doubles import EventLog, assert_accounting
from removal_support import build, chat


def test_a_ban_drops_that_viewers_messages_counts_them_and_blocks_them():
    manager, bot = build()
    log = EventLog()
    manager.subscribe(log)
    manager.events.start()
    try:
        theirs = [chat(bot, "Troll", f"line {n}") for n in range(2)]
        other = chat(bot, "fine", "stays")
        result = bot.remove("user_banned", {"username": "@troll"})
        assert sorted(result["removed"]) == sorted(theirs) and result["skipped"] is None
        assert [m["message_id"] for m in manager.get_queue()] == [other]
        assert log.wait_for("dropped", theirs[0])["reason"] == "user_banned"
        refused = bot.submit("chat", {"username": "TROLL", "message": "again"})
        assert (refused.status, refused.stage) == ("rejected", "blocked_users")
        stats = assert_accounting(manager)
        assert (stats["dropped"], stats["rejected"], stats["pending"]) == (2, 1, 1)
    finally:
        manager.events.stop()

