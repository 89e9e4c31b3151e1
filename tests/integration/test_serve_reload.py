"""`obs-tts serve` reloads its config file on SIGHUP and applies it live (issue 7 item 4):
a good file applies, a bad one is refused with one line and the old settings keep running."""

from __future__ import annotations

import json
import signal

from doubles import wait_until
from listener_support import serving
from websockets.sync.client import connect


def test_sighup_reloads_the_config_live(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"tts_queue": {"max_concurrent_workers": 1}}))
    with serving(tmp_path, config) as (url, lines, process):
        changed = {"tts_queue": {"max_concurrent_workers": 2, "rate_limit_per_minute": 30}}
        config.write_text(json.dumps(changed))
        process.send_signal(signal.SIGHUP)
        assert wait_until(lambda: any("applied" in line for line in lines), 20), lines
        assert any(line.startswith(f"obs-tts serve: config {config} applied") for line in lines), lines

        config.write_text(json.dumps({"engine": {"voice": "en-uss"}}))
        process.send_signal(signal.SIGHUP)
        assert wait_until(lambda: any("not applied" in line for line in lines), 20), lines
        refused = next(line for line in lines if "not applied" in line)
        assert "the previous configuration keeps running" in refused and "engine.voice" in refused

        with connect(url) as ws:  # still serving, with the previous configuration
            ws.send(json.dumps({"type": "tts", "text": "still here", "id": 1}))
            reply = json.loads(ws.recv(timeout=10))
        assert reply["status"] == "ok"
        assert wait_until(lambda: any("playback_finished" in line and reply["message_id"] in line
                                 for line in lines), 30), lines
    assert lines[-1].startswith("obs-tts serve: stopped; played 1")


def _speak(ws, frame: dict, seen: list[dict]) -> dict:
    """Send ``frame``; return its reply, with the text and priority the queue took it at
    (from its ``queued`` event) for an accepted event. Pushed events are kept in ``seen``."""
    frame_id = f"f{len(seen)}-{id(frame)}"
    ws.send(json.dumps({**frame, "id": frame_id}))
    while True:
        data = json.loads(ws.recv(timeout=10))
        if data.get("id") == frame_id:
            reply = data
            break
        seen.append(data)
    if reply.get("status") != "ok":
        return reply
    while True:
        queued = next((e for e in seen if e.get("event") == "queued"
                       and e.get("message_id") == reply["message_id"]), None)
        if queued is not None:
            return {**reply, "text": queued["text"], "priority": queued["priority"]}
        seen.append(json.loads(ws.recv(timeout=10)))


def _burst(ws, count: int) -> list[dict]:
    """Send ``count`` tts frames at once; their replies, in order."""
    for n in range(count):
        ws.send(json.dumps({"type": "tts", "text": f"burst {n}", "id": f"b{n}"}))
    replies = []
    while len(replies) < count:
        data = json.loads(ws.recv(timeout=10))
        if "status" in data:
            replies.append(data)
    return replies


SCAM = {"type": "chat", "username": "viewer", "message": "!tts this is a scam"}
SPAMMER = {"type": "chat", "username": "spammer", "message": "!tts buy followers"}
FOLLOW = {"type": "follow", "username": "newfriend"}
SMALL_TIP = {"type": "donation", "donor_name": "tipper", "amount": 3.0, "message": "hi"}


def test_sighup_applies_moderation_templates_minimums_and_priorities_to_the_next_event(tmp_path):
    config = tmp_path / "config.json"
    settings: dict = {"tts_queue": {"max_queue_size": 100}}
    config.write_text(json.dumps(settings))
    with serving(tmp_path, config) as (url, lines, process), connect(url) as ws:
        seen: list[dict] = []
        ws.send(json.dumps({"request": "Subscribe", "events": ["queued"], "id": "sub"}))
        assert json.loads(ws.recv(timeout=10))["status"] == "ok"
        before = {name: _speak(ws, frame, seen) for name, frame in
                  (("scam", SCAM), ("spammer", SPAMMER), ("follow", FOLLOW), ("tip", SMALL_TIP))}
        assert "scam" in before["scam"]["text"], before
        assert before["spammer"]["status"] == "ok", before
        assert before["follow"]["text"] == "newfriend just followed", before
        assert before["follow"]["priority"] == "HIGH", before
        assert before["tip"]["status"] == "ok", before

        with connect(url) as burst:  # no rate limit yet: 20 frames at once are all taken
            replies = _burst(burst, 20)
        assert [r["status"] for r in replies] == ["ok"] * 20, replies

        settings["tts_queue"]["max_text_length"] = 45
        settings["listener"] = {"max_messages_per_second": 5}
        settings["moderation"] = {"bad_words": ["scam"], "censor_word": "beep"}
        settings["streamer_bot"] = {
            "ignored_users": ["nightbot", "spammer"],
            "templates": {"follow": "Welcome {username}, thanks for the follow"},
            "min_donation_amount": 5,
            "priorities": {"follow": "URGENT"},
        }
        config.write_text(json.dumps(settings))
        process.send_signal(signal.SIGHUP)
        assert wait_until(lambda: any(" applied" in line for line in lines), 20), lines

        after = {name: _speak(ws, frame, seen) for name, frame in
                 (("scam", SCAM), ("spammer", SPAMMER), ("follow", FOLLOW), ("tip", SMALL_TIP))}
        assert after["scam"]["status"] == "ok" and "scam" not in after["scam"]["text"], after
        assert "beep" in after["scam"]["text"], after
        assert after["spammer"]["status"] == "filtered", after
        assert after["spammer"]["reason"] == "ignored_user", after
        assert after["follow"]["text"] == "Welcome newfriend, thanks for the follow", after
        assert after["follow"]["priority"] == "URGENT", after
        assert after["tip"]["status"] == "filtered" and after["tip"]["reason"] == "below_minimum", after
        words = "one two three four five six seven eight nine ten eleven"
        long = _speak(ws, {"type": "tts", "text": words}, seen)
        assert long["text"] == "one two three four five six seven eight nine", long  # cut within 45
        with connect(url) as burst:  # a new connection gets the new rate limit
            replies = _burst(burst, 20)
        limited = [r for r in replies if r["status"] == "error"]
        assert limited and all(r["error"]["code"] == "rate_limited" for r in limited), replies

        # A template a start would refuse is refused by the reload too; the previous one stays.
        settings["streamer_bot"]["templates"]["follow"] = "Hi {nickname}"
        config.write_text(json.dumps(settings))
        process.send_signal(signal.SIGHUP)
        assert wait_until(lambda: any("not applied" in line for line in lines), 20), lines
        refused = next(line for line in lines if "not applied" in line)
        assert "streamer_bot.templates.follow" in refused and "{nickname}" in refused, refused
        again = _speak(ws, FOLLOW, seen)
        assert again["text"] == "Welcome newfriend, thanks for the follow", again
