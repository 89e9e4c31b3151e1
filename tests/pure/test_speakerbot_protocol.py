"""Speaker.bot's wire format without sockets: requests, wrapped replies, UDP datagrams,
the TextToSpeech events made from the queue's events, and the settings' checks."""

from __future__ import annotations

import json

import pytest

from tts_core.config import ConfigError
from tts_core.config.speakerbot import SpeakerbotSettings
from tts_core.connectors.speakerbot.protocol import (
    REQUESTS,
    Request,
    RequestError,
    TextToSpeechEvents,
    choice,
    encode,
    error_reply,
    info_result,
    ok_reply,
    parse_datagram,
    parse_request,
    speak_fields,
    speak_result,
)

LIMIT = 1024


def test_request_names_are_matched_without_regard_to_case_and_older_names_are_taken():
    assert parse_request('{"request": "speak", "id": "1", "message": "hi"}', LIMIT).name == "Speak"
    assert parse_request('{"request": "Unsubscribe", "id": "2"}', LIMIT).name == "UnSubscribe"
    assert parse_request('{"request": "On", "id": 3}', LIMIT).name == "Enable"
    assert parse_request(b'{"request": "off"}', LIMIT).name == "Disable"
    unknown = parse_request('{"request": "Frobnicate", "id": "u"}', LIMIT)
    assert (unknown.name, unknown.known, unknown.id) == ("Frobnicate", False, "u")


@pytest.mark.parametrize("frame, words", [
    ("{oops", "not JSON"),
    ("[1, 2]", "JSON object"),
    ('{"id": "1"}', '"request"'),
    ('{"request": 5}', '"request"'),
    (json.dumps({"request": "Speak", "message": "x" * LIMIT}), "too large"),
])
def test_a_bad_frame_is_a_request_error_that_names_the_problem(frame, words):
    with pytest.raises(RequestError) as error:
        parse_request(frame, LIMIT)
    assert words in error.value.message


def test_the_id_of_a_request_without_a_name_is_kept_for_the_reply():
    with pytest.raises(RequestError) as error:
        parse_request('{"id": "keep-me"}', LIMIT)
    assert error.value.request_id == "keep-me"


def test_replies_are_wrapped_as_speaker_bot_does():
    assert ok_reply("a") == {"id": "a", "status": "ok", "result": {}}
    assert ok_reply("b", {"speechId": "m1"}) == {"id": "b", "status": "ok", "result": {"speechId": "m1"}}
    assert error_reply("c", "no") == {"id": "c", "status": "error", "error": "no"}
    assert json.loads(encode(ok_reply("é", {"text": "héllo"}))) == ok_reply("é", {"text": "héllo"})
    info = info_result("instance")
    assert info == {"instanceId": "instance", "name": "Speaker.bot", "version": "0.1.4", "os": "windows",
                    "apiVersion": 2}
    spoken = speak_result("m1", "hello", None)
    assert spoken == {"speechId": "m1", "text": "hello", "voiceName": "", "pitch": 1.0, "volume": 1.0,
                      "rate": 0.0}
    assert {"Speak", "GetInfo", "Commands", "Subscribe", "UnSubscribe"} <= set(REQUESTS)


def test_speak_fields_defaults_and_errors():
    fields = speak_fields(parse_request('{"request": "Speak", "voice": " Brian ", "message": "hi"}', LIMIT))
    assert (fields.message, fields.alias) == ("hi", "Brian")
    assert (fields.bad_word_filter, fields.silent) == (True, False)
    flags = speak_fields(Request("Speak", 1, {"message": "hi", "voice": "", "badWordFilter": False,
                                              "silent": True}))
    assert (flags.alias, flags.bad_word_filter, flags.silent) == (None, False, True)
    for body, words in (({}, '"message"'), ({"message": "  "}, '"message"'),
                        ({"message": "hi", "voice": 3}, '"voice"'),
                        ({"message": "hi", "badWordFilter": "no"}, '"badWordFilter"')):
        with pytest.raises(RequestError) as error:
            speak_fields(Request("Speak", 9, body))
        assert words in error.value.message and error.value.request_id == 9


def test_choice_takes_any_case_and_names_what_is_expected():
    assert choice(Request("Events", 1, {"state": "OFF"}), "state", ("on", "off")) == "off"
    with pytest.raises(RequestError, match='"mode": "all" or "command"'):
        choice(Request("Mode", 1, {"mode": "loud"}), "mode", ("all", "command"))


def test_udp_datagrams():
    speak = parse_datagram(b'{"command": "speak", "id": "7", "voice": "Amy", "message": "hi"}', LIMIT)
    assert (speak.name, speak.id, speak_fields(speak).alias) == ("Speak", "7", "Amy")
    assert parse_datagram(b'{"command": "OFF"}', LIMIT).name == "Disable"
    assert not parse_datagram(b'{"command": "reg"}', LIMIT).known
    for data in (b"\xff\xfe", b'{"message": "no command"}', b"x" * (LIMIT + 1)):
        with pytest.raises(RequestError):
            parse_datagram(data, LIMIT)


def _event(name: str, **extra: object) -> dict[str, object]:
    return {"event": name, "message_id": "m1", "priority": "NORMAL", "text": "hello", "ts": 1_700_000_000.0,
            **extra}


def test_the_queues_events_become_text_to_speech_events():
    paths = {"m1": "/clips/m1.wav"}
    events = TextToSpeechEvents(paths.get)

    def kinds(event: dict[str, object]) -> list[tuple[str, dict[str, object]]]:
        frames = events.translate(event)
        for frame in frames:
            assert frame["event"]["source"] == "TextToSpeech" and frame["timeStamp"]
        return [(frame["event"]["type"], frame["data"]) for frame in frames]

    queued = kinds(_event("queued", voice="en-gb"))
    assert [k for k, _ in queued] == ["TextQueued"]
    assert queued[0][1]["id"] == "m1" and queued[0][1]["voiceName"] == "en-gb"
    started = kinds(_event("playback_started", duration_ms=1234, engine="espeak"))
    assert [k for k, _ in started] == ["EngineProcessed", "Playing"]
    assert started[1][1]["duration"] == 1234 and started[1][1]["engineName"] == "espeak"
    (kind, data), = kinds(_event("playback_finished", duration_ms=1200))
    assert kind == "Finished" and data["duration"] == 1234 and data["filename"] == "/clips/m1.wav"
    assert set(data) >= {"id", "timestamp", "text", "duration", "engineName", "voiceName", "pitch", "volume",
                         "rate", "filename"}
    (kind, data), = kinds(_event("playback_finished", duration_ms=1200))  # start not seen: the event's
    assert data["duration"] == 1200
    (kind, data), = kinds(_event("skipped", duration_ms=10))
    assert kind == "Finished" and data["skipped"] is True
    assert kinds(_event("dropped", reason="cleared"))[0][0] == "Deleted"
    assert kinds(_event("failed", error="engine down"))[0][1]["reason"] == "engine down"
    assert kinds(_event("rejected", reason="disabled"))[0][0] == "Error"
    assert events.translate({"event": "filtered", "message_id": None, "text": ""}) == []
    assert TextToSpeechEvents().translate(_event("playback_finished"))[0]["data"]["filename"] == ""


def test_settings_defaults_and_errors_that_name_the_key():
    default = SpeakerbotSettings.from_dict({})
    assert (default.enabled, default.host, default.port, default.udp_port) == (False, "127.0.0.1", 7580, 6669)
    assert default.loopback and SpeakerbotSettings.from_dict(None) == default
    assert SpeakerbotSettings.from_dict(default.to_dict()) == default
    assert not SpeakerbotSettings(host="0.0.0.0").loopback
    for data, key in (({"port": 70000}, "connectors.speakerbot.port"),
                      ({"port": "7580"}, "connectors.speakerbot.port"),
                      ({"udp_port": -1}, "connectors.speakerbot.udp_port"),
                      ({"enabled": "yes"}, "connectors.speakerbot.enabled"),
                      ({"host": "127.0.0.1:7580"}, "connectors.speakerbot.host"),
                      ({"host": ""}, "connectors.speakerbot.host"),
                      ({"max_frame_bytes": 10}, "connectors.speakerbot.max_frame_bytes"),
                      ({"max_requests_per_second": float("nan")},
                       "connectors.speakerbot.max_requests_per_second"),
                      ({"max_connections": 0}, "connectors.speakerbot.max_connections"),
                      ({"prot": 1}, "'prot'")):
        with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
            SpeakerbotSettings.from_dict(data)
    with pytest.raises(ConfigError, match="must be an object"):
        SpeakerbotSettings.from_dict([1])
