"""Removal without sockets: what bans, time-outs, deleted lines and Remove do to the
queue, the accounting, and what the viewer sends next."""

from __future__ import annotations

import pytest
from removal_support import build, chat

from tts_core import TTSConfig, TTSQueueManager
from tts_core.ingest.moderation import Memory, Stopped, Words, build_pipeline
from tts_core.ingest.moderation.removal import Removal, emote_spans


def test_a_time_out_blocks_for_its_own_duration_and_a_ban_for_ban_block_seconds():
    now = [1000.0]
    config = TTSConfig.from_dict({"moderation": {"ban_block_seconds": 600}})
    memory = Memory()
    # Removal and the gates share the memory of blocks, and the test's clock.
    removal = Removal(TTSQueueManager(config), config.moderation, memory, clock=lambda: now[0])
    gates = build_pipeline(config.moderation, config.streamer_bot, memory)

    def refused() -> bool:
        try:
            gates.run(Words("hi", "chat", username="x", user_id="42", now=now[0]))
        except Stopped as stop:
            assert (stop.stage, stop.reason) == ("blocked_users", "blocked_user")
            return True
        return False

    removal.handle("user_timeout", {"user_id": "42", "duration_seconds": 10})
    assert refused()
    now[0] += 11
    assert not refused()
    removal.handle("user_banned", {"user_id": 42})
    now[0] += 599
    assert refused()
    now[0] += 2
    assert not refused()


def test_switches_for_deleted_lines_and_bans():
    manager, bot = build(remove_on_delete=False, remove_on_ban=False)
    msg_id = chat(bot, "a", "kept", chat_message_id="c1")
    assert bot.remove("chat_deleted", {"chat_message_id": "c1"}) == {
        "removed": [], "skipped": None, "off": "remove_on_delete"}
    assert bot.remove("user_banned", {"username": "a"})["off"] == "remove_on_ban"
    assert [m["message_id"] for m in manager.get_queue()] == [msg_id]
    assert bot.submit("chat", {"username": "a", "message": "blocked anyway"}).status == "rejected"


def test_remove_needs_something_to_match_and_a_known_kind():
    _, bot = build()
    with pytest.raises(ValueError, match="say what to remove"):
        bot.remove("remove", {})
    with pytest.raises(ValueError, match="unknown removal"):
        bot.remove("nuke", {"username": "a"})


def test_direct_python_messages_are_only_removed_by_their_own_id():
    manager, bot = build()
    direct = manager.add_message("from the streamer's own script", username="troll")
    assert bot.remove("chat_deleted", {"chat_message_id": "x"})["removed"] == []
    assert bot.remove("remove", {"message_id": direct})["removed"] == [direct]


@pytest.mark.parametrize(("sent", "spans"), [
    ("25:0-4,12-16/1902:6-10", [(0, 5), (12, 17), (6, 11)]),
    ([{"start": 0, "end": 4}, {"startIndex": 6, "endIndex": 8}], [(0, 5), (6, 9)]),
    ([[3, 3]], [(3, 4)]),
    (None, []),
])
def test_emote_positions_in_the_platforms_shapes(sent, spans):
    assert emote_spans(sent) == spans


@pytest.mark.parametrize("sent", ["25:4-1", [{"start": "a", "end": 2}], [[1]], 7, "1:-1-3"])
def test_bad_emote_positions_are_field_errors(sent):
    with pytest.raises(ValueError, match="emotes"):
        emote_spans(sent)
