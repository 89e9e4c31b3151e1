"""A machine without espeak-ng (hidden from OBS's PATH): the OBS script with its default
engine starts without an error, speaks with the system voice through pyttsx3, and says so."""

from __future__ import annotations

import os
from pathlib import Path

from obs_harness import ObsHarness, find_free_port
from tts_stack import ListenerClient, script_setup

from tts_core.engines.support import installed


def path_without_espeak(folder: Path) -> str:
    """A PATH of links to every program on the PATH except espeak-ng and espeak."""
    folder.mkdir()
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            link = folder / name
            if name in ("espeak-ng", "espeak") or link.exists():
                continue
            link.symlink_to(Path(directory) / name)
    return str(folder)


def test_without_espeak_ng_the_default_engine_speaks_with_the_system_voice(tmp_path: Path) -> None:
    assert installed("pyttsx3"), "pyttsx3 is missing: pip install -e '.[dev]'"
    port = find_free_port()
    setup = script_setup(tmp_path, port, rate_limit_per_minute=0)
    setup.extra_env = {**setup.extra_env, "PATH": path_without_espeak(tmp_path / "bin")}
    obs = ObsHarness(setup, workdir=tmp_path / "obs")
    obs.start()
    client = ListenerClient(port)
    ok = False
    try:
        obs.wait_for_log(r"TTS queue started", timeout=30)
        log = obs.read_log()
        assert "espeak-ng is not installed: system voice (pyttsx3) speaks instead" in log
        client.subscribe()
        first = client.queue({"type": "tts", "text": "Hello from the system voice"}, retry_for=10)
        spoken = client.wait_event("playback_finished", first, timeout=60)
        assert spoken["duration_ms"] > 500, spoken
        # the events name the engine that really spoke, and the one it stood in for
        assert spoken["engine"] == "pyttsx3" and spoken["fallback_from"] == "espeak", spoken
        assert spoken.get("spoken_voice"), spoken
        assert "failed" not in [e["event"] for e in client.events if e.get("message_id") == first]
        ok = True
    finally:
        client.close()
        obs.stop(check=ok)
