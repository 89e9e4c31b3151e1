"""The wire protocol without sockets: parsing, validation, dispatch and reply shapes."""

from __future__ import annotations

import pytest
from listener_support import Served

from tts_core import TTSConfig, TTSQueueManager
from tts_core.listener.protocol import (
    EVENT_SCHEMAS,
    REQUEST_SCHEMAS,
    ErrorCode,
    ProtocolError,
    http_status,
    parse_frame,
)

EVENTS = {
    "donation": {"donor_name": "JohnDoe", "amount": 25.0, "message": "Great stream!"},
    "subscription": {"username": "LoyalViewer", "months": 12, "tier": "1000", "message": "A year!"},
    "follow": {"username": "NewFollower"},
    "raid": {"username": "FriendlyStreamer", "viewers": 42},
    "cheer": {"username": "BitsFan", "bits": 500, "message": "Take my bits"},
    "chat": {"username": "chatter", "message": "!tts hello chat", "is_mod": False,
             "badges": ["subscriber/3"]},
    "tts": {"text": "Direct text", "priority": "HIGH", "voice": "en-us"},
    "gift_sub": {"username": "Gifter", "recipient": "LuckyViewer", "tier": "1000"},
    "gift_bomb": {"username": "GenerousViewer", "count": 5},
    "redemption": {"username": "PointsSpender", "reward": "Read my message", "message": "hello points"},
}


@pytest.fixture
def served() -> Served:
    return Served(TTSQueueManager(TTSConfig(max_queue_size=100)))


def test_every_event_type_is_covered_by_these_tests():
    assert set(EVENTS) == set(EVENT_SCHEMAS)


@pytest.mark.parametrize("event_type", EVENTS)
def test_each_event_type_is_queued_with_its_id_echoed(served, event_type):
    answer = served.reply({"type": event_type, "id": f"e-{event_type}", **EVENTS[event_type]})
    assert answer["status"] == "ok" and answer["id"] == f"e-{event_type}"
    assert served.manager.get_message(answer["message_id"]) is not None


def test_seed_donation_text_and_priority(served):
    seed = {"type": "donation", "donor_name": "JohnDoe", "amount": 25.0, "message": "Great stream!"}
    answer = served.reply(seed)
    msg = served.manager.get_message(answer["message_id"])
    assert msg["text"] == "JohnDoe donated 25 dollars: Great stream!" and msg["priority"] == "HIGH"
    assert answer["id"] is None  # no id sent: the reply still has the key, null


def test_chat_without_the_command_is_filtered_not_an_error(served):
    answer = served.reply({"type": "chat", "username": "lurker", "message": "just chatting", "id": 7})
    assert answer == {"id": 7, "status": "filtered", "stage": "chat_command", "reason": "not_a_command",
                      "detail": "not a command"}


def test_unknown_fields_are_reported_not_refused(served):
    answer = served.reply({"type": "follow", "username": "a", "platform": "twitch", "id": 1})
    assert answer["status"] == "ok" and answer["ignored_fields"] == ["platform"]


def test_quoted_numbers_and_booleans_from_bot_templates_are_accepted(served):
    answer = served.reply({"type": "chat", "username": "mod", "message": "!tts hi", "is_mod": "True"})
    assert answer["status"] == "ok"
    answer = served.reply({"type": "donation", "username": "x", "amount": "12.50"})  # username alias
    msg = served.manager.get_message(answer["message_id"])
    assert msg["text"] == "x donated 12 dollars and 50 cents"


@pytest.mark.parametrize(("frame", "code"), [
    ("not json", ErrorCode.BAD_JSON),
    ('{"type": "tts", "text": NaN}', ErrorCode.BAD_JSON),
    ("[" * 100_00, ErrorCode.BAD_JSON),
    ("[1, 2]", ErrorCode.INVALID_FRAME),
    ('{"id": 1}', ErrorCode.INVALID_FRAME),
    ('{"type": "tts", "request": "Skip"}', ErrorCode.INVALID_FRAME),
    ('{"type": "nope", "id": 1}', ErrorCode.UNKNOWN_TYPE),
    ('{"type": 5}', ErrorCode.INVALID_FIELD),
    ('{"request": "Explode"}', ErrorCode.UNKNOWN_REQUEST),
    ('{"type": "donation", "amount": 5}', ErrorCode.MISSING_FIELD),
    ('{"type": "donation", "donor_name": "a", "amount": "lots"}', ErrorCode.INVALID_FIELD),
    ('{"type": "donation", "donor_name": "a", "amount": -1}', ErrorCode.INVALID_FIELD),
    ('{"type": "donation", "donor_name": "a", "amount": 1e999}', ErrorCode.INVALID_FIELD),
    ('{"type": "cheer", "username": "a", "bits": 0}', ErrorCode.INVALID_FIELD),
    ('{"type": "chat", "username": "a", "message": "!tts x", "is_mod": 3}', ErrorCode.INVALID_FIELD),
    ('{"type": "tts", "text": "  "}', ErrorCode.INVALID_FIELD),
    ('{"type": "tts", "text": "x", "priority": "LOUD"}', ErrorCode.INVALID_FIELD),
    ('{"type": "follow", "username": "a", "id": {"x": 1}}', ErrorCode.INVALID_FIELD),
    ('{"request": "Approve"}', ErrorCode.MISSING_FIELD),
    ('{"request": "Subscribe", "events": ["everything"]}', ErrorCode.INVALID_FIELD),
])
def test_bad_frames_get_their_specific_error_code(served, frame, code):
    answer = served.reply(frame)
    assert answer["status"] == "error" and answer["error"]["code"] == code, answer
    assert answer["error"]["message"]


def test_error_replies_echo_the_id_when_it_could_be_read(served):
    assert served.reply('{"type": "nope", "id": "abc"}')["id"] == "abc"
    assert served.reply("{broken")["id"] is None


def test_request_names_are_case_insensitive(served):
    assert served.reply({"request": "getstats", "id": 1})["status"] == "ok"
    assert parse_frame('{"request": "SKIP"}').name == "Skip"


def test_every_request_has_a_schema_and_a_handler(served):
    transport_level = {"Subscribe", "Unsubscribe", "Authenticate"}
    for name in REQUEST_SCHEMAS:
        assert name in transport_level or name in served.dispatcher.requests, name


def test_requests_drive_the_manager(served):
    manager = served.manager
    first = served.reply({"request": "Speak", "message": "hello", "voice": "en", "badWordFilter": True})
    assert first["status"] == "ok" and manager.get_message(first["message_id"])["voice"] == "en"
    assert served.reply({"request": "Pause"})["paused"] is True and manager.paused
    assert served.reply({"request": "Resume"})["paused"] is False and not manager.paused
    assert served.reply({"request": "Disable"})["enabled"] is False and not manager.enabled
    assert served.reply({"request": "Enable"})["enabled"] is True and manager.enabled
    assert served.reply({"request": "Stop"}) == {"id": None, "status": "ok", "skipped": None}
    queue = served.reply({"request": "GetQueue", "limit": 10})
    assert [m["message_id"] for m in queue["queue"]] == [first["message_id"]] and queue["pending"] == 1
    assert served.reply({"request": "GetStats"})["stats"]["accepted"] == 1
    assert served.reply({"request": "Clear"})["cleared"] == 1


def test_moderation_requests_on_held_messages(served):
    manager = served.manager
    held = served.reply({"type": "tts", "text": "needs a mod", "needs_approval": True})["message_id"]
    assert manager.get_message(held)["state"] == "held"
    assert served.reply({"request": "Approve", "message_id": held})["approved"] == held
    other = served.reply({"type": "tts", "text": "bad one", "needs_approval": True})["message_id"]
    assert served.reply({"request": "Reject", "message_id": other})["rejected"] == other
    missing = served.reply({"request": "Remove", "message_id": "nope", "id": 3})
    assert missing["error"]["code"] == ErrorCode.NOT_FOUND and missing["id"] == 3


def test_replay_without_a_played_clip_is_not_found(served):
    answer = served.reply({"request": "Replay", "id": "r"})
    assert answer["error"]["code"] == ErrorCode.NOT_FOUND


def test_queue_full_has_its_own_code():
    manager = TTSQueueManager(TTSConfig(max_queue_size=2))
    served = Served(manager)
    for i in range(2):
        assert served.reply({"type": "tts", "text": f"one {i}", "priority": "URGENT"})["status"] == "ok"
    answer = served.reply({"type": "tts", "text": "three", "priority": "URGENT", "id": 9})
    assert answer["error"]["code"] == ErrorCode.QUEUE_FULL and http_status(answer) == 503


def test_parse_frame_raises_protocol_error_with_the_id():
    with pytest.raises(ProtocolError) as caught:
        parse_frame('{"type": "raid", "id": "x7"}')
    assert caught.value.code == ErrorCode.MISSING_FIELD and caught.value.frame_id == "x7"


@pytest.mark.parametrize(("event_type", "spoken"), [
    ("gift_sub", "Gifter gifted a sub to LuckyViewer"),
    ("gift_bomb", "GenerousViewer gifted 5 subs"),
    ("redemption", "PointsSpender says: hello points"),
])
def test_the_connectors_event_types_are_open_to_bots_too(served, event_type, spoken):
    reply = served.reply({"type": event_type, **EVENTS[event_type], "id": 1})
    assert reply["status"] == "ok" and reply["text"] == spoken, reply
