"""Moderation through the listener over a real loopback socket: what a moderator,
a ban, a deleted line or the approval rules do to messages that are waiting, checked
against what the recording sink actually played (the text the engine was given)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from doubles import EventLog, assert_accounting, wait_until
from listener_support import Running, ask, listening, post

from tts_core import TTSConfig

HOLD = 60.0  # long enough that nothing held plays by the clock during a test


def config(**moderation: Any) -> TTSConfig:
    cfg = TTSConfig.from_dict({"tts_queue": {"rate_limit_per_minute": 0},
                               "streamer_bot": {"chat_command": ""},
                               "moderation": moderation,
                               "voices": {"aliases": {"brian": "en-gb"}, "users": {"vip": "en-us"},
                                          "events": {"raid": "de"}}})
    return cfg


@pytest.fixture
def running(make_manager):
    with listening(make_manager, config=config(
            needs_approval={"chat": {"first_time": True}, "donation": {"min_amount": 50}},
            bad_words=["scam", "dollars", "donated"], max_words=4)) as running:
        yield running


def chat(ws: Any, username: str, message: str, **extra: Any) -> dict[str, Any]:
    return ask(ws, {"type": "chat", "username": username, "message": message, **extra})


def played_texts(running: Running) -> list[str]:
    return [p.text for p in running.sink.played]


def wait_played(running: Running, text: str) -> None:
    assert wait_until(lambda: text in played_texts(running)), \
        f"{text!r} never played; played: {played_texts(running)}"


def test_a_held_message_rejected_by_a_moderator_never_plays_and_an_approved_one_plays(running):
    with running.ws() as ws:
        held = chat(ws, "newbie", "hello first time", first_time=True)
        approved = chat(ws, "other", "me too first", first_time=True)
        queue = ask(ws, {"request": "GetQueue"})["queue"]
        shown = {m["message_id"]: m for m in queue}
        assert shown[held["message_id"]]["state"] == "held"
        assert shown[held["message_id"]]["hold_reason"] == "first-time chatter"
        assert shown[held["message_id"]]["needs_approval"] is True
        rejected = ask(ws, {"request": "Reject", "message_id": held["message_id"]})
        assert rejected["rejected"] == held["message_id"]
        assert ask(ws, {"request": "Approve", "message_id": approved["message_id"]})["status"] == "ok"
        wait_played(running, "other says: me too first")
        assert ask(ws, {"type": "chat", "username": "regular", "message": "after them"})["status"] == "ok"
        wait_played(running, "regular says: after them")
    assert "newbie says: hello first time" not in played_texts(running)
    assert running.manager.wait_until_idle(10)
    assert assert_accounting(running.manager)["rejected"] == 1


def test_messages_of_a_user_banned_while_they_wait_never_play(running):
    log = EventLog()
    running.manager.subscribe(log)
    with running.ws() as ws:
        waiting = [chat(ws, "Troll", f"spam line {n}", user_id=666, hold_seconds=HOLD)["message_id"]
                   for n in range(3)]
        keep = chat(ws, "nice", "stays", hold_seconds=HOLD)
        banned = ask(ws, {"type": "user_banned", "user_id": "666", "id": "ban"})
        assert banned["status"] == "ok" and sorted(banned["removed"]) == sorted(waiting)
        for msg_id in waiting:
            assert log.wait_for("dropped", msg_id)["reason"] == "user_banned"
        again = chat(ws, "troll", "I am back")
        assert (again["status"], again["stage"], again["reason"]) == (
            "rejected", "blocked_users", "blocked_user")
        assert [m["message_id"] for m in ask(ws, {"request": "GetQueue"})["queue"]] == [keep["message_id"]]
        assert ask(ws, {"request": "Approve", "message_id": keep["message_id"]})["status"] == "ok"
        chat(ws, "nice", "plays now")
        wait_played(running, "nice says: plays now")
    assert not [t for t in played_texts(running) if t.startswith("Troll")]
    assert_accounting(running.manager)


def test_a_deleted_chat_line_never_plays(running):
    with running.ws() as ws:
        doomed = chat(ws, "a", "oops wrong chat", chat_message_id="m-1", hold_seconds=HOLD)
        other = chat(ws, "a", "this one stays", chat_message_id="m-2", hold_seconds=0.2)
        deleted = ask(ws, {"type": "chat_deleted", "chat_message_id": "m-1"})
        assert deleted["removed"] == [doomed["message_id"]]
        assert ask(ws, {"type": "chat_deleted", "chat_message_id": "m-1"})["removed"] == []
        wait_played(running, "a says: this one stays")
        assert other["status"] == "ok"
    assert "a says: oops wrong chat" not in played_texts(running)


def test_a_moderator_removes_a_users_lines_and_a_ban_skips_the_clip_playing_now(make_manager):
    with listening(make_manager, config=config(), duration_ms=20_000, sink_speed=1.0) as running, \
            running.ws() as ws:
        playing = chat(ws, "loud", "a very long clip")["message_id"]
        assert wait_until(lambda: running.manager.now_playing is not None)
        later = chat(ws, "loud", "and more")["message_id"]
        removed = ask(ws, {"request": "Remove", "username": "LOUD", "skip_playing": False})
        assert removed["removed"] == [later] and removed["skipped"] is None
        timeout = ask(ws, {"type": "user_timeout", "username": "loud", "duration_seconds": 600})
        assert timeout["skipped"] == playing
        assert wait_until(lambda: running.sink.played)
        assert running.sink.played[0].skipped
        assert ask(ws, {"request": "Remove", "id": 4})["error"]["code"] == "missing_field"


def test_template_words_are_never_filtered_and_filtered_replies_tell_the_truth(running):
    with running.ws() as ws:
        donation = ask(ws, {"type": "donation", "donor_name": "John_Doe", "amount": 25,
                            "message": "what a scam stream dollars yes indeed"})
        assert donation["status"] == "ok"
        wait_played(running, "John Doe donated 25 dollars: what a bleep stream")
        bot = ask(ws, {"type": "chat", "username": "Nightbot", "message": "Follow the rules", "id": "n"})
        assert bot == {"id": "n", "status": "filtered", "stage": "bots", "reason": "ignored_user",
                       "detail": "Nightbot is on the ignored list"}
    status, body = post(running.http, {"type": "chat", "username": "v", "message": "!so someone"})
    assert status == 200 and (body["status"], body["stage"], body["reason"]) == (
        "filtered", "command_lines", "command")


def test_voices_per_user_per_event_and_inline_aliases(running):
    log = EventLog()
    running.manager.subscribe(log)
    with running.ws() as ws:
        inline = ask(ws, {"type": "chat", "username": "a", "message": "brian: hello there"})
        unknown = ask(ws, {"type": "chat", "username": "b", "message": "bob: hello there"})
        vip = ask(ws, {"type": "chat", "username": "VIP", "message": "my own voice"})
        raid = ask(ws, {"type": "raid", "username": "friend", "viewers": 3})
    assert inline["voice"] == "en-gb" and log.wait_for("queued", inline["message_id"])["voice"] == "en-gb"
    started = log.wait_for("playback_started", inline["message_id"])
    assert started["voice"] == "en-gb" and started["text"] == "a says: hello there"
    assert "voice" not in unknown and log.wait_for("queued", unknown["message_id"])["text"] == \
        "b says: bob: hello there"
    assert log.wait_for("queued", vip["message_id"])["voice"] == "en-us"
    assert log.wait_for("playback_finished", raid["message_id"])["voice"] == "de"


def test_filtered_and_rejected_events_reach_subscribers_with_the_stage(running):
    with running.ws() as watcher, running.ws() as sender:
        ask(watcher, {"request": "Subscribe", "events": ["filtered", "rejected"]})
        ask(sender, {"type": "chat", "username": "streamelements", "message": "hi"})
        ask(sender, {"type": "chat", "username": "x", "message": "Kappa"})
        seen = [json.loads(watcher.recv(timeout=5)) for _ in range(2)]
    assert [(e["event"], e["stage"]) for e in seen] == [("filtered", "bots"), ("rejected", "nothing_left")]
