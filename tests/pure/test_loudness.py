"""Every voice equally loud: the loudness meter against BS.1770's reference signals, the
true-peak limiter, and normalization of clips of every shape (issue 17, item 7)."""

from __future__ import annotations

import io
import logging
import math
import sys
import wave

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tts_core.audio.decode import Sound, decode, encode_wav
from tts_core.audio.leveller import Leveller, target_for
from tts_core.audio.loudness import (
    SILENCE,
    integrated_loudness,
    k_weighting,
    true_peak_db,
)
from tts_core.audio.normalize import limiter_gain, normalize_audio, normalize_sound
from tts_core.config import ConfigError, LoudnessConfig, TTSConfig
from tts_core.domain.audio import AudioFormatError, Clip, silent_wav
from tts_core.obs.script.settings import config_from_settings


def sine(freq: float, dbfs: float, seconds: float, rate: int = 48000, channels: int = 1,
         phase: float = 0.0) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    wave_ = 10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t + phase)
    return np.tile(wave_, (channels, 1))


def wav_bytes(samples: np.ndarray, rate: int, width: int = 2) -> bytes:
    """A PCM WAV of ``samples`` (channels, frames) with ``width``-byte samples."""
    frames = samples.T
    if width == 1:
        raw = np.clip(np.rint(frames * 128 + 128), 0, 255).astype(np.uint8).tobytes()
    elif width == 3:
        ints = np.clip(np.rint(frames * 2**23), -2**23, 2**23 - 1).astype("<i4")
        raw = ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        dtype, scale = {2: ("<i2", 2**15), 4: ("<i4", 2**31)}[width]
        raw = np.clip(np.rint(frames * scale), -scale, scale - 1).astype(dtype).tobytes()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(samples.shape[0])
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(raw)
    return buf.getvalue()


# -- the meter against the standard ----------------------------------------------------------


def test_k_weighting_at_48_khz_is_the_standards_table():
    b1, a1, b2, a2 = k_weighting(48000)
    assert b1 == pytest.approx((1.53512485958697, -2.69169618940638, 1.19839281085285), abs=1e-9)
    assert a1 == pytest.approx((1.0, -1.69065929318241, 0.73248077421585), abs=1e-9)
    assert b2 == (1.0, -2.0, 1.0)
    assert a2 == pytest.approx((1.0, -1.99004745483398, 0.99007225036621), abs=1e-9)


@pytest.mark.parametrize("rate", [16000, 22050, 24000, 44100, 48000])
def test_a_1_khz_sine_at_minus_20_dbfs_in_one_channel_reads_minus_23_lufs(rate):
    # BS.1770-4: a 1 kHz sine at 0 dBFS in one channel reads -3.01 LKFS.
    assert integrated_loudness(sine(1000, -20, 5, rate), rate) == pytest.approx(-23.0, abs=0.1)


def test_stereo_counts_both_channels_and_dual_mono_counts_a_mono_clip_twice():
    stereo = sine(1000, -20, 5, channels=2)
    mono = sine(1000, -20, 5)
    assert integrated_loudness(stereo, 48000) == pytest.approx(-20.0, abs=0.1)
    assert integrated_loudness(mono, 48000, dual_mono=True) == pytest.approx(-20.0, abs=0.1)
    assert integrated_loudness(stereo, 48000, dual_mono=True) == integrated_loudness(stereo, 48000)


def test_silence_and_sound_below_the_absolute_gate_are_silence():
    assert integrated_loudness(np.zeros((1, 48000)), 48000) == SILENCE
    assert integrated_loudness(sine(1000, -80, 2), 48000) == SILENCE
    assert integrated_loudness(np.zeros((1, 0)), 48000) == SILENCE
    assert true_peak_db(np.zeros((1, 100)), 48000) == SILENCE


def test_silence_between_words_does_not_make_a_clip_quieter():
    tone = sine(1000, -20, 10)
    with_pauses = np.concatenate([tone, np.zeros((1, 48000 * 3)), tone], axis=1)
    # only the few blocks that straddle a tone's end and the pause count below -23
    assert integrated_loudness(with_pauses, 48000) == pytest.approx(-23.0, abs=0.15)


def test_the_relative_gate_leaves_out_quiet_parts():
    loud = sine(1000, -20, 10)
    quiet = sine(1000, -45, 10)  # 25 LU below: under the relative gate (-10 LU)
    assert integrated_loudness(np.concatenate([loud, quiet], axis=1), 48000) == pytest.approx(-23.0, abs=0.1)
    closer = sine(1000, -26, 10)  # 6 LU below: counted
    both = integrated_loudness(np.concatenate([loud, closer], axis=1), 48000)
    assert -26.0 < both < -23.5


def test_a_clip_shorter_than_one_block_is_measured_as_one_block():
    assert integrated_loudness(sine(1000, -20, 0.2), 48000) == pytest.approx(-23.0, abs=0.15)


def test_true_peak_finds_the_peak_between_samples():
    # A quarter-rate sine sampled 45 degrees off its peaks: samples read -3 dB, the wave is at 0 dB.
    tone = sine(12000, -6, 1, 48000, phase=math.pi / 4)
    assert 20 * math.log10(np.max(np.abs(tone))) == pytest.approx(-9.0, abs=0.05)
    assert true_peak_db(tone, 48000) == pytest.approx(-6.0, abs=0.1)


def test_sample_rates_too_low_to_measure_are_refused():
    with pytest.raises(ValueError, match="too low"):
        k_weighting(4000)


# -- the limiter -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.05, 1.0), min_size=1, max_size=300), st.integers(1, 20), st.integers(1, 40))
def test_the_limiter_gain_never_lets_a_peak_above_what_it_allows(allowed, attack, hold):
    allowed_ = np.array(allowed)
    gain = limiter_gain(allowed_, attack, hold)
    assert gain.shape == allowed_.shape
    assert np.all(gain <= allowed_ + 1e-12)
    assert np.all(gain > 0)


def test_the_limiter_gain_is_one_far_from_peaks_and_ramps_smoothly():
    allowed = np.ones(1000)
    allowed[500] = 0.5
    gain = limiter_gain(allowed, 10, 40)
    assert gain[500] == pytest.approx(0.5)
    assert np.all(gain[:489] == 1.0) and np.all(gain[552:] == 1.0)
    assert np.max(np.abs(np.diff(gain))) <= 0.5 / 10 + 1e-12  # no step: a ramp over the attack


def test_a_clip_that_would_pass_the_ceiling_after_its_gain_is_limited():
    # A quiet voice-like tone with one loud click: the gain to -16 LUFS would put the click at +14 dBTP.
    tone = sine(300, -40, 3, 24000)
    tone[0, 36000] = 0.5
    sound, report = normalize_sound(Sound(tone, 24000), -16.0, -1.0)
    assert report.true_peak_before == pytest.approx(-6.0, abs=0.3)
    assert report.limited_db > 10
    assert true_peak_db(sound.samples, 24000) <= -1.0
    assert integrated_loudness(sound.samples, 24000, dual_mono=True) == pytest.approx(-16.0, abs=0.3)
    assert report.loudness_after == pytest.approx(-16.0, abs=0.3)


# -- normalization of clip files --------------------------------------------------------------


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_pcm_wavs_of_every_width_are_normalized_to_the_target(width):
    tone = sine(440, -30, 2, 22050) * np.hanning(44100)
    result = normalize_audio(wav_bytes(tone, 22050, width), -16.0, -1.0)
    out = decode(result.data)
    assert (out.sample_rate, out.channels, out.frames) == (22050, 1, 44100)
    assert integrated_loudness(out.samples, 22050, dual_mono=True) == pytest.approx(-16.0, abs=0.2)
    assert true_peak_db(out.samples, 22050) <= -1.0
    assert -36.0 < result.loudness_before < -30.0  # -30 dBFS peak, faded in and out
    with wave.open(io.BytesIO(result.data)) as w:
        assert w.getsampwidth() == 2


def test_a_stereo_clip_stays_stereo_and_is_measured_as_stereo():
    tone = sine(440, -30, 2, 44100, channels=2)
    result = normalize_audio(wav_bytes(tone, 44100), -20.0, -1.0)
    out = decode(result.data)
    assert out.channels == 2
    assert integrated_loudness(out.samples, 44100) == pytest.approx(-20.0, abs=0.1)


def test_silence_is_left_as_it_is():
    result = normalize_audio(silent_wav(800), -16.0, -1.0)
    assert result.loudness_before == SILENCE and result.gain_db == 0.0
    assert decode(result.data).samples.max() == 0.0
    assert result.duration_ms == 800
    assert result.describe() == "silence, left as it is"


def test_a_near_silent_clip_gets_at_most_30_db():
    result = normalize_audio(wav_bytes(sine(440, -60, 1, 22050), 22050), -16.0, -1.0)
    assert result.gain_db == pytest.approx(30.0)
    assert result.loudness_after == pytest.approx(result.loudness_before + 30.0, abs=0.1)


def test_bytes_that_are_not_audio_are_refused_naming_what_they_are():
    with pytest.raises(AudioFormatError, match="not WAV, MP3, FLAC or Ogg Vorbis"):
        normalize_audio(b"hello, this is text")
    with pytest.raises(AudioFormatError):
        normalize_audio(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")


def test_encode_and_decode_round_trip_16_bit():
    tone = sine(440, -10, 0.5, 16000, channels=2)
    back = decode(encode_wav(Sound(tone, 16000)))
    assert back.sample_rate == 16000 and back.channels == 2
    assert np.max(np.abs(back.samples - tone)) <= 1 / 32768


# -- the workers' step -------------------------------------------------------------------------


def test_the_leveller_hands_back_a_normalized_wav_clip_with_its_duration():
    clip = Clip.from_bytes(wav_bytes(sine(440, -30, 1.5, 22050), 22050))
    out = Leveller(LoudnessConfig()).level(clip, None, "m1")
    assert out.format == "wav" and out.duration_ms == clip.duration_ms == 1500
    assert normalize_audio(out.data).loudness_before == pytest.approx(-16.0, abs=0.2)


def test_the_leveller_does_nothing_when_switched_off():
    clip = Clip.from_bytes(wav_bytes(sine(440, -30, 1, 22050), 22050))
    assert Leveller(LoudnessConfig(enabled=False)).level(clip) is clip


def test_the_voice_volume_is_relative_to_the_target():
    assert target_for(-16.0, None) == target_for(-16.0, 1.0) == -16.0
    assert target_for(-16.0, 0.5) == pytest.approx(-22.02, abs=0.01)
    assert target_for(-16.0, 0.0) == pytest.approx(-76.0)
    clip = Clip.from_bytes(wav_bytes(sine(440, -30, 1.5, 22050), 22050))
    half = Leveller(LoudnessConfig()).level(clip, 0.5)
    assert normalize_audio(half.data).loudness_before == pytest.approx(-22.0, abs=0.2)


def test_without_numpy_clips_play_as_made_and_one_warning_says_how_to_install(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "tts_core.audio.normalize", None)
    leveller = Leveller()
    clip = Clip.from_bytes(wav_bytes(sine(440, -30, 1, 22050), 22050))
    with caplog.at_level(logging.WARNING, logger="tts_core.audio.leveller"):
        assert leveller.level(clip) is clip
        assert leveller.level(clip) is clip
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "pip install numpy miniaudio" in warnings[0], warnings


def test_without_miniaudio_mp3_clips_play_as_made_and_wav_clips_are_still_normalized(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "miniaudio", None)
    leveller = Leveller()
    mp3 = Clip(b"\xff\xfb\x90\x64" + b"\x00" * 400, "mp3", 100)
    wav = Clip.from_bytes(wav_bytes(sine(440, -30, 1, 22050), 22050))
    with caplog.at_level(logging.WARNING, logger="tts_core.audio.leveller"):
        assert leveller.level(mp3) is mp3
        assert leveller.level(mp3) is mp3
        assert leveller.level(wav).data != wav.data
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "pip install miniaudio" in warnings[0], warnings


def test_an_unreadable_clip_plays_as_made_with_a_warning_naming_the_message(caplog):
    broken = Clip(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk", "wav", 0)
    with caplog.at_level(logging.WARNING, logger="tts_core.audio.leveller"):
        assert Leveller().level(broken, None, "msg-7") is broken
    assert "msg-7" in caplog.text


# -- settings ----------------------------------------------------------------------------------


def test_the_loudness_section_loads_and_bad_values_name_the_key():
    config = TTSConfig.from_dict({"loudness": {"target_lufs": -18, "max_true_peak_db": -2}})
    assert (config.loudness.target_lufs, config.loudness.max_true_peak_db) == (-18, -2)
    assert TTSConfig().loudness == LoudnessConfig(enabled=True, target_lufs=-16.0, max_true_peak_db=-1.0)
    with pytest.raises(ConfigError, match=r"loudness\.target_lufs must be -40 to -5 LUFS"):
        TTSConfig.from_dict({"loudness": {"target_lufs": 0}})
    with pytest.raises(ConfigError, match=r"loudness\.max_true_peak_db must be"):
        TTSConfig.from_dict({"loudness": {"max_true_peak_db": 3}})
    with pytest.raises(ConfigError, match=r"unknown key loudness\.target"):
        TTSConfig.from_dict({"loudness": {"target": -16}})


def test_the_obs_panel_fields_set_the_loudness_section():
    config = config_from_settings({"loudness_enabled": False, "loudness_target_lufs": -20.0})
    assert (config.loudness.enabled, config.loudness.target_lufs) == (False, -20.0)
    assert config_from_settings({}).loudness == LoudnessConfig()
    with pytest.raises(ConfigError, match="target_lufs"):
        config_from_settings({"loudness_target_lufs": 2.0})
