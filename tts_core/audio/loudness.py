"""Loudness and true peak of a sound, as ITU-R BS.1770-4 / EBU R128 measure them.

- Integrated loudness (LUFS): K-weighting (the standard's two filters, derived for any
  sample rate as its 48 kHz coefficients are), mean square per 400 ms block with 75 %
  overlap, an absolute gate at -70 LUFS, then a relative gate 10 LU below the loudness
  of the blocks that passed. Channel weights: 1.0 (mono, stereo; more channels are all
  weighted 1.0). A mono clip is measured as one channel, as ffmpeg's ``ebur128`` does,
  or with ``dual_mono`` as it sounds on both channels of a stereo mix (OBS plays a mono
  clip at full level on both channels: 3.01 LU louder than its one-channel reading).
- A sound shorter than one block (400 ms) is measured as one block of its own length
  (the standard defines no block there); one that is all below -70 LUFS is silence
  (``-inf``).
- True peak (dBTP): the highest peak of the signal oversampled 4 times (2 times from
  96 kHz, not at all from 192 kHz) by band-limited (FFT) interpolation, as the standard's
  Annex 2 asks; the FFT interpolation is the ideal interpolator that the standard's
  48-tap filter approximates, so it reads slightly higher, never lower.

Samples are float arrays shaped (channels, frames), full scale 1.0. The filters run
in the frequency domain (numpy's FFT): exact for these decaying filters (the signal is
padded with 0.5 s of silence, where their impulse responses have died out) and about
a hundred times faster than a sample loop in Python.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float64]

BLOCK_SECONDS = 0.4
STEP_SECONDS = 0.1  # 75 % overlap
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
LOUDNESS_OFFSET = -0.691  # the standard's constant: a 1 kHz sine at -20 dBFS in one channel reads -23.0
FILTER_TAIL_SECONDS = 0.5  # the K-weighting filters' impulse responses are below 1e-20 by then
MIN_SAMPLE_RATE = 8000
SILENCE = -math.inf

# K-weighting, stage 1 (high shelf) and stage 2 (the RLB high-pass): the analog
# prototypes behind BS.1770's 48 kHz coefficients, so any sample rate gets the same curve.
_SHELF_HZ, _SHELF_GAIN_DB, _SHELF_Q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
_SHELF_VB_EXPONENT = 0.4996667741545416
_HIGHPASS_HZ, _HIGHPASS_Q = 38.13547087602444, 0.5003270373238773


def k_weighting(sample_rate: int) -> tuple[tuple[float, ...], ...]:
    """The two biquads of K-weighting at ``sample_rate``: (b1, a1, b2, a2), a[0] = 1."""
    if sample_rate < MIN_SAMPLE_RATE:
        raise ValueError(f"sample rate {sample_rate} Hz is too low to measure loudness "
                         f"(at least {MIN_SAMPLE_RATE} Hz)")
    k = math.tan(math.pi * _SHELF_HZ / sample_rate)
    vh = 10 ** (_SHELF_GAIN_DB / 20)
    vb = vh ** _SHELF_VB_EXPONENT
    a0 = 1 + k / _SHELF_Q + k * k
    b1 = ((vh + vb * k / _SHELF_Q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / _SHELF_Q + k * k) / a0)
    a1 = (1.0, 2 * (k * k - 1) / a0, (1 - k / _SHELF_Q + k * k) / a0)
    k = math.tan(math.pi * _HIGHPASS_HZ / sample_rate)
    a0 = 1 + k / _HIGHPASS_Q + k * k
    b2 = (1.0, -2.0, 1.0)
    a2 = (1.0, 2 * (k * k - 1) / a0, (1 - k / _HIGHPASS_Q + k * k) / a0)
    return b1, a1, b2, a2


def fast_length(n: int) -> int:
    """The smallest 2^a * 3^b * 5^c >= n (lengths numpy's FFT handles fastest)."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def _biquad_response(b: tuple[float, ...], a: tuple[float, ...], z1: npt.NDArray[np.complex128]
                     ) -> npt.NDArray[np.complex128]:
    """H(z) of one biquad at the points z1 = z^-1."""
    z2 = z1 * z1
    return (b[0] + b[1] * z1 + b[2] * z2) / (a[0] + a[1] * z1 + a[2] * z2)


@functools.lru_cache(maxsize=2)  # the clip in hand is measured again after the limiter
def _k_response(sample_rate: int, size: int) -> npt.NDArray[np.complex128]:
    """K-weighting's frequency response on the ``size``-point FFT grid."""
    b1, a1, b2, a2 = k_weighting(sample_rate)
    z1 = np.exp(-2j * np.pi * np.arange(size // 2 + 1) / size)
    return _biquad_response(b1, a1, z1) * _biquad_response(b2, a2, z1)


def k_weighted(samples: Samples, sample_rate: int) -> Samples:
    """``samples`` (channels, frames) through the K-weighting filters, from silence."""
    frames = samples.shape[1]
    size = fast_length(frames + int(FILTER_TAIL_SECONDS * sample_rate))
    spectrum = np.fft.rfft(samples, size, axis=1)
    return np.fft.irfft(spectrum * _k_response(sample_rate, size), size, axis=1)[:, :frames]


def block_powers(samples: Samples, sample_rate: int) -> Samples:
    """The weighted mean square of the K-weighted signal in each 400 ms block (100 ms apart);
    one block of the whole sound when it is shorter than 400 ms."""
    frames = samples.shape[1]
    if frames == 0:
        return np.zeros(0)
    weighted = k_weighted(samples, sample_rate)
    power = np.sum(weighted * weighted, axis=0)  # every channel weight is 1.0
    block = round(BLOCK_SECONDS * sample_rate)
    if frames < block:
        return np.array([float(np.mean(power))])
    step = round(STEP_SECONDS * sample_rate)
    sums = np.concatenate(([0.0], np.cumsum(power)))
    starts = np.arange(0, frames - block + 1, step)
    return (sums[starts + block] - sums[starts]) / block


def _lufs(power: float) -> float:
    return LOUDNESS_OFFSET + 10 * math.log10(power) if power > 0 else SILENCE


def integrated_loudness(samples: Samples, sample_rate: int, dual_mono: bool = False) -> float:
    """Integrated loudness in LUFS (BS.1770-4 gating); ``-inf`` for silence. ``dual_mono``:
    a mono sound is measured as heard on both channels of a stereo mix (+3.01 LU, as
    ffmpeg's ``ebur128=dual_mono=true``)."""
    powers = block_powers(samples, sample_rate)
    if dual_mono and samples.shape[0] == 1:
        powers = powers * 2
    if powers.size == 0:
        return SILENCE
    absolute = 10 ** ((ABSOLUTE_GATE_LUFS - LOUDNESS_OFFSET) / 10)
    loud = powers[powers > absolute]
    if loud.size == 0:
        return SILENCE
    relative = float(np.mean(loud)) * 10 ** (RELATIVE_GATE_LU / 10)
    gated = loud[loud > relative]
    return _lufs(float(np.mean(gated)))


def oversampling(sample_rate: int) -> int:
    """How many times BS.1770-4 oversamples for the true peak: 4 below 96 kHz, 2 below 192 kHz."""
    return 4 if sample_rate < 96000 else 2 if sample_rate < 192000 else 1


def oversampled(samples: Samples, sample_rate: int) -> npt.NDArray[np.float32]:
    """``samples`` band-limited interpolated to ``oversampling(sample_rate)`` times the rate
    (each channel; silence around it, so the ends do not wrap into each other). In float32:
    three times faster than float64, and ample for a peak."""
    factor = oversampling(sample_rate)
    frames = samples.shape[1]
    if factor == 1 or frames == 0:
        return samples.astype(np.float32)
    pad = min(frames, 4096) + 64
    size = fast_length(frames + pad)
    spectrum = np.fft.rfft(samples.astype(np.float32), size, axis=1)
    if size % 2 == 0:
        spectrum[:, -1] *= 0.5  # the Nyquist bin counts once; upsampled it would count twice
    fine = np.fft.irfft(spectrum, size * factor, axis=1)[:, :frames * factor].astype(np.float32, copy=False)
    fine *= factor
    return fine


def peak_envelope(samples: Samples, sample_rate: int) -> Samples:
    """Per frame: the highest absolute value, over all channels, of the oversampled signal
    between this frame and the next (what a true-peak meter sees there)."""
    factor = oversampling(sample_rate)
    frames = samples.shape[1]
    if frames == 0:
        return np.zeros(0)
    fine = oversampled(samples, sample_rate)
    np.abs(fine, out=fine)
    phases = fine.reshape(samples.shape[0], frames, factor)
    # One elementwise maximum per phase: twice as fast as np.max over the short last
    # axis, which numpy reduces element by element.
    highest = phases[:, :, 0].copy()
    for phase in range(1, factor):
        np.maximum(highest, phases[:, :, phase], out=highest)
    return np.max(highest, axis=0).astype(np.float64)


def true_peak_db(samples: Samples, sample_rate: int) -> float:
    """True peak in dBTP (dB relative to full scale, 4x oversampled); ``-inf`` for silence."""
    if samples.size == 0:
        return SILENCE
    peak = float(np.max(peak_envelope(samples, sample_rate)))
    return 20 * math.log10(peak) if peak > 0 else SILENCE
