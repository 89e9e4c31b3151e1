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
