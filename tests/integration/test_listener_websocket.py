"""The listener over real WebSocket connections on loopback: every event and request,
every error on a live connection, token, Origin, frame limits, push, and stopping."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from doubles import wait_until
from listener_support import ask, listening, start_listener
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tts_core import TTSConfig
from tts_core.listener.protocol import ErrorCode
from tts_core.listener.session import MAX_ERROR_STREAK

EVENTS = [
    {"type": "donation", "donor_name": "JohnDoe", "amount": 25.0, "message": "Great stream!"},
    {"type": "subscription", "username": "LoyalViewer", "months": 12, "tier": "1000", "message": "A year"},
    {"type": "subscription", "username": "lucky", "gift": True, "gifter": "santa"},
    {"type": "follow", "username": "NewFollower"},
    {"type": "raid", "username": "FriendlyStreamer", "viewers": 42},
    {"type": "cheer", "username": "BitsFan", "bits": 500, "message": "Take my bits"},
    {"type": "chat", "username": "chatter", "message": "!tts hello chat", "is_mod": False,
     "is_subscriber": True, "badges": ["subscriber/3"]},
    {"type": "tts", "text": "Direct text", "priority": "HIGH", "voice": "en-us"},
]


@pytest.fixture
def running(make_manager):
    with listening(make_manager) as running:
        yield running


def test_every_event_type_is_queued_and_played(running):
    with running.ws() as ws:
        ids = []
        for n, event in enumerate(EVENTS):
            reply = ask(ws, {**event, "id": n})
            assert reply["status"] == "ok" and reply["id"] == n, reply
            ids.append(reply["message_id"])
    assert running.manager.wait_until_idle(10)
    assert sorted(running.sink.ids()) == sorted(ids)
    texts = {p.text for p in running.sink.played}
    assert "JohnDoe donated 25 dollars: Great stream!" in texts
    assert "chatter says: hello chat" in texts


def test_an_accepted_event_reply_says_what_will_be_spoken(running):
    with running.ws() as ws:
        reply = ask(ws, {"type": "donation", "donor_name": "JohnDoe", "amount": 25.0,
                         "message": "Great stream!", "id": 1})
    assert reply == {"id": 1, "status": "ok", "message_id": reply["message_id"], "priority": "HIGH",
                     "state": "queued", "text": "JohnDoe donated 25 dollars: Great stream!"}


def test_a_held_event_reply_says_held_and_why(make_manager):
    config = TTSConfig.from_dict({"tts_queue": {"rate_limit_per_minute": 0},
                                  "moderation": {"needs_approval": {"donation": {"min_amount": 50}}}})
    with listening(make_manager, config=config) as running, running.ws() as ws:
        big = ask(ws, {"type": "donation", "donor_name": "Ann", "amount": 75, "message": "hi"})
        assert (big["state"], big["hold_reason"]) == ("held", "donation of 75 (approval from 50)")
        asked = ask(ws, {"type": "tts", "text": "check me", "needs_approval": True, "priority": "LOW"})
        assert (asked["state"], asked["hold_reason"], asked["priority"]) == (
            "held", "needs_approval requested", "LOW")
        later = ask(ws, {"type": "tts", "text": "in a minute", "hold_seconds": 60})
        assert (later["state"], later["hold_reason"], later["text"]) == ("held", "hold window", "in a minute")
        small = ask(ws, {"type": "donation", "donor_name": "Bob", "amount": 5})
        assert small["state"] == "queued" and "hold_reason" not in small


def test_the_reply_carries_the_final_text_after_template_moderation_and_clean_up(make_manager):
    config = TTSConfig.from_dict({
        "tts_queue": {"rate_limit_per_minute": 0, "max_text_length": 40},
        "streamer_bot": {"templates": {"donation": "{amount} from {username}: {message}"}},
        "moderation": {"bad_words": ["scam"]},
    })
    with listening(make_manager, config=config) as running, running.ws() as ws:
        running.manager.pause()  # the messages stay queued: the reply shows the manager's own text
        reply = ask(ws, {"type": "donation", "donor_name": "Ann", "amount": 5, "message": "this is a scam"})
        assert reply["text"] == "5 dollars from Ann: this is a bleep"
        long = ask(ws, {"type": "tts", "text": "one two three four five six seven eight nine ten eleven"})
        assert long["text"] == running.manager.get_message(long["message_id"])["text"]
        assert len(long["text"]) <= 40 and long["text"].startswith("one two three")
        speak = ask(ws, {"request": "Speak", "message": "a scam", "priority": "URGENT"})
        assert (speak["priority"], speak["state"], speak["text"]) == ("URGENT", "queued", "a bleep")
        assert ask(ws, {"request": "Disable"})["enabled"] is False
        refused = ask(ws, {"type": "tts", "text": "while disabled"})
        assert refused["status"] == "ok" and refused["state"] == "rejected"


def test_every_request_over_one_connection(make_manager):
    with listening(make_manager, duration_ms=400, sink_speed=1.0) as running, running.ws() as ws:
        manager = running.manager
        first = ask(ws, {"request": "Speak", "message": "first", "id": "s1"})["message_id"]
        second = ask(ws, {"request": "Speak", "message": "second", "voice": "en"})["message_id"]
        assert wait_until(lambda: manager.now_playing is not None)
        assert ask(ws, {"request": "Pause", "id": 1}) == {"id": 1, "status": "ok", "paused": True}
        queue = ask(ws, {"request": "GetQueue", "id": 2})
        assert queue["now_playing"]["message_id"] == first and queue["queue"][0]["message_id"] == second
        assert ask(ws, {"request": "Stop", "id": 3})["skipped"] == first
        assert wait_until(lambda: manager.now_playing is None)  # the player ends the cut clip
        assert ask(ws, {"request": "Skip"})["skipped"] is None  # paused: nothing playing now
        assert ask(ws, {"request": "Resume"})["paused"] is False
        # idle includes the recorded end: the played clip is kept for replay by then
        assert manager.wait_until_idle(5) and manager.get_stats()["played"] == 2
        replay = ask(ws, {"request": "Replay", "message_id": second, "id": 4})
        assert replay["status"] == "ok" and replay["message_id"] != second
        held = ask(ws, {"type": "tts", "text": "needs a mod", "needs_approval": True})["message_id"]
        assert ask(ws, {"request": "Approve", "message_id": held})["approved"] == held
        held2 = ask(ws, {"type": "tts", "text": "refused", "needs_approval": True})["message_id"]
        assert ask(ws, {"request": "Reject", "message_id": held2})["rejected"] == held2
        ask(ws, {"request": "Pause"})
        pending = ask(ws, {"request": "Speak", "message": "to remove"})["message_id"]
        assert ask(ws, {"request": "Remove", "message_id": pending})["removed"] == pending
        ask(ws, {"type": "tts", "text": "to clear"})
        assert ask(ws, {"request": "Clear"})["cleared"] >= 1
        assert ask(ws, {"request": "Disable"})["enabled"] is False
        assert ask(ws, {"type": "tts", "text": "while disabled"})["status"] == "ok"  # accepted, rejected
        assert ask(ws, {"request": "Enable"})["enabled"] is True
        ask(ws, {"request": "Resume"})
        stats = ask(ws, {"request": "GetStats", "id": "st"})["stats"]
        assert stats["accepted"] == (stats["played"] + stats["failed"] + stats["dropped"] + stats["rejected"]
                                     + stats["pending"] + stats["in_flight"])
        assert stats["rejected"] >= 2 and stats["skipped"] == 1


def test_bad_frames_get_errors_and_the_connection_keeps_working(make_manager):
    with listening(make_manager, max_frame_bytes=4096) as running, running.ws() as ws:
        cases = [
            ('{"type": "wedding", "id": 1}', ErrorCode.UNKNOWN_TYPE),
            ("{not json", ErrorCode.BAD_JSON),
            ('{"type": "cheer", "username": "a", "bits": "lots", "id": 2}', ErrorCode.INVALID_FIELD),
            ('{"type": "raid", "id": 3}', ErrorCode.MISSING_FIELD),
            ('{"request": "Dance", "id": 4}', ErrorCode.UNKNOWN_REQUEST),
            (b'{"request": "GetStats"}', ErrorCode.BINARY_FRAME),
            (json.dumps({"type": "tts", "text": "x" * 5000, "id": 5}), ErrorCode.FRAME_TOO_LARGE),
            ('{"request": "Approve", "message_id": "nope", "id": 6}', ErrorCode.NOT_FOUND),
        ]
        for frame, code in cases:
            reply = ask(ws, frame)
            assert reply["status"] == "error" and reply["error"]["code"] == code, (frame, reply)
            assert ask(ws, {"request": "GetStats", "id": "alive"})["status"] == "ok"


def test_a_frame_far_beyond_the_limit_closes_with_1009_and_others_are_unaffected(make_manager):
    with listening(make_manager, max_frame_bytes=1024) as running, running.ws() as bystander:
        with running.ws() as ws:
            ws.send("x" * 10_000)
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        assert ask(bystander, {"type": "follow", "username": "still here"})["status"] == "ok"


def test_token_in_header_query_or_first_message(make_manager):
    with listening(make_manager, token="s3cret") as running:
        with running.ws() as ws:
            refused = ask(ws, {"type": "follow", "username": "a", "id": 1})
            assert refused["error"]["code"] == ErrorCode.UNAUTHORIZED and refused["id"] == 1
            assert ask(ws, {"request": "Authenticate", "token": "s3cret"})["authenticated"] is True
            assert ask(ws, {"type": "follow", "username": "a"})["status"] == "ok"
        with running.ws("/?token=s3cret") as ws:
            assert ask(ws, {"request": "GetStats"})["status"] == "ok"
        with running.ws(additional_headers={"Authorization": "Bearer s3cret"}) as ws:
            assert ask(ws, {"request": "GetStats"})["status"] == "ok"
        for bad in ({"additional_headers": {"Authorization": "Bearer nope"}}, {"path": "/?token=nope"}):
            with pytest.raises(InvalidStatus) as refused_handshake:
                running.ws(**bad)
            assert refused_handshake.value.response.status_code == 401
            body = json.loads(refused_handshake.value.response.body)
            assert body["error"]["code"] == ErrorCode.UNAUTHORIZED


def test_a_client_that_never_authenticates_is_disconnected(make_manager):
    with listening(make_manager, token="s3cret") as running, running.ws() as ws:
        with pytest.raises(ConnectionClosed):
            for _ in range(20):
                ask(ws, {"request": "GetStats"})
        assert ws.close_code == 1008


def test_browser_origins_are_refused_unless_allowed(make_manager):
    with listening(make_manager, allowed_origins=["http://localhost:3000"]) as running:
        with pytest.raises(InvalidStatus) as refused:
            running.ws(origin="https://evil.example")
        assert refused.value.response.status_code == 403
        assert json.loads(refused.value.response.body)["error"]["code"] == ErrorCode.FORBIDDEN_ORIGIN
        with running.ws(origin="http://localhost:3000") as ws:
            assert ask(ws, {"request": "GetStats"})["status"] == "ok"
    assert running.manager.get_stats()["accepted"] == 0


def test_subscribe_pushes_the_core_events_with_durations(running):
    with running.ws() as watcher, running.ws() as sender:
        assert ask(watcher, {"request": "Subscribe", "id": "sub"})["subscribed"][0] == "queued"
        msg_id = ask(sender, {"type": "tts", "text": "watch me"})["message_id"]
        bad = ask(sender, {"type": "tts", "text": "Kappa"})["message_id"]  # nothing left: rejected
        seen: dict[str, dict] = {}
        deadline = time.monotonic() + 5
        while ("playback_finished" not in seen or "rejected" not in seen) and time.monotonic() < deadline:
            event = json.loads(watcher.recv(timeout=5))
            seen.setdefault(event["event"], event)
        assert seen["queued"]["message_id"] == msg_id
        assert seen["playback_started"]["duration_ms"] == 5
        finished = seen["playback_finished"]
        assert finished["message_id"] == msg_id and "duration_ms" in finished
        assert seen["rejected"]["message_id"] == bad and seen["rejected"]["reason"] == "filtered"
        assert ask(watcher, {"request": "Unsubscribe"})["subscribed"] == []


def test_subscribe_to_some_events_only(running):
    with running.ws() as ws:
        ask(ws, {"request": "Subscribe", "events": ["playback_finished"]})
        msg_id = ask(ws, {"type": "tts", "text": "only the end"})["message_id"]
        event = json.loads(ws.recv(timeout=5))
        assert event["event"] == "playback_finished" and event["message_id"] == msg_id


def test_a_garbage_flood_disconnects_that_client_only(running):
    with running.ws() as good, running.ws() as flood:
        for _ in range(MAX_ERROR_STREAK + 5):
            try:
                flood.send("garbage")
            except ConnectionClosed:
                break
        with pytest.raises(ConnectionClosed):
            while True:
                flood.recv(timeout=5)
        assert flood.close_code == 1008
        assert ask(good, {"type": "follow", "username": "unbothered"})["status"] == "ok"
    assert running.manager.wait_until_idle(5)


def test_the_rate_limit_answers_rate_limited(make_manager):
    with listening(make_manager, max_messages_per_second=5) as running, running.ws() as ws:
        codes = [ask(ws, {"request": "GetStats"}).get("error", {}).get("code") for _ in range(8)]
        assert codes.count(ErrorCode.RATE_LIMITED) >= 2 and codes[0] is None


def test_stop_closes_clients_and_the_port_within_one_second(make_manager):
    running = start_listener(make_manager)
    with running.ws() as ws:
        ask(ws, {"request": "Subscribe"})
        idle = socket.create_connection(("127.0.0.1", running.server.port))  # never sends a byte
        half = socket.create_connection(("127.0.0.1", running.server.port), timeout=5)
        half.sendall(b"POST /event HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        assert half.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"  # both accepted, this body is awaited
        half.sendall(b"{")  # and never ends
        started = time.monotonic()
        running.server.stop()
        assert time.monotonic() - started < 1.0
        assert not running.server.is_running
        assert not any(t.name == "tts-listener" and t.is_alive() for t in threading.enumerate())
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=2)
    for sock in (idle, half):
        sock.settimeout(2)
        assert sock.recv(100) == b""
        sock.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", running.server.port), timeout=1)


def test_stop_then_start_again_like_an_obs_script_reload(make_manager):
    running = start_listener(make_manager)
    running.server.stop()
    running.server.start()
    try:
        with running.ws() as ws:
            assert ask(ws, {"request": "GetStats"})["status"] == "ok"
    finally:
        running.server.stop()


def test_a_taken_port_raises_at_start(make_manager):
    with listening(make_manager) as running:
        from tts_core.listener import ListenerServer

        running.manager.config.listener.port = running.server.port
        with pytest.raises(OSError):
            ListenerServer(running.manager).start()


