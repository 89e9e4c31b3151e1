"""pyttsx3 (espeak driver on Linux, SAPI5 on Windows, NSSpeech on macOS).

pyttsx3 is not thread-safe and has bugs that lose files (docs/architecture.md, section 6), so
one engine lives on one dedicated daemon thread for the life of the process; every
Pyttsx3Engine object sends it requests and waits for the file.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tts_core.domain.audio import detect_format
from tts_core.engines.base import (
    Engine,
    EngineUnavailable,
    PermanentEngineError,
    TransientEngineError,
    Voice,
)

log = logging.getLogger(__name__)

FILE_WAIT_SECONDS = 5.0
SAVE_ATTEMPTS = 2  # the espeak driver now and then writes no file at all: save once more


@dataclass
class _Request:
    kind: str  # "speak" or "voices"
    text: str = ""
    voice: str | None = None
    rate: int | None = None
    volume: float | None = None
    future: Future[Any] | None = None


class _Pyttsx3Thread:
    """The one thread that owns the pyttsx3 engine."""

    _instance: _Pyttsx3Thread | None = None
    _instance_lock = threading.Lock()

    @classmethod
    def get(cls) -> _Pyttsx3Thread:
        with cls._instance_lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def __init__(self) -> None:
        self.requests: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self.ready: Future[None] = Future()
        self.default_voice: str | None = None  # the driver's own voice id, once started
        self.folder = Path(tempfile.mkdtemp(prefix="obs-tts-pyttsx3-"))
        self.thread = threading.Thread(target=self._run, name="tts-pyttsx3", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            import pyttsx3

            engine = pyttsx3.init()
            _silence_driver_prints(engine)
            engine.runAndWait()  # warm-up: the first runAndWait returns before files exist
            self.ready.set_result(None)
        except Exception as exc:  # noqa: BLE001 - reported to every caller
            self.ready.set_exception(EngineUnavailable(f"pyttsx3 cannot start: {exc}"))
            return
        self.engine = engine  # kept referenced: a collected engine segfaults
        self.applied: dict[str, Any] = {}
        self.pending: dict[str, Any] = {}
        self._hook_espeak_driver(engine)
        defaults = {p: engine.getProperty(p) for p in ("voice", "rate", "volume")}
        self.default_voice = str(defaults["voice"]) if defaults["voice"] else None
        count = 0
        while True:
            request = self.requests.get()
            assert request.future is not None
            try:
                if request.kind == "voices":
                    request.future.set_result(engine.getProperty("voices"))
                    continue
                self._apply(engine, defaults, request)
                for attempt in range(1, SAVE_ATTEMPTS + 1):
                    count += 1
                    path = self.folder / f"clip-{count}.wav"
                    engine.save_to_file(request.text, str(path))
                    engine.runAndWait()
                    try:
                        request.future.set_result(_wait_for_file(path))
                        break
                    except TransientEngineError:
                        if attempt == SAVE_ATTEMPTS:
                            raise
                        log.info("pyttsx3 lost a file (a known driver bug); saving it again")
                        self.pending.update(self.applied)  # the lost Synth may have taken them
            except Exception as exc:  # noqa: BLE001 - handed to the waiting worker
                request.future.set_exception(exc)

    def _apply(self, engine: Any, defaults: dict[str, Any], request: _Request) -> None:
        wanted = {
            "voice": request.voice or defaults["voice"],
            "rate": request.rate or defaults["rate"],
            "volume": defaults["volume"] if request.volume is None else request.volume,
        }
        changes = {p: v for p, v in wanted.items() if self.applied.get(p) != v}
        self.applied.update(changes)
        driver = engine.proxy._driver
        if hasattr(driver, "_start_synthesis"):
            # espeak driver: engine.setProperty is queued and lost before a save, and a
            # direct set is applied late by libespeak's asynchronous command queue. Set
            # the properties in the same breath as the Synth call instead.
            self.pending.update(changes)
        else:
            for prop, value in changes.items():
                driver.setProperty(prop, value)

    def _hook_espeak_driver(self, engine: Any) -> None:
        driver = engine.proxy._driver
        start = getattr(driver, "_start_synthesis", None)
        if start is None:
            return

        def start_with_properties(text: str) -> None:
            for prop, value in self.pending.items():
                driver.setProperty(prop, value)
            self.pending.clear()
            start(text)

        driver._start_synthesis = start_with_properties


def _silence_driver_prints(engine: Any) -> None:
    """pyttsx3's espeak driver print()s a line per saved file; keep our stdout clean."""
    module = sys.modules.get(type(engine.proxy._driver).__module__)
    if module is not None:
        module.print = lambda *args, **kwargs: None  # type: ignore[attr-defined]


def _wait_for_file(path: Path) -> bytes:
    deadline = time.monotonic() + FILE_WAIT_SECONDS
    last_size = -1
    while time.monotonic() < deadline:
        if path.exists():
            size = path.stat().st_size
            if size > 44 and size == last_size:
                data = path.read_bytes()
                os.unlink(path)
                detect_format(data)
                return data
            last_size = size
        time.sleep(0.01)
    raise TransientEngineError("pyttsx3 wrote no audio file (the driver swallowed an error)")


class Pyttsx3Engine(Engine):
    """Parameters: ``voice`` (a voice id from list_voices), ``rate`` (words/min),
    ``volume`` (0.0-1.0), ``timeout`` (seconds to wait for one clip)."""

    name = "pyttsx3"

    def __init__(
        self,
        voice: str | None = None,
        rate: int | None = None,
        volume: float | None = None,
        timeout: float = 30.0,
    ) -> None:
        try:
            import pyttsx3  # noqa: F401
        except ImportError:
            raise EngineUnavailable(
                "pyttsx3 is not installed: pip install 'obs-tts-queue[pyttsx3]' "
                "(on Linux it also needs espeak-ng: sudo apt-get install espeak-ng)"
            ) from None
        self.voice, self.rate, self.volume, self.timeout = voice, rate, volume, timeout
        self._thread = _Pyttsx3Thread.get()
        try:
            self._thread.ready.result(timeout=timeout)
        except FutureTimeout as exc:  # the built-in TimeoutError from Python 3.11; the same on 3.10
            if isinstance(exc, TimeoutError):
                raise
            raise TimeoutError(f"pyttsx3 did not start within {timeout:g} s") from None
        self._known_voices: set[str] | None = None

    def _ask(self, request: _Request) -> Any:
        request.future = Future()
        self._thread.requests.put(request)
        try:
            return request.future.result(timeout=self.timeout)
        except (TimeoutError, FutureTimeout):  # one class from Python 3.11
            raise TransientEngineError(f"pyttsx3 took longer than {self.timeout:g} s") from None

    def check_voice(self, voice: str) -> None:
        """Refuse a voice the driver does not have (it would fail or fall back silently)."""
        if self._known_voices is None:
            voices = self.list_voices()
            self._known_voices = {v.id for v in voices} | {v.name for v in voices}
        if voice not in self._known_voices:
            raise PermanentEngineError(
                f"unknown pyttsx3 voice {voice!r}; `obs-tts voices --engine pyttsx3` lists them"
            )

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        if voice or self.voice:
            self.check_voice(voice or self.voice or "")
        request = _Request(
            "speak",
            text,
            voice or self.voice,
            rate or self.rate,
            self.volume if volume is None else volume,
        )
        return self._ask(request)

    def voice_for(self, voice: str | None) -> str | None:
        return voice or self.voice or self._thread.default_voice

    def list_voices(self) -> list[Voice]:
        voices = self._ask(_Request("voices"))
        return [
            Voice(
                id=v.id,
                name=v.name,
                language=(v.languages[0] if v.languages else "")
                if isinstance(v.languages, list)
                else str(v.languages),
                gender=v.gender or "",
            )
            for v in voices
        ]

    # close() keeps the default: the engine thread lives as long as the process (pyttsx3 cannot restart).
