"""`obs-tts send` against a running listener, and `obs-tts serve` as a real process with
the espeak voice and the wav-dir sink, stopped with Ctrl+C (SIGINT)."""

from __future__ import annotations

import json

import pytest
from doubles import wait_until
from listener_support import listening, serving
from websockets.sync.client import connect

from tts_core.cli import main


@pytest.fixture
def running(make_manager):
    with listening(make_manager) as running:
        yield running


def test_send_prints_the_reply(running, capsys):
    frame = '{"type":"donation","donor_name":"JohnDoe","amount":25.0,"message":"Great stream!"}'
    assert main(["send", frame, "--url", running.url]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["status"] == "ok" and reply["id"].startswith("cli-") and reply["message_id"]


def test_send_over_http_and_error_exit_code(running, capsys):
    assert main(["send", '{"request":"GetStats"}', "--url", running.http]) == 0
    assert json.loads(capsys.readouterr().out)["stats"]["running"] is True
    assert main(["send", "not json", "--url", running.url]) == 1
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "bad_json"


def test_send_exit_code_3_for_a_chat_line_that_will_not_be_spoken(running, capsys):
    frame = '{"type":"chat","username":"viewer","message":"just chatting, no command"}'
    assert main(["send", frame, "--url", running.url]) == 3
    assert json.loads(capsys.readouterr().out)["status"] == "filtered"


def test_send_wait_prints_the_final_event(running, capsys):
    assert main(["send", '{"type":"tts","text":"wait for me"}', "--url", running.url, "--wait"]) == 0
    reply, final = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert final["event"] == "playback_finished" and final["message_id"] == reply["message_id"]


def test_send_to_nothing_fails_cleanly(capsys):
    assert main(["send", "{}", "--url", "ws://127.0.0.1:9/", "--timeout", "2"]) == 2
    assert "error" in capsys.readouterr().err


def test_send_never_prints_the_token(make_manager, capsys):
    with listening(make_manager, token="s3cret") as running:
        url = f"ws://127.0.0.1:{running.server.port}/?token=wr0ng-guess"
        assert main(["-vv", "send", '{"request":"GetStats"}', "--url", url]) == 2
        err = capsys.readouterr().err
        assert "401" in err and "wr0ng-guess" not in err and "token=***" in err


def test_serve_runs_until_ctrl_c(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"tts_queue": {"max_concurrent_workers": 1},
                                  "streamer_bot": {"priorities": {"donation": "URGENT"}}}))
    with serving(tmp_path, config) as (url, lines, _process):
        with connect(url) as ws:
            ws.send(json.dumps({"type": "donation", "donor_name": "JohnDoe", "amount": 5, "id": 1}))
            reply = json.loads(ws.recv(timeout=5))
        assert reply["status"] == "ok"
        assert wait_until(lambda: any("playback_finished" in line for line in lines), 20), lines
    event_lines = [line for line in lines if reply["message_id"] in line]
    assert [line.split()[1] for line in event_lines] == ["queued", "playback_started", "playback_finished"]
    assert "URGENT" in event_lines[0] and "JohnDoe donated 5 dollars" in event_lines[0]
    assert lines[-1].startswith("obs-tts serve: stopped; played 1")
    assert list((tmp_path / "clips").glob("*.wav"))
    assert (tmp_path / "data" / "journal.sqlite3").exists()  # persist is on by default




def test_serve_started_as_a_background_job_still_stops_cleanly_on_ctrl_c(tmp_path):
    """A shell starts `obs-tts serve &` with SIGINT ignored; serve stops on it all the same,
    through its clean shutdown (the final counts line)."""
    config = tmp_path / "config.json"
    config.write_text("{}")
    with serving(tmp_path, config, sigint_ignored=True) as (_url, lines, _process):
        pass  # serving sends SIGINT and asserts exit code 0 within 15 s
    assert any(line.startswith("obs-tts serve: stopped; played 0") for line in lines), lines
