"""MediaSourceKeeper alone (no sink, no threads): when it looks at the media source and what it does."""

from __future__ import annotations

from obs_fake import FakeItem, FakeObs

from tts_core.obs.script.api import TTS_OUTPUT_CHANNEL, ObsApi
from tts_core.obs.script.media_source import READY_CHECK_EVERY_TICKS, MediaSourceKeeper

MEDIA = "TTS Audio"


def test_nothing_is_created_before_obs_has_loaded_then_the_next_tick_sets_it_up() -> None:
    obs = FakeObs(loaded=False)
    keeper = MediaSourceKeeper(ObsApi(obs), MEDIA)
    assert not any(keeper.loaded() for _ in range(READY_CHECK_EVERY_TICKS * 2))
    assert MEDIA not in obs.sources and not keeper.ready
    obs.current_scene = obs.add_scene("Scene")  # OBS has loaded; no event came (script added later)
    assert any(keeper.loaded() for _ in range(READY_CHECK_EVERY_TICKS))
    keeper.set_up_if_asked(busy=False)
    assert obs.channels[TTS_OUTPUT_CHANNEL] is obs.sources[MEDIA] and keeper.away is None


def test_it_looks_at_the_setup_every_check_interval_and_at_once_after_a_scene_change() -> None:
    obs = FakeObs()
    keeper = MediaSourceKeeper(ObsApi(obs), MEDIA, check_every_s=0.5)
    keeper.frontend_ready()
    keeper.set_up_if_asked(busy=False)
    keeper.check(10.0, busy=False)
    live = FakeItem(obs.sources[MEDIA])
    obs.current_scene.items.append(live)  # type: ignore[union-attr]
    keeper.check(10.4, busy=False)
    assert live.visible, "looked again before the interval"
    keeper.check(10.5, busy=False)
    assert not live.visible
    other = FakeItem(obs.sources[MEDIA])
    obs.add_scene("Other", other)
    keeper.scenes_changed()  # OBS's UI thread: the Scenes list changed
    keeper.check(10.51, busy=False)
    assert not other.visible and any("'Other'" in note for note in keeper.setup_notes())


def test_a_file_on_the_source_stays_while_a_clip_is_on_it() -> None:
    obs = FakeObs()
    keeper = MediaSourceKeeper(ObsApi(obs), MEDIA, check_every_s=0.0)
    keeper.frontend_ready()
    keeper.set_up_if_asked(busy=False)
    source = obs.sources[MEDIA]
    source.settings["local_file"], source.state = "/streamer/song.mp3", "ended"
    keeper.check(1.0, busy=True)
    assert source.settings["local_file"] == "/streamer/song.mp3"
    keeper.check(2.0, busy=False)
    assert source.settings["local_file"] == ""
    keeper.forget()
    assert obs.outstanding_refs() == 0
