"""A machine without espeak-ng (hidden from OBS's PATH): the OBS script with its default
engine starts without an error, speaks with the system voice through pyttsx3, and says so."""

from __future__ import annotations

import os
from pathlib import Path

from tts_stack import script_in_obs

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
    without = {"PATH": path_without_espeak(tmp_path / "bin")}
    with script_in_obs(tmp_path, extra_env=without, rate_limit_per_minute=0) as stack:
        client = stack.client
        log = stack.obs.read_log()
        assert "espeak-ng is not installed: system voice (pyttsx3) speaks instead" in log
        first = client.queue({"type": "tts", "text": "Hello from the system voice"}, retry_for=10)
        spoken = client.wait_event("playback_finished", first, timeout=60)
        assert spoken["duration_ms"] > 500, spoken
        # the events name the engine that really spoke, and the one it stood in for
        assert spoken["engine"] == "pyttsx3" and spoken["fallback_from"] == "espeak", spoken
        assert spoken.get("spoken_voice"), spoken
        assert "failed" not in [e["event"] for e in client.events if e.get("message_id") == first]
