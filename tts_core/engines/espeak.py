"""espeak-ng through its command line: fast, offline, safe to call concurrently."""

from __future__ import annotations

import re
import shutil
import subprocess

from tts_core.domain.audio import fix_wav_sizes
from tts_core.engines.base import (
    Engine,
    EngineError,
    EngineUnavailable,
    PermanentEngineError,
    TransientEngineError,
    Voice,
)

ESPEAK_COMMANDS = ("espeak-ng", "espeak")
DEFAULT_TIMEOUT_SECONDS = 20.0
DEFAULT_VOICE = "en"  # espeak-ng's own default when no -v is given


def find_espeak() -> str | None:
    for command in ESPEAK_COMMANDS:
        path = shutil.which(command)
        if path:
            return path
    return None


class EspeakEngine(Engine):
    """Parameters: ``voice`` (e.g. ``en-us``), ``rate`` (words/min, espeak default 175),
    ``volume`` (0.0-1.0; 1.0 is espeak's normal amplitude), ``timeout`` (seconds)."""

    name = "espeak"

    def __init__(
        self,
        voice: str | None = None,
        rate: int | None = None,
        volume: float | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        command = find_espeak()
        if command is None:
            raise EngineUnavailable(
                "espeak-ng is not installed: install it with 'sudo apt-get install espeak-ng' "
                "(Debian/Ubuntu), 'brew install espeak-ng' (macOS) or from "
                "github.com/espeak-ng/espeak-ng/releases (Windows)"
            )
        self.command = command
        self.voice, self.rate, self.volume, self.timeout = voice, rate, volume, timeout
        self._known_voices: set[str] | None = None

    def check_voice(self, voice: str) -> None:
        """espeak-ng silently falls back to its default for an unknown voice; refuse it."""
        if self._known_voices is None:
            known = set()
            for v in self.list_voices():
                known.update(
                    {
                        v.id.lower(),
                        v.name.lower(),
                        v.name.lower().replace(" ", "_"),
                        v.file.lower(),
                        v.file.rsplit("/", 1)[-1].lower(),
                    }
                )
            self._known_voices = known
        base = voice.split("+", 1)[0].lower()  # "en+f3" is voice "en" with variant "f3"
        if base not in self._known_voices:
            raise PermanentEngineError(
                f"unknown espeak voice {voice!r}; `obs-tts voices` lists them (e.g. en-us, de)"
            )

    def args(self, voice: str | None, rate: int | None, volume: float | None) -> list[str]:
        args = [self.command, "--stdout"]
        voice = voice or self.voice
        if voice:
            self.check_voice(voice)
        rate = rate or self.rate
        volume = self.volume if volume is None else volume
        if voice:
            args += ["-v", voice]
        if rate:
            args += ["-s", str(int(rate))]
        if volume is not None:
            args += ["-a", str(round(max(0.0, min(volume, 2.0)) * 100))]
        return args

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        # "--" so a text starting with "-" is spoken, not read as an option.
        args = [*self.args(voice, rate, volume), "--", split_phoneme_brackets(text)]
        try:
            done = subprocess.run(args, capture_output=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise TransientEngineError(f"espeak-ng took longer than {self.timeout:g} s") from None
        except OSError as exc:  # e.g. too many open files: may pass
            raise TransientEngineError(f"cannot run {self.command}: {exc}") from exc
        if done.returncode != 0 or len(done.stdout) <= 44:
            detail = done.stderr.decode(errors="replace").strip() or f"exit code {done.returncode}"
            raise EngineError(f"espeak-ng produced no audio: {detail}")
        return fix_wav_sizes(done.stdout)

    def voice_for(self, voice: str | None) -> str | None:
        return voice or self.voice or DEFAULT_VOICE

    def list_voices(self) -> list[Voice]:
        done = subprocess.run([self.command, "--voices"], capture_output=True, text=True, timeout=10)
        voices = []
        for line in done.stdout.splitlines()[1:]:
            parts = line.split()
            if len(parts) < 5:
                continue
            language, gender = parts[1], parts[2].split("/")[-1]
            voices.append(
                Voice(
                    id=language,
                    name=parts[3].replace("_", " "),
                    language=language,
                    gender={"M": "male", "F": "female"}.get(gender, ""),
                    file=parts[4],
                )
            )
        return voices


_PHONEME_BRACKETS = re.compile(r"\[\s*\[|\]\s*\]")


def split_phoneme_brackets(text: str) -> str:
    """espeak-ng reads ``[[...]]`` as phoneme codes (a way to say a listed word without
    spelling it); ``[ [`` is read as the brackets a viewer typed."""
    if "[" not in text and "]" not in text:
        return text
    return _PHONEME_BRACKETS.sub(lambda m: f"{m.group()[0]} {m.group()[-1]}", text)
