"""Ducking in real OBS: the music goes down while TTS speaks and comes back after.

The scene has "Music", a looping 13 kHz tone, with the streamer's own "My gain" filter on
it. The script (settings: lower "Music") adds its Compressor filter with the TTS media
source as sidechain; a long espeak-ng clip plays; OBS's recording shows the tone (its
high band, apart from the speech) at least the chosen dB lower while the speech plays and
back within 0.5 s of the speech's end. Unticking "Music" in the script's panel removes
our filter only; a Reload of the script (its unload) removes it too; "My gain" keeps its
settings throughout. The same runs with ``obs-tts serve``'s sink over obs-websocket, and
with ``obs-tts serve`` as a streamer runs it: ducking from its config file, changed by a
config reload (SIGHUP); and across restarts: OBS closed while serve runs (its saved
collection keeps our filter) and started again, serve killed and started again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from doubles import skip_or_fail, wait_until
from ducking_levels import MAX_DROPOUTS, measure, write_tone
from listener_support import serving
from obs_harness import ObsClient, ObsHarness, ObsSetup, SourceSpec, find_free_port
from obs_panel import AccessibilityBus, ScriptPanel, missing_for_panel
from obs_restart import FixedPortObs
from obs_ui import ObsUi
from tts_stack import MEDIA, PASSWORD, REPO, SCRIPT, ListenerClient, script_setup

from tts_core import TTSConfig, TTSQueueManager
from tts_core.ingest.translator import StreamerBotIntegration
from tts_core.listener import ListenerServer
from tts_core.obs.ducking import FILTER_NAME, Ducking
from tts_core.obs.remote.sink import RemoteObsSink

MUSIC = "Music"
GAME = "Game"
MY_GAIN = "My gain"
MY_GAIN_SETTINGS = {"db": -2.0}
DEPTH_DB = 12
BACK_WITHIN_S = 0.5
LONG = {"type": "tts", "text": (
    "Thank you so much for the donation. This stream is brought to you by the viewers, "
    "and every one of you is awesome. Let us keep going for a while longer, shall we?")}


def music_spec(tone: Path) -> SourceSpec:
    return SourceSpec(MUSIC, "ffmpeg_source", {"local_file": str(tone), "is_local_file": True,
                                               "looping": True, "restart_on_activate": False})


def filters(client: ObsClient, source: str) -> dict[str, dict[str, Any]]:
    """name -> {kind, settings} of the filters on ``source``."""
    found = client.call("GetSourceFilterList", sourceName=source)["filters"]
    return {f["filterName"]: {"kind": f["filterKind"], "settings": f["filterSettings"]} for f in found}


def add_my_gain(client: ObsClient) -> dict[str, Any]:
    client.call("CreateSourceFilter", sourceName=MUSIC, filterName=MY_GAIN, filterKind="gain_filter",
                filterSettings=MY_GAIN_SETTINGS)
    return filters(client, MUSIC)[MY_GAIN]


def wait_for_our_filter(client: ObsClient, present: bool = True, timeout: float = 15.0) -> None:
    assert wait_until(lambda: (FILTER_NAME in filters(client, MUSIC)) == present, timeout), \
        f"our filter {'never appeared on' if present else 'stayed on'} {MUSIC!r}: {filters(client, MUSIC)}"


def record_one_clip(obs: ObsHarness, client: ListenerClient) -> Path:
    obs.start_recording()
    time.sleep(2.0)  # the music alone, before the clip, to compare with
    message_id = client.queue(LONG)
    client.wait_event("playback_finished", message_id, timeout=60)
    time.sleep(2.5)  # the music after the clip
    return obs.stop_recording()


def check_ducked(recording: Path, depth_db: int) -> None:
    ducked = measure(recording, depth_db)
    print(ducked.report())
    assert ducked.dropouts <= MAX_DROPOUTS, ducked.report()
    assert ducked.before - ducked.during >= depth_db, ducked.report()
    assert ducked.windows_ducked >= 0.8, ducked.report()
    assert ducked.back_after is not None and ducked.back_after <= BACK_WITHIN_S, ducked.report()
    assert abs(ducked.after - ducked.before) <= 1.0, ducked.report()


def test_script_ducks_the_music_and_removes_only_its_own_filter(tmp_path: Path) -> None:
    if missing := missing_for_panel():
        skip_or_fail(f"not installed: {missing} (`make system-deps` installs them)",
                     required=os.environ.get("OBS_TTS_REQUIRE_E2E") == "1")
    tone = write_tone(tmp_path / "tone.wav")
    port = find_free_port()
    setup = script_setup(tmp_path, port, rate_limit_per_minute=0, ducking_sources=MUSIC, ducking_db=DEPTH_DB)
    setup.sources = [*setup.sources, music_spec(tone)]
    with AccessibilityBus(tmp_path / "a11y") as bus:
        setup.extra_env = {**setup.extra_env, **bus.env()}
        with ObsHarness(setup, workdir=tmp_path / "obs") as obs:
            obs.wait_for_log(r"listener on ws://", timeout=20)
            wait_for_our_filter(obs.client)
            mine = add_my_gain(obs.client)
            ours = filters(obs.client, MUSIC)[FILTER_NAME]
            assert ours["kind"] == "compressor_filter"
            assert ours["settings"]["sidechain_source"] == MEDIA
            assert ours["settings"]["threshold"] == Ducking(depth_db=DEPTH_DB).threshold_db
            client = ListenerClient(port)
            client.subscribe()

            check_ducked(record_one_clip(obs, client), DEPTH_DB)

            a11y = bus.connect()
            panel = ScriptPanel(ObsUi(obs), a11y)
            panel.open(SCRIPT.name, "Lower by")
            assert FILTER_NAME in filters(obs.client, MUSIC), "opening the panel removed our filter"
            assert not panel.click_check_box(MUSIC, "Lower by")
            wait_for_our_filter(obs.client, present=False)
            assert filters(obs.client, MUSIC) == {MY_GAIN: mine}

            assert panel.click_check_box(MUSIC, "Lower by")  # ticked again, then Reload (unload) ...
            wait_for_our_filter(obs.client)
            reloaded_at = time.monotonic()
            ui = ObsUi(obs)
            ui.reload_scripts(r"TTS queue started: ")  # the new load has run to its end
            removed = obs.client.wait_for_event(
                "SourceFilterRemoved", lambda d: d.get("filterName") == FILTER_NAME, 15, reloaded_at)
            assert removed.data.get("sourceName") == MUSIC
            wait_for_our_filter(obs.client)  # ... and the new load adds it again
            gone = [e.data for e in obs.client.events_named("SourceFilterRemoved")
                    if e.data.get("filterName") != FILTER_NAME]
            assert not gone, f"other filters were removed: {gone}"
            assert filters(obs.client, MUSIC)[MY_GAIN] == mine
            lines = obs.script_log_lines(SCRIPT.name)
            assert not [line for line in lines if "Traceback" in line or " ERROR " in line]
            client.close()
            a11y.close()
            ui.close_window("Scripts")


def test_serve_ducks_the_music_over_obs_websocket(tmp_path: Path) -> None:
    tone = write_tone(tmp_path / "tone.wav")
    setup = ObsSetup(password=PASSWORD, sources=[music_spec(tone)])
    with ObsHarness(setup, workdir=tmp_path / "obs") as obs:
        mine = add_my_gain(obs.client)
        config = TTSConfig(persist=False, rate_limit_per_minute=0)
        config.listener.port = 0
        sink = RemoteObsSink.from_options(port=obs.port or 0, password=PASSWORD, media_source=MEDIA,
                                          ducking=Ducking((MUSIC,), depth_db=DEPTH_DB))
        assert sink.unavailable_reason() is None  # before the player asks it too (one thread at a time)
        manager = TTSQueueManager(config, sink=sink)
        listener = ListenerServer(manager, StreamerBotIntegration(manager))
        manager.start()
        listener.start()
        client = ListenerClient(listener.port)
        try:
            client.subscribe()
            wait_for_our_filter(obs.client)
            assert filters(obs.client, MUSIC)[FILTER_NAME]["settings"]["sidechain_source"] == MEDIA
            check_ducked(record_one_clip(obs, client), DEPTH_DB)
        finally:
            client.close()
            listener.stop()
            manager.stop()
            sink.close()  # serve's shutdown: our filter goes, the streamer's stays
        assert filters(obs.client, MUSIC) == {MY_GAIN: mine}


def reload_config(process: subprocess.Popen[str], lines: list[str], config: Path,
                  data: dict[str, Any]) -> str:
    """Write ``data`` to serve's config file, send SIGHUP, return serve's line about it."""
    seen = len(lines)
    config.write_text(json.dumps(data))
    process.send_signal(signal.SIGHUP)
    assert wait_until(lambda: any(f"config {config}" in line for line in lines[seen:]), 30), lines[seen:]
    return next(line for line in lines[seen:] if f"config {config}" in line)


def test_serve_ducks_from_its_config_file_and_a_reload_changes_or_removes_only_our_filter(
        tmp_path: Path) -> None:
    tone = write_tone(tmp_path / "tone.wav")
    game = SourceSpec(GAME, "ffmpeg_source", {"local_file": str(tone), "is_local_file": True,
                                              "looping": True}, muted=True)  # only its filters matter
    with ObsHarness(ObsSetup(password=PASSWORD, sources=[music_spec(tone), game]),
                    workdir=tmp_path / "obs") as obs:
        mine = add_my_gain(obs.client)
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"tts_queue": {"rate_limit_per_minute": 0},
                                      "ducking": {"sources": [MUSIC, GAME], "db": 6}}))
        env = {"OBS_WEBSOCKET_PORT": str(obs.port), "OBS_WEBSOCKET_PASSWORD": PASSWORD}
        with serving(tmp_path, config, sink=["--sink", "obs", "--media-source", MEDIA], env=env) \
                as (url, lines, process):
            assert any("ducking 'Music', 'Game' by 6 dB" in line for line in lines[:3]), lines
            wait_for_our_filter(obs.client)
            assert wait_until(lambda: FILTER_NAME in filters(obs.client, GAME), 15)
            assert filters(obs.client, MUSIC)[FILTER_NAME]["settings"]["threshold"] == \
                Ducking(depth_db=6).threshold_db

            # a deeper ducking in the file: our filters change at once, the reply says so, and
            # OBS's recording has the music at least the new 12 dB down while the speech plays
            line = reload_config(process, lines, config, {"tts_queue": {"rate_limit_per_minute": 0},
                                                          "ducking": {"sources": [MUSIC, GAME],
                                                                      "db": DEPTH_DB}})
            assert "applied" in line and "not applied" not in line, line
            assert "updated our filter on 'Game'" in line and "updated our filter on 'Music'" in line, line
            for source in (MUSIC, GAME):
                ours = filters(obs.client, source)[FILTER_NAME]["settings"]
                assert ours["threshold"] == Ducking(depth_db=DEPTH_DB).threshold_db, (source, ours)
                assert ours["sidechain_source"] == MEDIA
            assert filters(obs.client, MUSIC)[MY_GAIN] == mine

            client = ListenerClient(int(url.rstrip("/").rsplit(":", 1)[1]))
            try:
                client.subscribe()
                check_ducked(record_one_clip(obs, client), DEPTH_DB)
            finally:
                client.close()

            # Music taken out of the file: exactly our filter goes from it, the streamer's stays
            removed_at = time.monotonic()
            line = reload_config(process, lines, config, {"ducking": {"sources": [GAME], "db": DEPTH_DB}})
            assert "removed our filter from 'Music'" in line and "'Game'" not in line, line
            assert filters(obs.client, MUSIC) == {MY_GAIN: mine}
            assert FILTER_NAME in filters(obs.client, GAME)
            removed = obs.client.wait_for_event(
                "SourceFilterRemoved", lambda d: d.get("filterName") == FILTER_NAME, 15, removed_at)
            assert removed.data.get("sourceName") == MUSIC
            gone = [(e.data.get("sourceName"), e.data.get("filterName"))
                    for e in obs.client.events_named("SourceFilterRemoved", after=removed_at)]
            assert gone == [(MUSIC, FILTER_NAME)], gone

            line = reload_config(process, lines, config, {"ducking": {"sources": [GAME], "db": 40}})
            assert "not applied" in line and "ducking.db" in line and "got 40" in line, line
            assert filters(obs.client, GAME)[FILTER_NAME]["settings"]["threshold"] == \
                Ducking(depth_db=DEPTH_DB).threshold_db
        # serve stopped: none of our filters is left in the streamer's OBS
        assert filters(obs.client, GAME) == {}
        assert filters(obs.client, MUSIC) == {MY_GAIN: mine}


def start_serve(obs_port: int, listener_port: int, folder: Path) -> subprocess.Popen[str]:
    """``obs-tts -v serve --sink obs --duck Music`` as a streamer runs it; its output
    appended to ``folder/serve.log``."""
    env = {**os.environ, "OBS_WEBSOCKET_PASSWORD": PASSWORD, "PYTHONPATH": str(REPO), "OBS_TTS_TOKEN": ""}
    command = [sys.executable, "-m", "tts_core.cli", "-v", "serve", "--sink", "obs",
               "--obs-port", str(obs_port), "--port", str(listener_port), "--no-persist",
               "--data-dir", str(folder / "data"),
               "--duck", MUSIC, "--duck-db", str(DEPTH_DB)]
    with (folder / "serve.log").open("a") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)


def speak_once(listener_port: int, text: str) -> None:
    client = ListenerClient(listener_port)
    try:
        client.subscribe(timeout=20)
        message_id = client.queue({"type": "tts", "text": text})
        client.wait_event("playback_finished", message_id, timeout=60)
    finally:
        client.close()


def test_serve_ducking_across_obs_and_serve_restarts(tmp_path: Path) -> None:
    """OBS closed while serve runs saves our filter in its collection; started again on it,
    serve adopts that filter (no second one, no refusal) and the music still ducks. serve
    killed leaves the filter in OBS; the next serve adopts it, and its clean stop removes
    exactly our filter."""
    tone = write_tone(tmp_path / "tone.wav")
    obs_port, listener_port = find_free_port(), find_free_port()
    log_path = tmp_path / "serve.log"
    setup = ObsSetup(password=PASSWORD, sources=[music_spec(tone)])
    with FixedPortObs(setup, tmp_path / "obs", obs_port) as obs:
        mine = add_my_gain(obs.client)
        serve = start_serve(obs_port, listener_port, tmp_path)
        try:
            wait_for_our_filter(obs.client, timeout=30)
            ours = filters(obs.client, MUSIC)[FILTER_NAME]
            for _ in range(3):  # if it comes to SIGINT, OBS 29 can deadlock in its handler before saving
                if obs.quit():
                    break
                obs.start_again()
                wait_for_our_filter(obs.client, timeout=30)
            else:
                raise AssertionError("OBS never closed cleanly")
            assert FILTER_NAME in obs.saved_collection(), "OBS did not save our filter with the collection"

            obs.start_again()  # on the saved collection: our filter is there from the start
            assert filters(obs.client, MUSIC) == {MY_GAIN: mine, FILTER_NAME: ours}
            client = ListenerClient(listener_port)
            try:
                client.subscribe(timeout=20)
                check_ducked(record_one_clip(obs, client), DEPTH_DB)  # serve is back on OBS
            finally:
                client.close()
            assert filters(obs.client, MUSIC) == {MY_GAIN: mine, FILTER_NAME: ours}

            serve.kill()  # no clean stop: our filter stays in OBS
            serve.wait(10)
            assert filters(obs.client, MUSIC) == {MY_GAIN: mine, FILTER_NAME: ours}
            serve = start_serve(obs_port, listener_port, tmp_path)
            speak_once(listener_port, "the next serve adopts the filter the killed one left")
            assert filters(obs.client, MUSIC) == {MY_GAIN: mine, FILTER_NAME: ours}
        finally:
            serve.send_signal(signal.SIGINT)
            serve.wait(15)
        output = log_path.read_text(encoding="utf-8", errors="replace")
        assert serve.returncode == 0, output
        assert output.count(f"added our filter to {MUSIC!r}") == 1, output  # the first start only
        assert "OBS refused a filter change" not in output, output
        assert filters(obs.client, MUSIC) == {MY_GAIN: mine}
