"""Measure ducking in an OBS recording: a high tone ("the music") and the speech, apart.

The music is a looping 13 kHz tone; espeak-ng speaks at 22050 Hz, so its speech has
nothing above 11 kHz. A high-pass band of the recording is the tone alone and a low-pass
band the speech alone, both in the one mixed track OBS records.
"""

from __future__ import annotations

import math
import subprocess
import sys
from array import array
from dataclasses import dataclass
from pathlib import Path

TONE_HZ = 13000
TONE_PEAK = 0.1  # -20 dBFS
RATE = 48000
WINDOW_S = 0.05
TONE_BAND = ",".join(["highpass=f=11500:poles=2"] * 4)
SPEECH_BAND = ",".join(["lowpass=f=6000:poles=2"] * 4)
SPEECH_ON_DB = -50.0  # a window of the speech band above this is speech
# OBS hands the sidechain's audio to the Compressor about 0.15-0.2 s after the same audio is
# in the mix (measured): the first syllable is over the music as it was. "During" starts after it.
ONSET_S = 0.25


def write_tone(path: Path, seconds: int = 120) -> Path:
    """A mono WAV of TONE_HZ at TONE_PEAK, long enough that OBS does not loop it during a
    test (ffmpeg_source leaves a gap of silence where it starts a file over)."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"aevalsrc={TONE_PEAK}*sin(2*PI*{TONE_HZ}*t):s={RATE}:d={seconds}",
                    "-ac", "1", "-c:a", "pcm_s16le", str(path)], check=True, timeout=60)
    return path


def band_levels(recording: Path, band: str) -> list[float]:
    """dBFS (RMS) of consecutive WINDOW_S windows of one band of the recording's audio."""
    proc = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(recording), "-map", "0:a:0",
                           "-ac", "1", "-ar", str(RATE), "-af", band, "-f", "s16le", "-acodec", "pcm_s16le",
                           "-"], capture_output=True, check=True, timeout=120)
    samples = array("h")
    samples.frombytes(proc.stdout[: len(proc.stdout) // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    n = round(RATE * WINDOW_S)
    levels = []
    for i in range(0, len(samples) - n + 1, n):
        rms = math.sqrt(math.fsum(x * x for x in samples[i:i + n]) / n)
        levels.append(20 * math.log10(rms / 32768) if rms > 0 else -120.0)
    return levels


def power_mean(levels: list[float]) -> float:
    """The level of windows together (their mean power), dB."""
    return 10 * math.log10(sum(10 ** (x / 10) for x in levels) / len(levels)) if levels else -120.0


DROPOUT_DB = -90.0  # a window without the tone at all: OBS's audio under CPU load, not ducking
MAX_DROPOUTS = 10  # OBS adding audio buffering for a late source drops ~0.1 s of it (seen once or twice)


@dataclass(frozen=True)
class Ducked:
    """What a listener hears of the music around one clip (levels in dBFS, times in s)."""

    before: float  # the music before the clip
    during: float  # the music while the speech plays (its mean power)
    windows_ducked: float  # the share of the speech's windows in which the music is down by ``depth``
    back_after: float | None  # seconds after the speech's end until the music is within 1 dB again
    after: float  # the music from 1 s after the speech on
    speech: tuple[float, float]  # where the speech is in the recording
    dropouts: int  # windows without any tone (OBS's load glitches; left out of the levels above)

    def report(self) -> str:
        return (f"music {self.before:.1f} dB before, {self.during:.1f} dB during speech "
                f"({self.before - self.during:.1f} dB down; {self.windows_ducked:.0%} of windows "
                f"down enough), back within 1 dB {self.back_after} s after, {self.after:.1f} dB after; "
                f"speech {self.speech[0]:.2f}-{self.speech[1]:.2f} s; {self.dropouts} dropout window(s)")


def measure(recording: Path, depth_db: float) -> Ducked:
    tone = band_levels(recording, TONE_BAND)
    speech = band_levels(recording, SPEECH_BAND)
    spoken = [i for i, level in enumerate(speech) if level > SPEECH_ON_DB]
    assert spoken, f"no speech in {recording}"
    first, last = spoken[0], spoken[-1]
    assert first * WINDOW_S > 1.0, f"the speech starts {first * WINDOW_S:.2f} s in: no music before it"

    def heard(windows: list[float]) -> list[float]:
        return [x for x in windows if x > DROPOUT_DB]

    before = power_mean(heard(tone[max(0, first - round(1.5 / WINDOW_S)):first - round(0.2 / WINDOW_S)]))
    during_windows = heard(tone[first + round(ONSET_S / WINDOW_S):last + 1])
    during = power_mean(during_windows)
    ducked_share = sum(1 for x in during_windows if x <= before - depth_db) / max(1, len(during_windows))
    back = None
    for i in range(last + 1, len(tone)):
        following = heard(tone[i:i + 6])[:4]
        if tone[i] > DROPOUT_DB and len(following) == 4 and all(abs(x - before) <= 1.0 for x in following):
            back = round((i - last) * WINDOW_S, 2)
            break
    after_start = last + round(1.0 / WINDOW_S)
    after = power_mean(heard(tone[after_start:after_start + round(1.0 / WINDOW_S)]))
    dropouts = sum(1 for x in tone[max(0, first - round(1.5 / WINDOW_S)):after_start + round(1.0 / WINDOW_S)]
                   if x <= DROPOUT_DB)
    return Ducked(before, during, ducked_share, back, after, (first * WINDOW_S, (last + 1) * WINDOW_S),
                  dropouts)
