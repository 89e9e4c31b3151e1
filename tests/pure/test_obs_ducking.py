"""Ducking: the Compressor settings for a chosen depth, the plan of filter changes, and the
script's DuckingKeeper carrying it out on a fake obspython (only our filter is ever touched)."""

from __future__ import annotations

from typing import Any

import pytest
from obs_fake import FakeObs, FakeSource

from tts_core.config import DuckingConfig
from tts_core.obs.ducking import (
    COMPRESSOR_DEFAULTS,
    FILTER_KIND,
    FILTER_NAME,
    RATIO,
    SPEECH_LEVEL_DB,
    AddFilter,
    Ducking,
    RemoveFilter,
    UpdateFilter,
    join_sources,
    missing_sources,
    parse_sources,
    plan,
    same_settings,
)
from tts_core.obs.script.api import ObsApi
from tts_core.obs.script.ducking import DuckingKeeper, audio_source_names
from tts_core.obs.script.settings import DEFAULTS, config_from_settings

MEDIA = "TTS Audio"


def gain_reduction(settings: dict[str, Any], envelope_db: float) -> float:
    """What OBS 29's Compressor takes off at a sidechain envelope (compressor-filter.c)."""
    slope = 1 - 1 / settings["ratio"]
    return max(0.0, slope * (envelope_db - settings["threshold"]))


@pytest.mark.parametrize("depth", [1, 6, 12, 20])
def test_speech_at_the_reference_level_lowers_by_the_chosen_depth_and_silence_by_nothing(depth: int) -> None:
    settings = Ducking(("Music",), depth_db=depth).filter_settings(MEDIA)
    assert settings["ratio"] == RATIO and settings["sidechain_source"] == MEDIA
    assert gain_reduction(settings, SPEECH_LEVEL_DB) == pytest.approx(depth, abs=0.1)
    assert gain_reduction(settings, SPEECH_LEVEL_DB + 10) > depth  # louder speech: lower still
    assert gain_reduction(settings, -90.0) == 0.0  # no clip: the music is untouched
    assert -60.0 <= settings["threshold"] <= 0.0  # OBS's range


def test_values_out_of_obs_ranges_are_refused_or_clamped() -> None:
    with pytest.raises(ValueError, match=r"ducking\.db .* must be 1 to 20 dB, got 0"):
        Ducking(depth_db=0)
    with pytest.raises(ValueError, match=r"ducking\.release_ms .* must be 1 to 1000 ms, got 5000"):
        Ducking(release_ms=5000)
    clamped = DuckingConfig.clamped([" Music ", "", "Music", "Game"], 99, 0, 2000.4)  # the panel's values
    assert clamped == DuckingConfig(["Music", "Game"], 20, 1, 1000)
    assert Ducking.from_config(clamped) == Ducking(("Music", "Game"), 20, 1, 1000)


def test_the_stored_setting_is_one_name_per_line_so_names_may_hold_commas() -> None:
    assert parse_sources("Music, loud\n\n Game \n") == ["Music, loud", "Game"]
    assert join_sources(["Music, loud", "Game", "Music, loud", " "]) == "Music, loud\nGame"
    values = {"ducking_sources": "Music\nGame", "ducking_db": 15, "ducking_attack_ms": 10,
              "ducking_release_ms": 200}
    # the panel's Ducking group is the config section ``ducking``: one setting, two places to set it
    config = config_from_settings({**DEFAULTS, **values})
    assert config.ducking == DuckingConfig(["Music", "Game"], 15, 10, 200)
    assert config_from_settings(DEFAULTS).ducking == DuckingConfig()  # an old scene collection: off


def test_plan_adds_updates_and_removes_only_on_the_sources_it_should() -> None:
    ducking = Ducking(("Music", "Game", "Gone"), depth_db=12)
    wanted = ducking.filter_settings(MEDIA)
    stale = {**wanted, "sidechain_source": "Old TTS"}
    ours = {"Music": wanted, "Game": stale, "Desktop Audio": wanted}
    changes = plan(ducking, MEDIA, ours, ["Music", "Game", "Desktop Audio", "Mic", MEDIA])
    assert changes == [RemoveFilter("Desktop Audio"), UpdateFilter("Game", wanted)]
    assert missing_sources(ducking, ["Music", "Game"]) == ["Gone"]
    fresh = plan(ducking, MEDIA, {}, ["Music", "Game", "Mic"])
    assert fresh == [AddFilter("Music", wanted), AddFilter("Game", wanted)]


def test_the_tts_source_itself_is_never_ducked() -> None:
    assert plan(Ducking((MEDIA,)), MEDIA, {}, [MEDIA]) == []


def test_settings_obs_leaves_out_are_its_defaults() -> None:
    wanted = Ducking(("Music",), attack_ms=6, release_ms=60).filter_settings(MEDIA)
    listed = {k: v for k, v in wanted.items() if COMPRESSOR_DEFAULTS[k] != v}  # as obs-websocket lists them
    assert "output_gain" not in listed
    assert same_settings(listed, wanted)
    assert not same_settings({**listed, "threshold": wanted["threshold"] + 1}, wanted)


# -- the script's keeper on a fake obspython ------------------------------------------------------


def streamer_obs() -> tuple[FakeObs, FakeSource, FakeSource]:
    obs = FakeObs()
    obs.add(MEDIA)
    music = obs.add("Music")
    own = FakeSource(FILTER_NAME.replace("TTS", "My"), FILTER_KIND, {"ratio": 4.0})  # their own compressor
    gain = FakeSource("My gain", "gain_filter", {"db": -2.0})
    music.filters += [own, gain]
    obs.add("Game")
    obs.add("Webcam").audio = False
    return obs, music, own


def names(source: FakeSource) -> list[str]:
    return [f.name for f in source.filters]


def test_keeper_adds_its_filter_updates_it_live_and_removes_only_its_own() -> None:
    obs, music, own = streamer_obs()
    sidechain = [MEDIA]
    keeper = DuckingKeeper(ObsApi(obs), lambda: sidechain[0], check_every_s=2.0)
    keeper.want(Ducking(("Music",), depth_db=12))
    keeper.tick(10.0)
    assert names(music) == [own.name, "My gain", FILTER_NAME]
    ours = music.filters[-1]
    assert ours.kind == FILTER_KIND and ours.settings["sidechain_source"] == MEDIA
    assert ours.settings["threshold"] == Ducking(depth_db=12).threshold_db
    assert keeper.ducked == ["Music"] and "Music by 12 dB" in keeper.status_line()

    keeper.want(Ducking(("Music",), depth_db=20))  # the panel's slider: applied on the next frame
    keeper.tick(10.02)
    assert music.filters[-1] is ours and ours.settings["threshold"] == Ducking(depth_db=20).threshold_db

    sidechain[0] = "TTS Voice"  # the TTS media source was renamed (picked in the panel)
    obs.add("TTS Voice")
    keeper.tick(10.04)
    assert ours.settings["sidechain_source"] == "TTS Voice"

    keeper.want(Ducking())  # unticked
    keeper.tick(10.06)
    assert names(music) == [own.name, "My gain"]
    assert own.settings == {"ratio": 4.0} and music.filters[1].settings == {"db": -2.0}
    assert keeper.status_line() == ""
    assert obs.outstanding_refs() == 0 and obs.filter_refs() == 0


def test_keeper_looks_again_only_every_interval_and_adds_a_source_that_appears() -> None:
    obs, _, _ = streamer_obs()
    keeper = DuckingKeeper(ObsApi(obs), lambda: MEDIA, check_every_s=2.0)
    keeper.want(Ducking(("Music", "Radio")))
    keeper.tick(10.0)
    assert keeper.missing == ["Radio"] and "not in OBS: Radio" in keeper.status_line()
    radio = obs.add("Radio")
    keeper.tick(11.0)
    assert radio.filters == []
    keeper.tick(12.0)
    assert names(radio) == [FILTER_NAME] and keeper.missing == []


def test_with_ducking_off_it_looks_once_and_removes_what_an_earlier_run_left() -> None:
    obs, music, own = streamer_obs()
    music.filters.append(FakeSource(FILTER_NAME, FILTER_KIND, {"ratio": 32.0}))  # saved at OBS's exit
    keeper = DuckingKeeper(ObsApi(obs), lambda: MEDIA, check_every_s=2.0)
    keeper.tick(1.0)
    assert names(music) == [own.name, "My gain"]
    looks = len(obs.log)
    music.filters.append(FakeSource(FILTER_NAME, FILTER_KIND, {}))
    keeper.tick(10.0)
    assert len(obs.log) == looks, "looked again while ducking is off"


def test_unload_removes_every_filter_of_ours_and_nothing_else() -> None:
    obs, music, own = streamer_obs()
    game = obs.sources["Game"]
    keeper = DuckingKeeper(ObsApi(obs), lambda: MEDIA)
    keeper.want(Ducking(("Music", "Game")))
    keeper.tick(1.0)
    assert FILTER_NAME in names(game)
    assert keeper.remove_all() == 2
    assert names(music) == [own.name, "My gain"] and names(game) == []
    assert obs.outstanding_refs() == 0 and obs.filter_refs() == 0


def test_the_panel_lists_sources_with_audio_but_not_the_tts_source() -> None:
    obs, _, _ = streamer_obs()
    assert audio_source_names(ObsApi(obs), excluding=MEDIA) == ["Game", "Music"]
    assert obs.outstanding_refs() == 0
