"""The Speaker.bot-compatible server, driven as Streamer.bot's Speaker.bot integration
drives it: over a real loopback WebSocket (and UDP), against the real server, the real
queue manager and translator, with a recording sink. Every check waits on a reply, an
event or the sink, never on a sleep alone."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from doubles import RecordingSink, ToneEngine, assert_accounting, wait_until
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tts_core import TTSConfig, TTSQueueManager
from tts_core.connectors.speakerbot import SpeakerbotServer, SpeakerbotSettings

LONG_MS = 20_000  # a clip that plays until it is stopped


class VoiceEngine(ToneEngine):
    """A tone engine that also records which voice each text was spoken with."""

    def __init__(self, durations: dict[str, int]) -> None:
        super().__init__(30, durations)
        self.voices: dict[str, str | None] = {}

    def synthesize(self, text: str, voice: str | None = None, rate: int | None = None,
                   volume: float | None = None) -> bytes:
        self.voices[text] = voice
        return super().synthesize(text)


class StreamerBot:
    """Streamer.bot's side of the connection: requests with ids, replies matched by id,
    pushed events kept in arrival order."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self._ids = 0

    def ask(self, request: str, **fields: Any) -> dict[str, Any]:
        self._ids += 1
        wanted = f"sb-{self._ids}"
        self.ws.send(json.dumps({"request": request, "id": wanted, **fields}))
        return self.reply(wanted)

    def send_raw(self, data: str | bytes, wanted: object = None) -> dict[str, Any]:
        self.ws.send(data)
        return self.reply(wanted)

    def reply(self, wanted: object, timeout: float = 10.0) -> dict[str, Any]:
        while True:
            frame = json.loads(self.ws.recv(timeout=timeout))
            if "status" in frame and frame.get("id") == wanted:
                return dict(frame)
            assert "event" in frame, f"unexpected frame {frame}"
            self.events.append(frame)

    def event(self, kind: str, speech_id: str, timeout: float = 15.0) -> dict[str, Any]:
        """The first ``TextToSpeech`` event ``kind`` about ``speech_id`` (waits for it)."""
        while True:
            for frame in self.events:
                wanted = frame["event"] == {"source": "TextToSpeech", "type": kind}
                if wanted and frame["data"]["id"] == speech_id:
                    return frame
            self.events.append(json.loads(self.ws.recv(timeout=timeout)))

    def kinds(self, speech_id: str) -> list[str]:
        return [f["event"]["type"] for f in self.events if f["data"].get("id") == speech_id]


@dataclass
class Running:
    manager: TTSQueueManager
    server: SpeakerbotServer
    sink: RecordingSink
    engine: VoiceEngine

    def connect(self, **kwargs: Any) -> ClientConnection:
        return connect(f"ws://127.0.0.1:{self.server.port}/", open_timeout=5, **kwargs)

    def played(self) -> list[str]:
        return [p.text for p in self.sink.played]


def handshake_status(port: int, host: str) -> int:
    """The HTTP status of a WebSocket handshake sent with Host ``host``."""
    request = (f"GET / HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request.encode())
        head = b""
        while b"\r\n" not in head:
            chunk = sock.recv(1024)
            assert chunk, "closed without an answer"
            head += chunk
    return int(head.split(b" ")[1])


def with_speakerbot(config: TTSConfig, section: SpeakerbotSettings) -> None:
    """Put ``section`` at ``config.connectors.speakerbot``, whether or not the config has
    a ``connectors`` section yet."""
    connectors = getattr(config, "connectors", None)
    if connectors is None:
        config.connectors = SimpleNamespace(speakerbot=section)  # type: ignore[attr-defined]
    else:
        connectors.speakerbot = section


def quick_manager(make_manager: Any) -> TTSQueueManager:
    manager: TTSQueueManager = make_manager(TTSConfig(rate_limit_per_minute=0), engine=ToneEngine(5),
                                            sink=RecordingSink(speed=0))
    manager.start()
    return manager


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def settings(**changes: Any) -> SpeakerbotSettings:
    values: dict[str, Any] = {"enabled": True, "port": 0, "udp_port": free_udp_port(), **changes}
    return SpeakerbotSettings.from_dict(values)


@pytest.fixture
def running(make_manager) -> Iterator[Running]:
    cfg = TTSConfig.from_dict({"tts_queue": {"rate_limit_per_minute": 0},
                               "moderation": {"bad_words": ["scam"]},
                               "voices": {"aliases": {"Brian": "en-gb", "Amy": "en-us"}}})
    engine = VoiceEngine({"a long story": LONG_MS, "hello there": 120})
    sink = RecordingSink(speed=1.0)
    manager = make_manager(cfg, engine=engine, sink=sink)
    manager.start()
    server = SpeakerbotServer(manager, settings=settings())
    server.start()
    assert server.status()["state"] == "listening", server.status()
    try:
        yield Running(manager, server, sink, engine)
    finally:
        server.stop()


@pytest.fixture
def bot(running: Running) -> Iterator[StreamerBot]:
    with running.connect() as ws:
        yield StreamerBot(ws)


def test_getinfo_says_speaker_bot_0_1_4_or_later_and_commands_lists_every_request(bot):
    info = bot.ask("GetInfo")
    assert info["status"] == "ok" and info["id"] == "sb-1"
    result = info["result"]
    assert result["name"] == "Speaker.bot" and result["apiVersion"] == 2
    assert tuple(int(x) for x in result["version"].split(".")) >= (0, 1, 4)
    assert result["instanceId"]
    commands = bot.ask("Commands")["result"]["commands"]
    for name in ("Speak", "Stop", "Pause", "Resume", "Clear", "Enable", "Disable", "Events", "Mode",
                 "GetInfo", "Commands", "GetState", "GetAliases", "Subscribe", "UnSubscribe"):
        assert name in commands
    aliases = bot.ask("GetAliases")["result"]["aliases"]
    assert {"name": "Brian", "voice": "en-gb"} in aliases
    subscribed = bot.ask("Subscribe", events={"TextToSpeech": ["Finished"]})
    assert subscribed["status"] == "ok" and subscribed["result"]["events"] == {"TextToSpeech": ["Finished"]}
    assert bot.ask("UnSubscribe", events={"TextToSpeech": ["Finished"]})["status"] == "ok"


def test_speak_with_an_alias_uses_the_mapped_voice_and_finished_carries_the_duration_and_file(running, bot):
    reply = bot.ask("Speak", voice="brian", message="hello there", badWordFilter=True)
    assert reply["status"] == "ok", reply
    speech_id = reply["result"]["speechId"]
    assert reply["result"]["voiceName"] == "en-gb" and reply["result"]["text"] == "hello there"
    finished = bot.event("Finished", speech_id)
    data = finished["data"]
    assert data["duration"] == 120 and data["text"] == "hello there" and data["voiceName"] == "en-gb"
    assert data["filename"].endswith(f"{speech_id}.wav") and os.path.exists(data["filename"])
    assert "T" in finished["timeStamp"] and data["timestamp"]
    assert bot.kinds(speech_id) == ["TextQueued", "EngineProcessed", "Playing", "Finished"]
    assert running.engine.voices["hello there"] == "en-gb"
    assert running.played() == ["hello there"]
    assert speech_id in running.sink.ids()  # speechId is the queue's message id


def test_an_unknown_alias_speaks_with_the_default_voice_and_no_alias_too(running, bot):
    unknown = bot.ask("Speak", voice="NoSuchAlias", message="unknown alias")
    assert unknown["status"] == "ok", unknown
    none = bot.ask("Speak", message="no alias")
    bot.event("Finished", unknown["result"]["speechId"])
    bot.event("Finished", none["result"]["speechId"])
    assert running.engine.voices["unknown alias"] is None and running.engine.voices["no alias"] is None


def test_bad_word_filter_off_does_not_bypass_the_streamers_moderation(running, bot):
    reply = bot.ask("Speak", voice="Amy", message="this is a scam", badWordFilter=False)
    assert reply["status"] == "ok"
    bot.event("Finished", reply["result"]["speechId"])
    assert running.played() == ["this is a bleep"]


def test_stop_cuts_only_the_clip_that_plays(running, bot):
    long = bot.ask("Speak", message="a long story")["result"]["speechId"]
    bot.event("Playing", long)
    after = bot.ask("Speak", message="hello there")["result"]["speechId"]
    stopped = bot.ask("Stop")
    assert stopped["status"] == "ok" and stopped["result"] == {"speechId": long}
    assert bot.event("Finished", long)["data"]["skipped"] is True
    bot.event("Finished", after)
    played = [(p.text, p.skipped) for p in running.sink.played]
    assert played == [("a long story", True), ("hello there", False)]


def test_pause_and_resume_hold_and_release_the_queue(running, bot):
    assert bot.ask("Pause")["status"] == "ok"
    speech_id = bot.ask("Speak", message="hello there")["result"]["speechId"]
    state = bot.ask("GetState")["result"]
    assert state["paused"] is True and state["enabled"] is True
    bot.event("TextQueued", speech_id)
    assert running.manager.get_stats()["pending"] == 1 and running.played() == []
    assert bot.ask("Resume")["status"] == "ok"
    bot.event("Finished", speech_id)
    assert running.played() == ["hello there"] and bot.ask("GetState")["result"]["paused"] is False


def test_clear_drops_every_pending_message(running, bot):
    bot.ask("Pause")
    ids = [bot.ask("Speak", message=f"pending {n}")["result"]["speechId"] for n in range(3)]
    cleared = bot.ask("Clear")
    assert cleared["status"] == "ok" and cleared["result"]["cleared"] == 3
    for speech_id in ids:
        assert bot.event("Deleted", speech_id)["data"]["reason"] == "cleared"
    bot.ask("Resume")
    later = bot.ask("Speak", message="hello there")["result"]["speechId"]
    bot.event("Finished", later)
    assert running.played() == ["hello there"]
    assert assert_accounting(running.manager)["dropped"] == 3


def test_disable_refuses_speech_and_enable_takes_it_again(running, bot):
    assert bot.ask("Disable")["status"] == "ok"
    assert bot.ask("GetState")["result"]["enabled"] is False
    refused = bot.ask("Speak", message="while disabled")
    assert refused["status"] == "error" and "disabled" in refused["error"]
    assert bot.ask("Enable")["status"] == "ok"
    spoken = bot.ask("Speak", message="hello there")["result"]["speechId"]
    bot.event("Finished", spoken)
    assert running.played() == ["hello there"]
    assert bot.ask("Off")["status"] == "ok" and running.manager.enabled is False  # older names too
    assert bot.ask("On")["status"] == "ok" and running.manager.enabled is True


def test_events_and_mode_are_kept_and_reported(bot):
    assert bot.ask("Events", state="off")["status"] == "ok"
    assert bot.ask("Mode", mode="command")["status"] == "ok"
    state = bot.ask("GetState")["result"]
    assert state["events"] is False and state["mode"] == "command"
    wrong = bot.ask("Mode", mode="loud")
    assert wrong["status"] == "error" and "mode" in wrong["error"]


def test_udp_speak_is_spoken_with_the_mapped_voice(running):
    datagram = {"command": "speak", "id": "udp-1", "voice": "Brian", "message": "from udp"}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(json.dumps(datagram).encode(), ("127.0.0.1", running.server.udp_port))
    assert wait_until(lambda: "from udp" in running.played()), running.played()
    assert running.engine.voices["from udp"] == "en-gb"
    assert wait_until(lambda: running.server.status()["events"] == 1)


def test_an_unknown_or_malformed_request_gets_an_error_reply_and_the_connection_stays(running, bot, caplog):
    unknown = bot.ask("Frobnicate", value=1)
    assert unknown["status"] == "error" and unknown["id"] == "sb-1" and "Frobnicate" in unknown["error"]
    assert [r for r in caplog.records if "Frobnicate" in r.getMessage()], "no log line"
    assert bot.send_raw("{not json")["status"] == "error"
    assert bot.send_raw(json.dumps({"id": "x"}), "x")["status"] == "error"  # no request name
    too_large = bot.send_raw(json.dumps({"request": "Speak", "message": "x" * 70_000}))
    assert too_large["status"] == "error" and "too large" in too_large["error"]
    assert bot.ask("GetInfo")["status"] == "ok"  # still connected
    assert running.server.status()["last_error"]


def test_more_requests_than_the_rate_limit_get_error_replies_and_the_connection_stays(make_manager):
    manager = quick_manager(make_manager)
    server = SpeakerbotServer(manager, settings=settings(max_requests_per_second=2))
    server.start()
    try:
        with connect(f"ws://127.0.0.1:{server.port}/", open_timeout=5) as ws:
            bot = StreamerBot(ws)
            replies = [bot.ask("GetState") for _ in range(6)]
            refused = [r for r in replies if r["status"] == "error"]
            assert refused and "too many requests" in refused[0]["error"]
            assert wait_until(lambda: bot.ask("GetInfo")["status"] == "ok")
    finally:
        server.stop()


def test_browser_origins_and_foreign_hosts_are_refused(running):
    with pytest.raises(InvalidStatus) as refused:
        running.connect(origin="https://evil.example")  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403
    assert handshake_status(running.server.port, "evil.example") == 403  # DNS rebinding
    assert handshake_status(running.server.port, f"127.0.0.1:{running.server.port}") == 101
    with running.connect() as ws:  # Streamer.bot sends no Origin
        assert StreamerBot(ws).ask("GetInfo")["status"] == "ok"


def test_events_go_to_every_client_subscribed_or_not(running):
    with running.connect() as first, running.connect() as second:
        a, b = StreamerBot(first), StreamerBot(second)
        assert wait_until(lambda: running.server.status()["clients"] == 2)
        assert running.server.status()["state"] == "connected"
        speech_id = a.ask("Speak", message="hello there")["result"]["speechId"]
        a.event("Finished", speech_id)
        b.event("Finished", speech_id)
    assert wait_until(lambda: running.server.status()["state"] == "listening")


def test_status_disabled_failed_and_restarted_on_a_new_port(make_manager):
    manager = quick_manager(make_manager)
    off = SpeakerbotServer(manager)
    off.stop()  # never started: nothing to do
    off.start()
    assert off.status()["state"] == "disabled" and not off.is_running
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        server = SpeakerbotServer(manager, settings=settings(port=busy))
        server.start()
        status = server.status()
        assert status["state"] == "failed" and f"connectors.speakerbot.port {busy}" in status["reason"]
        assert manager.add_message("the queue goes on") and manager.wait_until_idle(10)
        server.apply(settings(port=0, udp_port=0))
        try:
            assert server.status()["state"] == "listening" and server.port != busy
            with connect(f"ws://127.0.0.1:{server.port}/", open_timeout=5) as ws:
                assert StreamerBot(ws).ask("GetInfo")["status"] == "ok"
            first = server.port
            server.apply(settings(port=0, udp_port=0, max_requests_per_second=5))  # same address: no restart
            assert server.port == first and server.is_running
            server.apply(SpeakerbotSettings(enabled=False))
            assert server.status()["state"] == "disabled" and not server.is_running
        finally:
            server.stop()
    assert not [t for t in threading.enumerate() if t.name.startswith("tts-speakerbot")]


def test_settings_reach_the_server_through_reconfigure_and_a_restart_pushes_events_again(make_manager):
    manager = quick_manager(make_manager)
    server = SpeakerbotServer(manager)
    server.start()  # wanted, but off: it starts when its settings say so
    assert server.status()["state"] == "disabled" and not server.is_running
    idle = SpeakerbotServer(manager)  # never started (e.g. built only to look at the settings)
    config = TTSConfig(rate_limit_per_minute=0)
    with_speakerbot(config, settings(udp_port=0))
    manager.reconfigure(config)  # the way the OBS panel and obs-tts serve change settings
    try:
        assert server.status()["state"] == "listening"
        assert not idle.is_running and idle.status()["state"] == "stopped"
        for _ in range(2):  # the second time after a stop and a start
            with connect(f"ws://127.0.0.1:{server.port}/", open_timeout=5) as ws:
                bot = StreamerBot(ws)
                speech_id = bot.ask("Speak", message="again")["result"]["speechId"]
                assert bot.event("Finished", speech_id)["data"]["duration"] == 5
            server.stop()
            assert not server.is_running and server.status()["state"] == "stopped"
            server.start()
        with_speakerbot(config, SpeakerbotSettings(enabled=False))
        manager.reconfigure(config)
        assert server.status()["state"] == "disabled" and not server.is_running
    finally:
        server.stop()


def test_stop_closes_connected_clients_and_ends_the_thread(running):
    with running.connect() as ws:
        bot = StreamerBot(ws)
        assert bot.ask("GetInfo")["status"] == "ok"
        started = time.monotonic()
        running.server.stop(timeout=1.0)
        assert time.monotonic() - started < 1.5 and not running.server.is_running
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    assert not [t for t in threading.enumerate() if t.name.startswith("tts-speakerbot")]


def test_connections_beyond_the_limit_are_refused_and_udp_floods_are_dropped(make_manager):
    manager = quick_manager(make_manager)
    server = SpeakerbotServer(manager, settings=settings(max_connections=1, max_datagrams_per_second=1,
                                                max_frame_bytes=512))
    server.start()
    try:
        with connect(f"ws://127.0.0.1:{server.port}/", open_timeout=5) as ws:
            assert StreamerBot(ws).ask("GetInfo")["status"] == "ok"
            with pytest.raises(InvalidStatus) as refused:
                connect(f"ws://127.0.0.1:{server.port}/", open_timeout=5)
            assert refused.value.response.status_code == 503
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(json.dumps({"command": "speak", "message": "x" * 600}).encode(),
                        ("127.0.0.1", server.udp_port))  # too large: dropped, counted
            for n in range(10):
                sock.sendto(json.dumps({"command": "speak", "message": f"flood {n}"}).encode(),
                            ("127.0.0.1", server.udp_port))
        assert wait_until(lambda: server.status()["events"] == 1 + 11)
        # A datagram let through is answered on the command thread, after it is counted.
        assert wait_until(lambda: manager.get_stats()["accepted"] >= 1)
        assert manager.events.flush() and manager.wait_until_idle(10)
        spoken = manager.get_stats()["accepted"]
        assert 1 <= spoken < 10, spoken  # one a second: the burst beyond the first is dropped
        assert server.status()["last_error"]
    finally:
        server.stop()


def test_with_real_espeak_finished_names_the_clip_file_and_its_length(make_manager):
    cfg = TTSConfig.from_dict({"tts_queue": {"rate_limit_per_minute": 0},
                               "voices": {"aliases": {"German": "de"}}})
    manager = make_manager(cfg, sink=RecordingSink(speed=0))  # the engine from the config: espeak-ng
    manager.start()
    server = SpeakerbotServer(manager, settings=settings(udp_port=0))
    server.start()
    try:
        with connect(f"ws://127.0.0.1:{server.port}/", open_timeout=5) as ws:
            bot = StreamerBot(ws)
            reply = bot.ask("Speak", voice="german", message="Guten Tag und danke")
            assert reply["status"] == "ok" and reply["result"]["voiceName"] == "de"
            data = bot.event("Finished", reply["result"]["speechId"])["data"]
            assert data["engineName"] == "espeak" and data["voiceName"] == "de"
            with wave.open(data["filename"]) as clip:
                length_ms = clip.getnframes() * 1000 // clip.getframerate()
            assert data["duration"] > 300 and abs(data["duration"] - length_ms) <= 1
    finally:
        server.stop()


def test_a_burst_of_speaks_is_all_answered_and_all_played_in_order(running, bot, caplog):
    texts = [f"burst {n}" for n in range(30)]
    ids = [bot.ask("Speak", message=text, silent=n == 0)["result"]["speechId"]
           for n, text in enumerate(texts)]
    assert len(set(ids)) == 30
    for speech_id in ids:
        bot.event("Finished", speech_id)
    assert running.played() == texts
    assert sum("Silent" in r.getMessage() for r in caplog.records) == 1  # said once, and it played


def test_a_client_that_does_not_read_its_replies_is_disconnected(make_manager):
    aliases = {f"alias{n}": f"voice-number-{n}" for n in range(500)}  # GetAliases: about 25 kB a reply
    manager = make_manager(TTSConfig.from_dict({"voices": {"aliases": aliases}}), engine=ToneEngine(5),
                           sink=RecordingSink(speed=0))
    manager.start()
    server = SpeakerbotServer(manager, settings=settings(max_requests_per_second=0))
    server.start()
    try:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
        sock.connect(("127.0.0.1", server.port))
        with connect(f"ws://127.0.0.1:{server.port}/", sock=sock, max_queue=2, open_timeout=5,
                     close_timeout=0.2) as ws:
            with contextlib.suppress(ConnectionClosed):
                for n in range(400):  # never read: the client's buffers and then the server's fill up
                    ws.send(json.dumps({"request": "GetAliases", "id": n}))
            # Not "clients == 0" alone: right after the handshake the server may not have counted it yet.
            assert wait_until(lambda: "did not read" in str(server.status()["last_error"])), server.status()
            assert wait_until(lambda: server.status()["clients"] == 0), server.status()
            assert server.status()["state"] == "listening"
        with connect(f"ws://127.0.0.1:{server.port}/", open_timeout=5) as ws:  # others still served
            assert StreamerBot(ws).ask("GetInfo")["status"] == "ok"
    finally:
        server.stop()


def test_the_state_is_reported_where_the_manager_collects_connector_reports(make_manager):
    manager = quick_manager(make_manager)
    manager.connector_reports = {}  # type: ignore[attr-defined]  # GetStats "connectors" (the framework's)
    server = SpeakerbotServer(manager, settings=settings(udp_port=0))
    server.start()
    try:
        report = manager.connector_reports["speakerbot"]()  # type: ignore[attr-defined]
        assert report["state"] == "listening" and report["address"] == server.url
        assert report["events"] == 0 and report["clients"] == 0 and report["since_s"] >= 0
    finally:
        server.close()
    assert "speakerbot" not in manager.connector_reports  # type: ignore[attr-defined]
    assert not server.is_running


def test_obs_tts_serve_runs_the_server_from_its_config_and_getstats_shows_it(tmp_path):
    """As a streamer runs it: ``connectors.speakerbot`` on in the config of a real
    ``obs-tts serve``; Streamer.bot's Speak is spoken and GetStats shows the server."""
    from listener_support import serving

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"engine": {"name": "espeak"},
                                  "connectors": {"speakerbot": {"enabled": True, "port": 0, "udp_port": 0}}}))
    with serving(tmp_path, config) as (url, lines, _process):
        assert wait_until(lambda: any("connector speakerbot: ws://" in line for line in lines), 20), lines
        line = next(line for line in lines if "connector speakerbot: " in line)
        address = line.split("connector speakerbot: ", 1)[1].split()[0]
        with connect(address, open_timeout=5) as ws:
            streamer_bot = StreamerBot(ws)
            reply = streamer_bot.ask("Speak", message="hello from speaker bot", voice="")
            assert reply["status"] == "ok", reply
            speech_id = reply["result"]["speechId"]
            finished = streamer_bot.event("Finished", speech_id, timeout=30)
            assert finished["data"]["duration"] > 0
        with connect(url, open_timeout=5) as ws:
            ws.send(json.dumps({"request": "GetStats", "id": 1}))
            stats = json.loads(ws.recv(timeout=10))["stats"]
        assert stats["connectors"]["speakerbot"]["state"] in ("listening", "connected")
        assert stats["connectors"]["speakerbot"]["events"] >= 1
