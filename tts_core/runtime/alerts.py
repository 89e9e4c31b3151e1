"""Alert sounds: which sound an event gets, whether its file plays, and the clip to play.

``AlertSounds`` is a part of the manager's settings: ``prepare_config`` checks every file
of the ``alerts`` section (exists, readable, a WAV, MP3, Ogg Vorbis or FLAC with sound in
it, a volume the file can take; Ogg Vorbis, FLAC and float WAV play as a 16-bit WAV copy)
and leaves out the ones that fail, each named with its reason in ``refused`` (logged
once as a warning; the OBS panel shows them), so one bad file never
keeps the other settings out. The event translator asks ``choose`` for an event's sound
and puts it in the message's metadata (the journal keeps it, so a message recovered after
a crash still gets its alert). The player asks ``prepare_alert`` for the clip right
before the speech: the one place an alert file becomes something to play (loudness
normalization plugs in there). A file gone or broken by then is logged once and the
message is spoken without it.
"""

from __future__ import annotations

import array
import io
import logging
import sys
import threading
import wave
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tts_core.audio.leveller import Leveller
from tts_core.config import AlertsConfig, AlertSound, TTSConfig
from tts_core.config.alerts import sound_for
from tts_core.domain.audio import AudioFormatError, Clip
from tts_core.domain.message import TTSMessage
from tts_core.runtime.settings import Prepared
from tts_core.storage.clip_files import ClipFiles

log = logging.getLogger(__name__)

MAX_ALERT_BYTES = 20 * 1024 * 1024  # a few seconds of sound; anything bigger is not an alert
MAX_CONVERTED_SECONDS = 300.0  # an OGG/FLAC alert's length: its WAV copy stays within a few dozen MB
UNSUPPORTED_SUFFIXES = ("M4A", "AAC", "WMA", "OPUS", "AIFF", "AIF")
ACCEPTED = "WAV, MP3, Ogg Vorbis or FLAC"
SCALABLE_WIDTHS = {1: "B", 2: "h", 4: "i"}  # PCM sample bytes -> array type


def has_alert(metadata: dict[str, Any] | None) -> bool:
    """Whether a message's metadata asks for an alert sound."""
    alert = (metadata or {}).get("alert")
    return isinstance(alert, dict) and isinstance(alert.get("file"), str)


def check_alert_file(file: str, volume: int = 100, levelled: bool = False) -> str | None:
    """Why ``file`` cannot be an alert sound at ``volume`` %, or None when it can.
    ``levelled``: loudness is on, so a copy is made at any volume (an MP3 too)."""
    path = Path(file).expanduser()
    try:
        clip = _read_clip(path)
    except _Unplayable as exc:
        return str(exc)
    if levelled:
        return None
    if volume < 100 and clip.format != "wav":
        return ("a volume below 100 % needs a WAV file (an MP3 plays at its own level): "
                "convert it to WAV, or set the volume to 100")
    if volume < 100 and wav_sample_width(clip.data) not in SCALABLE_WIDTHS:
        return "a volume below 100 % needs 8-, 16- or 32-bit PCM WAV: convert it, or set the volume to 100"
    return None


class _Unplayable(Exception):
    pass


def _read_clip(path: Path) -> Clip:
    if not path.exists():
        raise _Unplayable("file not found")
    if not path.is_file():
        raise _Unplayable("not a file")
    try:
        size = path.stat().st_size
        if size > MAX_ALERT_BYTES:
            raise _Unplayable(f"too large for an alert sound ({size // 1024 // 1024} MB; at most "
                              f"{MAX_ALERT_BYTES // 1024 // 1024} MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise _Unplayable(f"cannot be read: {exc.strerror or exc}") from None
    try:
        clip = replace(Clip.from_bytes(data), path=path)
    except AudioFormatError:
        clip = _wav_copy(path, data)  # path None: a copy, not the streamer's file
    if clip.duration_ms <= 0:
        raise _Unplayable("it holds no sound (0 ms)")
    return clip


def _wav_copy(path: Path, data: bytes) -> Clip:
    """A 16-bit PCM WAV copy of an Ogg Vorbis, FLAC or float WAV file: every sink (the
    OBS media source, the wav-dir folder, the clip server) then plays a WAV, and the
    volume and loudness work on it as on any WAV."""
    from tts_core.audio.decode import (
        KIND_NAMES,
        DecoderMissing,
        decode,
        encode_wav,
        is_ogg_opus,
        kind_of,
        length_seconds,
    )

    try:
        kind = kind_of(data)
    except AudioFormatError as exc:
        suffix = path.suffix.lstrip(".").upper()
        if suffix in UNSUPPORTED_SUFFIXES:
            raise _Unplayable(f"{suffix} is not supported: use a {ACCEPTED} file") from None
        raise _Unplayable(f"not a {ACCEPTED} file ({exc})") from None
    if is_ogg_opus(data):
        raise _Unplayable(f"Ogg Opus is not supported: use a {ACCEPTED} file "
                          "(e.g. ffmpeg -i alert.ogg alert.wav)")
    name = KIND_NAMES[kind]
    try:
        seconds = length_seconds(data)
        if seconds is not None and seconds > MAX_CONVERTED_SECONDS:
            raise _Unplayable(f"too long for an alert sound ({seconds:.0f} s; at most "
                              f"{MAX_CONVERTED_SECONDS:.0f} s)")
        sound = decode(data)
        if sound.frames == 0:
            raise AudioFormatError("no sound could be decoded")
        return Clip.from_bytes(encode_wav(sound))
    except DecoderMissing as exc:
        raise _Unplayable(str(exc)) from None
    except AudioFormatError as exc:
        detail = str(exc).removeprefix(f"unreadable {name} audio: ")
        raise _Unplayable(f"not a readable {name} file ({detail})") from None


def wav_sample_width(data: bytes) -> int:
    with wave.open(io.BytesIO(data)) as wav:
        return wav.getsampwidth()


def scaled_wav(data: bytes, volume: int) -> bytes:
    """A copy of a PCM WAV with every sample scaled to ``volume`` % (8-, 16- or 32-bit)."""
    with wave.open(io.BytesIO(data)) as wav:
        params = wav.getparams()
        frames = wav.readframes(params.nframes)
    width = params.sampwidth
    samples = array.array(SCALABLE_WIDTHS[width], frames)
    big_endian = sys.byteorder == "big"
    if big_endian and width > 1:
        samples.byteswap()
    factor = volume / 100.0
    if width == 1:  # unsigned, silence at 128
        samples = array.array("B", (round(128 + (s - 128) * factor) for s in samples))
    else:
        samples = array.array(samples.typecode, (int(s * factor) for s in samples))
    if big_endian and width > 1:
        samples.byteswap()
    out = io.BytesIO()
    with wave.open(out, "wb") as copy:
        copy.setparams(params)
        copy.writeframes(samples.tobytes())
    return out.getvalue()


@dataclass(frozen=True)
class _Usable:
    alerts: AlertsConfig
    refused: tuple[str, ...]


class AlertSounds:
    """The alert sounds in force. Parameters: ``config`` (its ``alerts`` section)."""

    def __init__(self, config: TTSConfig) -> None:
        self._usable = self._check(config.alerts, config.loudness.enabled)
        self._warn(self._usable.refused)
        # Alert sounds reach the mix at the same loudness as the voices (tts_core.audio).
        self.leveller = Leveller(config.loudness)
        self._lock = threading.Lock()
        self._prepared: dict[tuple[Any, ...], Clip] = {}
        self._missing: set[str] = set()  # files already reported missing at play time

    @property
    def refused(self) -> tuple[str, ...]:
        """One line per configured sound that was left out, naming the file and why."""
        return self._usable.refused

    def prepare_config(self, config: TTSConfig) -> Prepared:
        """Check every file of ``config.alerts``; the refused ones are left out, never the config."""
        usable = self._check(config.alerts, config.loudness.enabled)

        def commit() -> None:
            if usable.refused != self._usable.refused:
                self._warn(usable.refused)
            self._usable = usable
            self.leveller.apply_settings(config.loudness)

        return Prepared(commit)

    @staticmethod
    def _check(alerts: AlertsConfig, levelled: bool) -> _Usable:
        kept: dict[str, list[dict[str, Any]]] = {}
        refused = []
        for event_type, items in alerts.sounds.items():
            tiers = alerts.tiers(event_type)
            ordered = sorted(items, key=lambda i: float(i.get("min_amount", 0)))
            for raw, sound in zip(ordered, tiers, strict=True):
                reason = check_alert_file(sound.file, sound.volume, levelled)
                if reason is None:
                    kept.setdefault(event_type, []).append(raw)
                else:
                    tier = f" (from {sound.min_amount:g})" if len(tiers) > 1 else ""
                    refused.append(f"alert sound for {event_type}{tier} refused: {sound.file}: {reason}")
        return _Usable(AlertsConfig(kept), tuple(refused))

    @staticmethod
    def _warn(refused: tuple[str, ...]) -> None:
        for line in refused:
            log.warning("%s (the message is spoken without it)", line)

    def choose(self, event_type: str, amount: float | None) -> AlertSound | None:
        """The sound an event of ``event_type`` with ``amount`` gets, or None."""
        return sound_for(self._usable.alerts, event_type, amount)

    def clip_for(self, msg: TTSMessage, clips: ClipFiles | None) -> Clip | None:
        """The alert clip of ``msg`` (its metadata's ``alert``), or None: none asked for, or
        its file cannot play now (logged once per file; the message is spoken without it)."""
        alert = (msg.metadata or {}).get("alert")
        if not isinstance(alert, dict) or not isinstance(alert.get("file"), str):
            return None
        volume = alert.get("volume", 100)
        volume = int(volume) if isinstance(volume, (int, float)) and 0 <= volume <= 100 else 100
        return self.prepare_alert(alert["file"], volume, clips, msg.id)

    def prepare_alert(self, file: str, volume: int, clips: ClipFiles | None, msg_id: str = "") -> Clip | None:
        """The clip to play for the alert ``file`` at ``volume`` %: with loudness on (the
        ``loudness`` section), a copy at the voices' loudness target (``volume`` below 100 %
        lowers it from there) in ``clips``' folder; with it off, the file itself at 100 %,
        else a scaled copy. Copies are kept while the file and the settings are unchanged."""
        path = Path(file).expanduser()
        try:
            stat = path.stat()
            loudness = self.leveller.settings
            key = (str(path), stat.st_mtime_ns, stat.st_size, volume, id(clips),
                   loudness.enabled, loudness.target_lufs, loudness.max_true_peak_db)
            with self._lock:
                cached = self._prepared.get(key)
            if cached is not None and (cached.path is None or cached.path.exists()):
                return cached
            clip = _read_clip(path)
            levelled = self.leveller.level(clip, volume / 100, msg_id)
            if levelled is not clip:
                written = clips.write(f"alert-{len(self._prepared)}-{volume}", levelled) if clips else None
                clip = written or levelled
            elif volume < 100:
                scaled = Clip.from_bytes(scaled_wav(clip.data, volume))
                written = clips.write(f"alert-{len(self._prepared)}-{volume}", scaled) if clips else None
                clip = written or scaled
            elif clip.path is None:  # the WAV copy of an Ogg Vorbis or FLAC file
                written = clips.write(f"alert-{len(self._prepared)}-{volume}", clip) if clips else None
                clip = written or clip
        except (_Unplayable, OSError, wave.Error, KeyError, AudioFormatError) as exc:
            if isinstance(exc, FileNotFoundError):
                reason = "file not found"
            else:
                strerror = exc.strerror if isinstance(exc, OSError) else None
                reason = strerror or str(exc) or type(exc).__name__
            with self._lock:
                first = file not in self._missing
                self._missing.add(file)
            if first:
                log.warning("alert sound %s cannot play (%s); %s is spoken without it", file, reason,
                            msg_id or "the message")
            return None
        with self._lock:
            self._missing.discard(file)
            self._prepared[key] = clip
        return clip
