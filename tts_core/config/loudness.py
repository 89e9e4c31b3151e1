"""Every voice equally loud: the config section ``loudness`` (tts_core.audio, docs/engines.md#loudness)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tts_core.config.checks import ConfigError

MIN_TARGET_LUFS, MAX_TARGET_LUFS = -40.0, -5.0
MIN_TRUE_PEAK_DB, MAX_TRUE_PEAK_DB = -20.0, 0.0


@dataclass
class LoudnessConfig:
    """``enabled``: bring every clip (any engine, voice or alert sound) to ``target_lufs``,
    its integrated loudness as heard in OBS's stereo mix (EBU R128 / ITU-R BS.1770 LUFS),
    with its true peak at most ``max_true_peak_db`` (dBTP). -16 LUFS is the usual level of
    spoken streaming content (podcast platforms ask for -16); Twitch itself normalizes
    nothing, so the streamer's mixer decides the rest. The engine volume (``engine.volume``,
    the panel's "Voice volume") is relative to the target: 50 % plays 6 dB below it.
    """

    enabled: bool = True
    target_lufs: float = field(default=-16.0, metadata={"negative": True})
    max_true_peak_db: float = field(default=-1.0, metadata={"negative": True})

    def validate(self, prefix: str = "loudness") -> None:
        if not MIN_TARGET_LUFS <= self.target_lufs <= MAX_TARGET_LUFS:
            raise ConfigError(f"{prefix}.target_lufs must be {MIN_TARGET_LUFS:g} to {MAX_TARGET_LUFS:g} LUFS "
                              f"(e.g. -16), got {self.target_lufs}")
        if not MIN_TRUE_PEAK_DB <= self.max_true_peak_db <= MAX_TRUE_PEAK_DB:
            raise ConfigError(f"{prefix}.max_true_peak_db must be {MIN_TRUE_PEAK_DB:g} to "
                              f"{MAX_TRUE_PEAK_DB:g} dBTP (e.g. -1), got {self.max_true_peak_db}")
