"""An independent loudness meter for tests: ffmpeg's ``ebur128`` filter (EBU R128 / BS.1770).

Tests measure our clips and OBS's recordings with it, so the product's own meter
(tts_core.audio.loudness) is never the only judge of itself.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Reading:
    lufs: float  # integrated loudness (-inf: silence)
    true_peak_db: float  # dBTP


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    if found is None:
        raise AssertionError(f"ffmpeg ebur128 printed no {pattern!r}: {text[-800:]}")
    return -math.inf if found.group(1) == "-inf" else float(found.group(1))


def ebur128(source: str | Path | bytes, dual_mono: bool = False, start: float | None = None,
            end: float | None = None) -> Reading:
    """ffmpeg's reading of a file or of clip bytes (``start``/``end``: seconds of it).
    ``dual_mono``: a mono input counted as heard on both channels of a stereo mix."""
    if shutil.which("ffmpeg") is None:
        raise AssertionError("ffmpeg is not installed (`make system-deps`)")
    cut = (["-ss", f"{start:.3f}"] if start is not None else []) + (
        ["-to", f"{end:.3f}"] if end is not None else [])
    data = source if isinstance(source, bytes) else None
    args = ["ffmpeg", "-hide_banner", "-nostats", "-nostdin", *cut, "-i",
            "-" if data is not None else str(source), "-map", "0:a:0",
            "-af", "ebur128=peak=true" + (":dualmono=true" if dual_mono else ""), "-f", "null", "-"]
    done = subprocess.run(args, input=data, capture_output=True, timeout=120, check=False)
    text = done.stderr.decode(errors="replace")
    if done.returncode != 0:
        what = source if data is None else "the clip"
        raise AssertionError(f"ffmpeg could not measure {what}: {text[-800:]}")
    summary = text[text.rfind("Summary:"):]
    return Reading(_number(r"I:\s+(-inf|-?[\d.]+) LUFS", summary),
                   _number(r"Peak:\s+(-inf|-?[\d.]+)", summary))
