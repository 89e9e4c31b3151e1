"""Alert sounds: the config shape, which sound an event gets, the file checks when the
settings are applied (a bad file is left out and named, the rest applies), the volume of
a WAV copy, and the OBS panel's Alert sounds group."""

from __future__ import annotations

import array
import io
import wave
from pathlib import Path

import pytest
from fakes.audio import wav_tone

from tts_core import TTSConfig, TTSQueueManager
from tts_core.config import ConfigError, LoudnessConfig
from tts_core.config.alerts import AlertsConfig, sound_for
from tts_core.obs.script.settings import DEFAULTS, config_from_settings
from tts_core.runtime.alerts import AlertSounds, check_alert_file, scaled_wav


def tone_wav(path: Path, ms: int = 200, amplitude: int = 16000) -> Path:
    return wav_tone(path, ms, freq=1000, amplitude=amplitude, rate=8000)


def peak(data: bytes) -> int:
    with wave.open(io.BytesIO(data)) as wav:
        return max(abs(s) for s in array.array("h", wav.readframes(wav.getnframes())))


# -- the config shape --------------------------------------------------------------------

def test_one_sound_or_tiers_round_trip_through_json():
    data = {"follow": {"file": "/s/follow.wav", "volume": 80, "alert_only": True},
            "donation": [{"min_amount": 50, "file": "/s/big.wav"}, {"min_amount": 0, "file": "/s/coin.wav"}]}
    config = TTSConfig.from_dict({"alerts": data})
    assert config.to_dict()["alerts"] == data
    assert TTSConfig.from_dict(config.to_dict()).alerts == config.alerts
    tiers = config.alerts.tiers("donation")
    assert [t.min_amount for t in tiers] == [0, 50]
    follow = config.alerts.tiers("follow")[0]
    assert (follow.volume, follow.alert_only) == (80, True)


@pytest.mark.parametrize("alerts, named", [
    ({"dance": {"file": "/a.wav"}}, "alerts.dance"),
    ({"follow": {"file": ""}}, "alerts.follow.file"),
    ({"follow": {"file": "/a.wav", "volume": 120}}, "alerts.follow.volume"),
    ({"follow": {"file": "/a.wav", "volume": -1}}, "alerts.follow.volume"),
    ({"follow": {"file": "/a.wav", "loud": True}}, "alerts.follow.loud"),
    ({"follow": {"file": "/a.wav", "alert_only": "yes"}}, "alerts.follow.alert_only"),
    ({"donation": [{"file": "/a.wav"}, {"file": "/b.wav", "min_amount": -5}]},
     "alerts.donation[1].min_amount"),
    ({"donation": [{"file": "/a.wav"}, {"file": "/b.wav"}]}, "same min_amount"),
    ({"follow": "/a.wav"}, "alerts.follow must be an object"),
])
def test_a_wrong_shape_is_an_error_naming_the_key(alerts, named):
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
        TTSConfig.from_dict({"alerts": alerts})


def test_the_tier_with_the_highest_minimum_not_above_the_amount_plays():
    alerts = AlertsConfig.from_dict({"donation": [{"min_amount": 10, "file": "/ten.wav"},
                                                  {"min_amount": 100, "file": "/hundred.wav"}],
                                     "follow": {"file": "/follow.wav"}})
    assert sound_for(alerts, "donation", 5) is None  # below every tier
    assert sound_for(alerts, "donation", 10).file == "/ten.wav"
    assert sound_for(alerts, "donation", 99.99).file == "/ten.wav"
    assert sound_for(alerts, "donation", 250).file == "/hundred.wav"
    assert sound_for(alerts, "follow", None).file == "/follow.wav"
    assert sound_for(alerts, "raid", 10) is None


# -- the files, checked when the settings apply -------------------------------------------

def test_file_checks_name_the_reason(tmp_path):
    good = tone_wav(tmp_path / "good.wav")
    assert check_alert_file(str(good)) is None
    assert check_alert_file(str(good), 30) is None  # a 16-bit WAV takes any volume
    assert check_alert_file(str(tmp_path / "gone.wav")) == "file not found"
    assert check_alert_file(str(tmp_path)) == "not a file"
    (tmp_path / "notes.wav").write_text("this is text, not sound")
    assert "not a WAV, MP3, Ogg Vorbis or FLAC file" in check_alert_file(str(tmp_path / "notes.wav"))
    (tmp_path / "song.ogg").write_bytes(b"OggS\x00\x02" + bytes(60))
    assert check_alert_file(str(tmp_path / "song.ogg")) == \
        "not a readable Ogg Vorbis file (could not open/decode data)"
    (tmp_path / "song.m4a").write_bytes(bytes(8) + b"ftypM4A " + bytes(60))
    assert check_alert_file(str(tmp_path / "song.m4a")) == \
        "M4A is not supported: use a WAV, MP3, Ogg Vorbis or FLAC file"
    silent = tmp_path / "empty.wav"
    with wave.open(str(silent), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
    assert "no sound" in check_alert_file(str(silent))


def test_a_refused_file_is_named_and_the_rest_of_the_settings_still_apply(tmp_path, caplog):
    good = tone_wav(tmp_path / "coin.wav")
    manager = TTSQueueManager(TTSConfig())
    config = TTSConfig.from_dict({"tts_queue": {"max_queue_size": 7}, "alerts": {
        "donation": [{"min_amount": 0, "file": str(good)},
                     {"min_amount": 50, "file": str(tmp_path / "missing.wav")}],
        "follow": {"file": str(tmp_path)}}})
    manager.reconfigure(config)
    assert manager.config.max_queue_size == 7  # applied
    refused = manager.get_stats()["alert_sounds_refused"]
    missing = tmp_path / "missing.wav"
    assert refused == [f"alert sound for donation (from 50) refused: {missing}: file not found",
                       f"alert sound for follow refused: {tmp_path}: not a file"]
    assert any(r.levelname == "WARNING" and "missing.wav" in r.getMessage() for r in caplog.records)
    assert manager.alerts.choose("donation", 500).file == str(good)  # the tier that works
    assert manager.alerts.choose("follow", None) is None


def test_with_loudness_off_volume_scales_a_copy_of_the_wav(tmp_path):
    source = tone_wav(tmp_path / "t.wav", amplitude=20000)
    data = source.read_bytes()
    assert abs(peak(scaled_wav(data, 50)) - peak(data) // 2) <= 1
    assert peak(scaled_wav(data, 0)) == 0
    sounds = AlertSounds(TTSConfig(loudness=LoudnessConfig(enabled=False)))
    half = sounds.prepare_alert(str(source), 50, clips=None)
    assert half is not None and half.format == "wav" and half.duration_ms == 200
    assert abs(peak(half.data) - 10000) <= 1
    assert source.read_bytes() == data  # the streamer's file is never changed
    full = sounds.prepare_alert(str(source), 100, clips=None)
    assert full is not None and full.path == source  # played as it is


def test_alert_sounds_reach_the_voices_loudness_and_volume_lowers_them_from_there(tmp_path):
    from tts_core.audio.decode import decode
    from tts_core.audio.loudness import integrated_loudness

    def lufs(clip) -> float:
        sound = decode(clip.data)
        return integrated_loudness(sound.samples, sound.sample_rate, dual_mono=True)

    source = tone_wav(tmp_path / "t.wav", amplitude=20000, ms=1000)
    data = source.read_bytes()
    sounds = AlertSounds(TTSConfig(loudness=LoudnessConfig(target_lufs=-20)))
    full = sounds.prepare_alert(str(source), 100, clips=None)
    half = sounds.prepare_alert(str(source), 50, clips=None)
    assert full is not None and half is not None and full.format == half.format == "wav"
    assert abs(lufs(full) - -20) <= 0.5
    assert abs(lufs(half) - (-20 - 6.02)) <= 0.5  # 50 %: 6 dB below the voices
    assert source.read_bytes() == data  # the streamer's file is never changed
    sounds.prepare_config(TTSConfig(loudness=LoudnessConfig(target_lufs=-14))).commit()
    louder = sounds.prepare_alert(str(source), 100, clips=None)  # the new target applies live
    assert louder is not None and abs(lufs(louder) - -14) <= 0.5


def test_a_file_gone_at_play_time_is_logged_once(tmp_path, caplog):
    source = tone_wav(tmp_path / "t.wav")
    sounds = AlertSounds(TTSConfig())
    assert sounds.prepare_alert(str(source), 100, clips=None) is not None
    source.unlink()
    assert sounds.prepare_alert(str(source), 100, clips=None, msg_id="m1") is None
    assert sounds.prepare_alert(str(source), 100, clips=None, msg_id="m2") is None
    warnings = [r.getMessage() for r in caplog.records if "cannot play" in r.getMessage()]
    assert warnings == [f"alert sound {source} cannot play (file not found); m1 is spoken without it"]
    tone_wav(source)  # back: it plays again
    assert sounds.prepare_alert(str(source), 100, clips=None) is not None


# -- the OBS panel ------------------------------------------------------------------------

def test_the_panel_group_maps_to_the_alerts_section():
    values = dict(DEFAULTS, alert_donation_file="/s/coin.wav", alert_donation_volume=60,
                  alert_donation_2_from=50.0, alert_donation_2_file="/s/big.wav",
                  alert_donation_3_from=0.0, alert_donation_3_file="/s/unused.wav",
                  alert_follow_file="/s/follow.mp3", alert_follow_only=True, alert_raid_file="")
    base = TTSConfig.from_dict({"alerts": {"gift_bomb": {"file": "/s/bomb.wav"},
                                           "raid": {"file": "/s/old-raid.wav"}}})
    config = config_from_settings(values, base=base)
    assert config.alerts.to_dict() == {
        "gift_bomb": {"file": "/s/bomb.wav"},  # not in the panel: kept
        "donation": [{"min_amount": 0, "file": "/s/coin.wav", "volume": 60},
                     {"min_amount": 50.0, "file": "/s/big.wav", "volume": 100}],
        "follow": {"file": "/s/follow.mp3", "volume": 100, "alert_only": True},
    }
    assert config_from_settings(DEFAULTS).alerts.sounds == {}
