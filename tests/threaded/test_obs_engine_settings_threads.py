"""The OBS panel's voice list never holds OBS's UI thread."""

from __future__ import annotations

import threading
import time

from tts_core.obs.script import app as obs_app


def test_voice_list_of_a_slow_engine_does_not_hold_the_ui_thread(monkeypatch):
    release = threading.Event()

    class Slow:
        def list_voices(self):
            release.wait(10)
            return []

    monkeypatch.setattr(obs_app, "create_engine", lambda name, **options: Slow())
    started = time.monotonic()
    assert obs_app.list_voices_briefly("edge", None, wait_s=0.2) is None
    assert time.monotonic() - started < 5
    release.set()

