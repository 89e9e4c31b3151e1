"""Every voice equally loud: bring a clip to one loudness target, its true peak below a ceiling.

``normalize_audio(data)`` takes the bytes of any supported clip (WAV, MP3, FLAC, Ogg
Vorbis) and returns a 16-bit PCM WAV at ``target_lufs`` integrated loudness whose true
peak stays below ``max_true_peak_db``; ``normalize_clip(path)`` does the same for a file
(alert sounds) and writes the WAV. Steps:

1. Measure integrated loudness (tts_core.audio.loudness) as the clip sounds in OBS's
   stereo mix: OBS plays a mono clip at full level on both channels, so a mono clip is
   measured as dual mono (3.01 LU above its one-channel reading). Silence (all below -70 LUFS)
   is returned as it is: there is nothing to make louder.
2. Apply one gain, ``target - measured``, at most ``MAX_GAIN_DB`` (a near-silent clip is
   not turned into amplified hiss).
3. Where the gained signal's true peak would pass the ceiling, a look-ahead limiter
   lowers the gain just around those peaks (it ramps down over ``LIMITER_ATTACK_SECONDS``
   before a peak, holds ``LIMITER_HOLD_SECONDS``, ramps back up): the gain it applies is
   never above what each peak allows, so no peak passes. The loudness this costs is
   measured again and made up (at most ``PASSES`` rounds).
4. A last true-peak check lowers the whole clip if the limiter's smoothing left a peak
   above the ceiling (rare, a fraction of a dB).

Parameters of the functions: ``target_lufs`` (default -16 LUFS), ``max_true_peak_db``
(default -1 dBTP).
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tts_core.audio.decode import Sound, decode, encode_wav
from tts_core.audio.loudness import SILENCE, Samples, integrated_loudness, peak_envelope, true_peak_db

DEFAULT_TARGET_LUFS = -16.0
DEFAULT_MAX_TRUE_PEAK_DB = -1.0
MAX_GAIN_DB = 30.0
LIMITER_ATTACK_SECONDS = 0.005
LIMITER_HOLD_SECONDS = 0.04
LIMITER_MARGIN_DB = 0.2  # the limiter aims this far below the ceiling (its gain is smoothed)
PASSES = 5
MIX = True  # loudness as heard in OBS's stereo mix: a mono clip plays on both channels (dual mono)
TOLERANCE_LU = 0.1


@dataclass(frozen=True)
class NormalizedClip:
    """The result: ``data`` (a 16-bit PCM WAV), ``path`` (where ``normalize_clip`` wrote it),
    loudness (LUFS) and true peak (dBTP) ``before`` and ``after`` (``-inf`` = silence),
    ``gain_db`` (the gain applied), ``limited_db`` (the most the limiter took off a peak;
    0 = it did nothing), ``duration_ms``."""

    data: bytes
    loudness_before: float
    loudness_after: float
    true_peak_before: float
    true_peak_after: float
    gain_db: float
    limited_db: float
    duration_ms: int
    path: Path | None = None

    def describe(self) -> str:
        """One line for logs: "-20.5 -> -16.0 LUFS (gain +4.5 dB, true peak -1.3 dBTP)"."""
        if self.loudness_before == SILENCE:
            return "silence, left as it is"
        limited = f", limiter -{self.limited_db:.1f} dB" if self.limited_db > 0 else ""
        return (f"{self.loudness_before:.1f} -> {self.loudness_after:.1f} LUFS (gain {self.gain_db:+.1f} dB"
                f"{limited}, true peak {self.true_peak_after:.1f} dBTP)")


def _db_to_gain(db: float) -> float:
    return float(10 ** (db / 20))


def _to_db(value: float) -> float:
    return 20 * math.log10(value) if value > 0 else SILENCE


def _running_min(values: Samples, width: int) -> Samples:
    """min(values[i:i + width]) for every i (van Herk / Gil-Werman: O(n) whatever the width)."""
    n = values.size
    padded = np.concatenate([values, np.full((-n) % width, np.inf)]).reshape(-1, width)
    prefix = np.minimum.accumulate(padded, axis=1).ravel()
    suffix = np.minimum.accumulate(padded[:, ::-1], axis=1)[:, ::-1].ravel()
    starts = np.arange(n - width + 1)
    return np.minimum(suffix[starts], prefix[starts + width - 1])


def limiter_gain(allowed: Samples, attack: int, hold: int) -> Samples:
    """A smooth gain curve never above ``allowed`` (the most gain each frame may have).

    The curve at frame n is the mean of m[j] over j in [n - attack, n], where m[j] is the
    minimum of ``allowed`` over [j - hold, j + attack]; every such window holds n, so the
    mean is at most allowed[n]. It ramps down over ``attack`` frames before a peak and
    back up ``hold`` frames after it.
    """
    ones_before, ones_after = np.ones(hold + attack), np.ones(attack)
    lows = _running_min(np.concatenate([ones_before, allowed, ones_after]), hold + attack + 1)
    sums = np.concatenate(([0.0], np.cumsum(lows)))
    n = allowed.size
    return (sums[attack + 1 : attack + 1 + n] - sums[:n]) / (attack + 1)


def limiter_curve(envelope: Samples, sample_rate: int, ceiling_db: float) -> tuple[Samples | None, float]:
    """The gain curve that keeps every true peak of ``envelope`` (``peak_envelope`` of the
    gained signal) at most ``ceiling_db``, and the largest reduction in dB; (None, 0.0)
    when no peak is above the ceiling."""
    ceiling = _db_to_gain(ceiling_db)
    allowed = np.minimum(1.0, ceiling / np.maximum(envelope, 1e-12))
    lowest = float(np.min(allowed)) if allowed.size else 1.0
    if lowest >= 1.0:
        return None, 0.0
    attack = max(1, round(LIMITER_ATTACK_SECONDS * sample_rate))
    hold = max(1, round(LIMITER_HOLD_SECONDS * sample_rate))
    return limiter_gain(allowed, attack, hold), -20 * math.log10(lowest)


def limit(samples: Samples, sample_rate: int, ceiling_db: float) -> tuple[Samples, float]:
    """``samples`` with every true peak lowered to ``ceiling_db`` dBTP; also returns the
    largest reduction in dB (0.0 when no peak was above the ceiling)."""
    curve, reduced_db = limiter_curve(peak_envelope(samples, sample_rate), sample_rate, ceiling_db)
    return (samples if curve is None else samples * curve), reduced_db


def _next_gain(tried: list[tuple[float, float]], target_lufs: float) -> float:
    """The gain to try next: the limiter takes back part of each added dB, so after the
    first try, follow the line through the last two tries (secant method)."""
    gain, after = tried[-1]
    slope = 1.0
    if len(tried) > 1:
        (g0, a0), (g1, a1) = tried[-2], tried[-1]
        if g1 != g0 and a1 > a0:
            slope = max(0.1, (a1 - a0) / (g1 - g0))
    return gain + (target_lufs - after) / slope


def normalize_sound(sound: Sound, target_lufs: float = DEFAULT_TARGET_LUFS,
                    max_true_peak_db: float = DEFAULT_MAX_TRUE_PEAK_DB) -> tuple[Sound, NormalizedClip]:
    """``sound`` at ``target_lufs``, true peak below ``max_true_peak_db`` (see the module's steps).
    The NormalizedClip's ``data`` is empty here: ``normalize_audio`` encodes it.

    Both measurements are linear in the gain, so each is made once on the clip as it came;
    only a limited clip is measured again (its loudness each round, its true peak at the end).
    """
    rate, samples = sound.sample_rate, sound.samples
    before = integrated_loudness(samples, rate, MIX)
    envelope = peak_envelope(samples, rate)
    peak_before = _to_db(float(np.max(envelope)) if envelope.size else 0.0)
    if before == SILENCE:
        report = NormalizedClip(b"", before, before, peak_before, peak_before, 0.0, 0.0, sound.duration_ms)
        return sound, report
    ceiling_db = max_true_peak_db - LIMITER_MARGIN_DB
    gain_db = min(target_lufs - before, MAX_GAIN_DB)
    tried: list[tuple[float, float]] = []  # (gain, loudness after the limiter)
    for _ in range(PASSES):
        gain = _db_to_gain(gain_db)
        curve, limited_db = limiter_curve(envelope * gain, rate, ceiling_db)
        if curve is None:
            out, after, peak = samples * gain, before + gain_db, peak_before + gain_db
            break
        out = samples * (gain * curve)
        after = integrated_loudness(out, rate, MIX)
        if abs(target_lufs - after) <= TOLERANCE_LU or gain_db >= MAX_GAIN_DB:
            break
        tried.append((gain_db, after))
        gain_db = min(_next_gain(tried, target_lufs), MAX_GAIN_DB)
    if curve is not None:
        peak = true_peak_db(out, rate)
        if peak > max_true_peak_db - LIMITER_MARGIN_DB / 2:  # the curve's smoothing let a peak through
            out = out * _db_to_gain(max_true_peak_db - LIMITER_MARGIN_DB / 2 - peak)
            after, peak = integrated_loudness(out, rate, MIX), true_peak_db(out, rate)
    result = Sound(out, rate)
    return result, NormalizedClip(b"", before, after, peak_before, peak, gain_db, limited_db,
                                  result.duration_ms)


def normalize_audio(data: bytes, target_lufs: float = DEFAULT_TARGET_LUFS,
                    max_true_peak_db: float = DEFAULT_MAX_TRUE_PEAK_DB) -> NormalizedClip:
    """The clip file ``data`` (WAV, MP3, FLAC, Ogg Vorbis) normalized, as a 16-bit PCM WAV.

    Raises tts_core.domain.audio.AudioFormatError for unreadable audio and
    tts_core.audio.decode.DecoderMissing when the format needs miniaudio and it is missing.
    """
    sound, report = normalize_sound(decode(data), target_lufs, max_true_peak_db)
    return NormalizedClip(encode_wav(sound), report.loudness_before, report.loudness_after,
                          report.true_peak_before, report.true_peak_after, report.gain_db,
                          report.limited_db, report.duration_ms)


def normalize_clip(path: str | os.PathLike[str], target_lufs: float = DEFAULT_TARGET_LUFS,
                   max_true_peak_db: float = DEFAULT_MAX_TRUE_PEAK_DB,
                   out: str | os.PathLike[str] | None = None) -> NormalizedClip:
    """Normalize the clip file ``path`` and write the WAV to ``out`` (default: next to it,
    ``<name>.normalized.wav``), atomically. Errors as ``normalize_audio``, and OSError."""
    source = Path(path)
    target = Path(out) if out is not None else source.with_name(f"{source.stem}.normalized.wav")
    result = normalize_audio(source.read_bytes(), target_lufs, max_true_peak_db)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(result.data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return NormalizedClip(result.data, result.loudness_before, result.loudness_after,
                          result.true_peak_before, result.true_peak_after, result.gain_db,
                          result.limited_db, result.duration_ms, target)
