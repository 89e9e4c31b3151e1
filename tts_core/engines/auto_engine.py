"""``auto``: a voice that exists on this machine. espeak-ng where it is installed, else
the system voice through pyttsx3 (SAPI5 on Windows, NSSpeechSynthesizer on macOS,
libespeak on Linux).

The choice is made once, when the engine is created, and shown: ``chosen`` names the
engine that speaks, ``status()`` says it in the status line and ``health()`` in
`obs-tts doctor`. When neither can speak, the error names both and what to install.
A configured ``espeak`` whose espeak-ng is missing is spoken by ``auto`` instead
(``espeak_or_auto``), so the default configuration never starts with an error on a
machine that has any voice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from tts_core.engines.base import Engine, EngineUnavailable, Voice
from tts_core.engines.espeak import EspeakEngine, find_espeak
from tts_core.engines.support import installed

log = logging.getLogger(__name__)

ESPEAK_MISSING = "espeak-ng is not installed"
PYTTSX3_MISSING = "pyttsx3 is not installed"
NO_VOICE_HINT = (
    "install espeak-ng ('sudo apt-get install espeak-ng', 'brew install espeak-ng', or "
    "github.com/espeak-ng/espeak-ng/releases on Windows) or pip install 'obs-tts-queue[pyttsx3]'"
)
# What "system voice" means where pyttsx3 runs (its driver per platform).
SYSTEM_VOICE = "system voice through pyttsx3"

Candidate = tuple[str, Callable[[], Engine]]


def choose_engine(candidates: list[Candidate]) -> tuple[str, Engine, list[str]]:
    """The first candidate that starts: (its name, the engine, why the ones before it
    did not). Raises EngineUnavailable naming every candidate and its reason."""
    reasons: list[str] = []
    for name, make in candidates:
        try:
            return name, make(), reasons
        except (EngineUnavailable, TimeoutError, OSError) as exc:
            reasons.append(f"{name}: {' '.join(str(exc).split())}")
    raise EngineUnavailable("no voice on this machine (" + "; ".join(reasons) + "): " + NO_VOICE_HINT)


def candidates(
    espeak_options: dict[str, Any],
    pyttsx3_options: dict[str, Any],
    espeak_installed: Callable[[], bool] = lambda: find_espeak() is not None,
    pyttsx3_installed: Callable[[], bool] = lambda: installed("pyttsx3"),
    make_espeak: Callable[..., Engine] = EspeakEngine,
    make_pyttsx3: Callable[..., Engine] | None = None,
) -> list[Candidate]:
    """espeak-ng, then pyttsx3; the "is installed" probes and constructors are
    injectable (tests choose without touching the machine)."""

    def espeak() -> Engine:
        if not espeak_installed():
            raise EngineUnavailable(ESPEAK_MISSING)
        return make_espeak(**espeak_options)

    def pyttsx3() -> Engine:
        if not pyttsx3_installed():
            raise EngineUnavailable(PYTTSX3_MISSING)
        if make_pyttsx3 is None:
            from tts_core.engines.pyttsx3_engine import Pyttsx3Engine

            return Pyttsx3Engine(**pyttsx3_options)
        return make_pyttsx3(**pyttsx3_options)

    return [("espeak", espeak), ("pyttsx3", pyttsx3)]


class AutoEngine(Engine):
    """Parameters: ``espeak_voice`` / ``pyttsx3_voice`` (the voice for whichever speaks),
    ``voice`` (for the one chosen, when set), ``rate``, ``volume``, ``timeout``;
    ``choices``: the candidates to try (tests), default espeak-ng then pyttsx3."""

    name = "auto"

    def __init__(
        self,
        voice: str | None = None,
        rate: int | None = None,
        volume: float | None = None,
        timeout: float | None = None,
        espeak_voice: str | None = None,
        pyttsx3_voice: str | None = None,
        choices: list[Candidate] | None = None,
    ) -> None:
        common: dict[str, Any] = {"rate": rate, "volume": volume, "timeout": timeout}
        espeak = {**common, "voice": voice or espeak_voice}
        pyttsx3 = {**common, "voice": voice or pyttsx3_voice}
        if choices is None:
            choices = candidates(
                {k: v for k, v in espeak.items() if v is not None},
                {k: v for k, v in pyttsx3.items() if v is not None},
            )
        self.chosen, self.engine, self.passed_over = choose_engine(choices)
        log.info("voice engine auto: %s speaks%s", self.label, self._why())

    @property
    def label(self) -> str:
        """What speaks, in the streamer's words ("espeak-ng" or "system voice (pyttsx3)")."""
        return "espeak-ng" if self.chosen == "espeak" else f"system voice ({self.chosen})"

    def _why(self) -> str:
        return f" ({'; '.join(self.passed_over)})" if self.passed_over else ""

    def __repr__(self) -> str:
        return f"AutoEngine(chosen={self.chosen!r})"

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        return self.engine.synthesize(text, voice=voice, rate=rate, volume=volume)

    def list_voices(self) -> list[Voice]:
        return self.engine.list_voices()

    def speaker(self) -> str:
        return self.engine.speaker()

    def voice_for(self, voice: str | None) -> str | None:
        return self.engine.voice_for(voice)

    def check_voice(self, voice: str) -> None:
        self.engine.check_voice(voice)

    def cache_identity(self, voice: str | None) -> str:
        return f"auto|{self.chosen}|{self.engine.cache_identity(voice)}"

    def status(self) -> str:
        own = self.engine.status()
        return f"voice: {self.label}{self._why()}" + (f"; {own}" if own else "")

    def health(self) -> str | None:
        problem = self.engine.health()
        return f"{self.label}: {problem}" if problem else None

    def cancel_all(self) -> int:
        return self.engine.cancel_all()

    def close(self) -> None:
        self.engine.close()


def who_speaks(chain: list[str]) -> str:
    """" (espeak-ng is not installed: system voice (pyttsx3) speaks)" when an ``espeak``
    or ``auto`` of ``chain`` will not be espeak-ng on this machine, else "" (for the
    start lines of `obs-tts doctor` and `obs-tts serve`, which name the configured chain)."""
    if not {"espeak", "auto"} & set(chain) or find_espeak() is not None:
        return ""
    speaker = "system voice (pyttsx3) speaks" if installed("pyttsx3") else "and pyttsx3 is not installed"
    return f" ({ESPEAK_MISSING}: {speaker})"


def espeak_or_auto(**options: Any) -> Engine:
    """The configured ``espeak`` engine; where espeak-ng is missing, ``auto`` instead
    (the system voice), with the espeak voice kept for espeak only."""
    if find_espeak() is not None:
        return EspeakEngine(**options)
    voice = options.pop("voice", None)
    engine = AutoEngine(espeak_voice=voice, **options)
    log.warning("%s: %s speaks instead", ESPEAK_MISSING, engine.label)
    return engine
