"""The synthesis workers' loudness step: every clip leaves the engine at one loudness.

``Leveller.level(clip)`` runs on a worker thread, right after the engine (and the clip
cache), before the clip file is written: so every sink (the OBS script, remote OBS, a
folder of WAVs, real time) plays the normalized clip. A clip that cannot be normalized
is never lost: it plays as the engine made it, and the log says why (once per cause
when a package is missing, since every clip would say the same).

numpy (and miniaudio for MP3 engines) are imported on the first clip, so the queue and
the OBS script start without them.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import replace

from tts_core.config.loudness import LoudnessConfig
from tts_core.domain.audio import AudioFormatError, Clip

log = logging.getLogger(__name__)

QUIETEST_VOLUME = 0.001  # an engine volume of 0 still plays (60 dB below the target)
INSTALL_HINT = "pip install numpy miniaudio (or pip install -e . in the project)"


def target_for(target_lufs: float, volume: float | None) -> float:
    """The loudness target for an engine volume (None or 1.0 = the target itself)."""
    if volume is None or volume >= 1.0:
        return target_lufs
    return target_lufs + 20 * math.log10(max(volume, QUIETEST_VOLUME))


class Leveller:
    """Parameters: ``settings`` (the ``loudness`` config section; ``apply_settings`` swaps it)."""

    def __init__(self, settings: LoudnessConfig | None = None) -> None:
        self.settings = settings if settings is not None else LoudnessConfig()
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def apply_settings(self, settings: LoudnessConfig) -> None:
        self.settings = settings

    def level(self, clip: Clip, volume: float | None = None, message_id: str = "") -> Clip:
        """``clip`` at the loudness target (a 16-bit PCM WAV), or ``clip`` itself when
        normalization is off or impossible (see the module docstring)."""
        settings = self.settings
        if not settings.enabled:
            return clip
        try:
            from tts_core.audio.decode import DecoderMissing
            from tts_core.audio.normalize import normalize_audio
        except ImportError as exc:
            self._warn_once("numpy", f"clips play as the engines make them, not equally loud: {exc}; "
                                     f"{INSTALL_HINT}")
            return clip
        try:
            result = normalize_audio(clip.data, target_for(settings.target_lufs, volume),
                                     settings.max_true_peak_db)
        except DecoderMissing as exc:
            self._warn_once("miniaudio", f"{clip.format.upper()} clips play as the engine makes them, "
                                         f"not equally loud: {exc}")
            return clip
        except (AudioFormatError, ValueError) as exc:
            log.warning("message %s: clip plays as the engine made it; its loudness cannot be measured: %s",
                        message_id, exc)
            return clip
        log.debug("message %s: loudness %s", message_id, result.describe())
        return replace(clip, data=result.data, format="wav", duration_ms=result.duration_ms)

    def _warn_once(self, cause: str, text: str) -> None:
        with self._lock:
            if cause in self._warned:
                return
            self._warned.add(cause)
        log.warning("%s", text)
