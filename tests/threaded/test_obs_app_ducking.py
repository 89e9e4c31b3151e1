"""The OBS script's app applies the Ducking settings live: on OBS's graphics thread (the pump),
after the settings have been quiet, through the one settings path (the config section
``ducking``): a change refused for another setting changes no filter either, as the status says."""

from __future__ import annotations

from typing import Any

from doubles import ToneEngine, wait_until
from obs_fake import FakeFrames, FakeObs, FakeSource

from tts_core.obs.ducking import FILTER_NAME, Ducking
from tts_core.obs.script.api import ObsApi
from tts_core.obs.script.app import ObsTTSApp
from tts_core.obs.script.pump import Pump
from tts_core.obs.script.settings import DEFAULTS

MEDIA = "TTS Audio"


def test_ticking_and_unticking_a_source_adds_and_removes_only_our_filter(monkeypatch: Any,
                                                                         tmp_path: Any) -> None:
    monkeypatch.setenv("OBS_TTS_DATA_DIR", str(tmp_path))
    obs, pump = FakeObs(), Pump()
    music = obs.add("Music")
    music.filters.append(FakeSource("My gain", "gain_filter", {"db": -2.0}))
    app = ObsTTSApp(ObsApi(obs), pump, {**DEFAULTS, "persist": False}, listener_factory=None,
                    debounce_s=0.05, engine=ToneEngine(20))
    app.media_source.frontend_ready()
    frames = FakeFrames(obs, pump)
    app.start()
    try:
        assert wait_until(lambda: app.is_running)
        assert [f.name for f in music.filters] == ["My gain"]

        # ticked, with a setting the queue refuses in the same change: nothing of it applies
        app.settings_changed({**app.applied, "ducking_sources": "Music", "ducking_db": 15,
                              "voice_aliases": "no equals sign"})
        assert wait_until(lambda: "voice_aliases" in app.errors.get("settings", ""))
        for _ in range(3):  # frames (their ducking tick first) after the refusal: nothing changed
            pump.call(lambda: None)
        assert [f.name for f in music.filters] == ["My gain"]
        assert "Ducking" not in app.status_text()

        # the refused setting fixed: the ducking applies with the rest
        app.settings_changed({**app.applied, "ducking_sources": "Music", "ducking_db": 15,
                              "voice_aliases": ""})
        assert wait_until(lambda: [f.name for f in music.filters] == ["My gain", FILTER_NAME])
        ours = music.filters[1]
        assert ours.settings["sidechain_source"] == MEDIA
        assert ours.settings["threshold"] == Ducking(depth_db=15).threshold_db
        assert "settings" not in app.errors
        assert app.manager is not None and app.manager.config.ducking.sources == ["Music"]
        assert wait_until(lambda: "Ducking Music by 15 dB" in app.status_text())

        app.settings_changed({**app.applied, "ducking_sources": "", "voice_aliases": ""})
        assert wait_until(lambda: [f.name for f in music.filters] == ["My gain"])
        assert music.filters[0].settings == {"db": -2.0}
    finally:
        assert app.shutdown()
        frames.stop()
    assert obs.filter_refs() == 0
