"""`obs-tts serve --sink obs` (the command, as a user runs it) plays into a running OBS.

The obs-websocket address and password come from $OBS_WEBSOCKET_PORT and
$OBS_WEBSOCKET_PASSWORD; events go to the command's listener over HTTP.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from obs_harness import ObsHarness, ObsSetup, find_free_port
from tts_stack import MEDIA, PASSWORD, REPO, ListenerClient

MINE = "My TTS"  # a media source of the streamer's naming


def test_serve_with_the_obs_sink_plays_through_obs(tmp_path: Path) -> None:
    with ObsHarness(ObsSetup(password=PASSWORD), workdir=tmp_path / "obs") as obs:
        port = find_free_port()
        env = {**os.environ, "OBS_WEBSOCKET_PORT": str(obs.port), "OBS_WEBSOCKET_PASSWORD": PASSWORD,
               "PYTHONPATH": str(REPO)}
        command = [sys.executable, "-m", "tts_core.cli", "serve", "--sink", "obs", "--port", str(port),
                   "--no-persist"]
        serve = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True)
        try:
            client = ListenerClient(port)
            t0 = time.monotonic()
            message_id = client.queue({"type": "tts", "text": "hello from obs-tts serve"}, retry_for=15)
            started = obs.client.wait_for_event("MediaInputPlaybackStarted",
                                                lambda d: d["inputName"] == MEDIA, 15, t0)
            obs.client.wait_for_event("MediaInputPlaybackEnded", lambda d: d["inputName"] == MEDIA, 15,
                                      started.t)
            client.wait_idle(timeout=10)
        finally:
            serve.send_signal(signal.SIGINT)
            output, _ = serve.communicate(timeout=10)
        assert serve.returncode == 0, output
        assert f"playback_finished {message_id}" in " ".join(output.split())


def test_say_with_the_obs_sink_takes_the_obs_address_and_media_source_from_flags(tmp_path: Path) -> None:
    """`obs-tts say --sink obs` as a streamer tries a voice: OBS's port and the media source
    as flags (no $OBS_WEBSOCKET_PORT), the password from the environment."""
    with ObsHarness(ObsSetup(password=PASSWORD), workdir=tmp_path / "obs") as obs:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OBS_WEBSOCKET_")}
        env.update({"OBS_WEBSOCKET_PASSWORD": PASSWORD, "PYTHONPATH": str(REPO),
                    "OBS_TTS_DATA_DIR": str(tmp_path / "data")})
        t0 = time.monotonic()
        command = [sys.executable, "-m", "tts_core.cli", "say", "hello from obs-tts say", "--sink", "obs",
                   "--obs-port", str(obs.port), "--media-source", MINE]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "spoke " in done.stdout, done.stdout
        started = obs.client.wait_for_event("MediaInputPlaybackStarted", lambda d: d["inputName"] == MINE,
                                            5, t0)
        obs.client.wait_for_event("MediaInputPlaybackEnded", lambda d: d["inputName"] == MINE, 5, started.t)
        assert not [e for e in obs.client.events_named("MediaInputPlaybackStarted", after=t0)
                    if e.data["inputName"] == MEDIA], "it played through the default media source"
