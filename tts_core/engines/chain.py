"""The engine chain: ``engine.name`` first, then each ``engine.fallback`` engine.

A message is spoken by the next engine of the chain when its engine
- fails permanently (bad key, unknown voice, refused request),
- is unavailable (not installed, cannot start), or
- still fails after ``max_retries`` retries (time-outs, 5xx, network, 429).
An engine that was unavailable, refused us (except for a message's own voice) or ran
out of retries is "down" for ``down_seconds``:
meanwhile messages go straight to the next engine, then it is tried again. A 429
asking to wait longer than ``max_wait_seconds`` also counts as down for that long.

Retries themselves stay the worker's job: a transient error is re-raised so the worker
backs off and calls again; only when this engine's retries are used up does the chain
move on (and the message gets a fresh set of retries on the next engine).

The message records which engine spoke it (``msg.engine``; ``auto`` names the engine it
chose) with the voice it used (``msg.spoken_voice``) and, when that is not the first
one, which one it replaced (``msg.fallback_from``); events carry them, and stats
count ``fallbacks``. Identical clips come from the on-disk cache (``tts_core.engines.cache``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tts_core.engines.base import (
    Engine,
    EngineRateLimited,
    EngineUnavailable,
    PermanentEngineError,
    Voice,
)
from tts_core.engines.cache import CACHE_FOLDER, ClipCache

if TYPE_CHECKING:
    from tts_core.config import TTSConfig
    from tts_core.domain.counters import Counters
    from tts_core.domain.message import TTSMessage

log = logging.getLogger(__name__)

DOWN_SECONDS = 30.0
UNCACHED_ENGINES = ("espeak", "pyttsx3", "auto")  # offline and fast: a cache would only fill the disk
MAX_WAIT_SECONDS = 5.0
ENGINE_TIMEOUT_SHARE = 0.75  # of tts_queue.engine_timeout_seconds, for one engine's call
TIMED_ENGINES = ("gtts", "azure", "edge", "piper", "openai", "elevenlabs")
STATE_LIMIT = 10_000  # messages whose chain position is remembered


@dataclass
class Link:
    """One engine of the chain, created on first use."""

    name: str
    factory: Callable[[], Engine]
    engine: Engine | None = None
    down_until: float = 0.0
    last_error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self) -> Engine:
        with self.lock:
            if self.engine is None:
                self.engine = self.factory()
            return self.engine

    def is_down(self, now: float) -> bool:
        return now < self.down_until


@dataclass
class _Position:
    index: int = 0
    attempts: int = 0  # calls on the engine at ``index``


class EngineChain(Engine):
    """An Engine that tries ``links`` in order. ``max_retries``: retries per engine
    before the next one takes over; ``cache``: optional clip cache; ``down_seconds``:
    how long a failed engine is passed over; ``max_wait_seconds``: the longest 429
    wait an engine may ask before the next one speaks instead."""

    def __init__(
        self,
        links: list[Link],
        max_retries: int = 3,
        cache: ClipCache | None = None,
        down_seconds: float = DOWN_SECONDS,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
    ) -> None:
        if not links:
            raise ValueError("an engine chain needs at least one engine")
        self.links = links
        self.max_retries = max_retries
        self.cache = cache
        self.down_seconds = down_seconds
        self.max_wait_seconds = max_wait_seconds
        self.name = ">".join(link.name for link in links)
        self._positions: OrderedDict[str, _Position] = OrderedDict()
        self._inflight: dict[str, list[Any]] = {}  # key -> [lock, waiters]
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"EngineChain({self.name!r})"

    @property
    def primary(self) -> Link:
        return self.links[0]

    # -- the Engine contract ------------------------------------------------------------

    def synthesize(
        self, text: str, voice: str | None = None, rate: int | None = None, volume: float | None = None
    ) -> bytes:
        """Try every engine once, in order (for `obs-tts say --out` and plain callers)."""
        last: Exception | None = None
        for i, link in enumerate(self.links):
            try:
                data, _ = self._call(link, text, voice if i == 0 else None, rate, volume)
                return data
            except Exception as exc:  # noqa: BLE001 - the next engine is tried
                log.warning("engine %s failed (%s); trying the next one", link.name, exc)
                last = exc
        assert last is not None
        raise last

    def list_voices(self) -> list[Voice]:
        return self.primary.get().list_voices()

    def check_voice(self, voice: str) -> None:
        """The configured voice belongs to the first engine (espeak: variants like en+f3)."""
        self.primary.get().check_voice(voice)

    def status(self) -> str:
        """One line for status displays: engines that are down, and who speaks instead,
        and what engines say of themselves (auto: the voice it chose); "" when all is well."""
        now = time.monotonic()
        down = [link for link in self.links if link.is_down(now)]
        # What an engine says of itself (auto: which voice it chose).
        own = [line for link in self.links if link.engine is not None and not link.is_down(now)
               for line in (link.engine.status(),) if line]
        if not down:
            return "; ".join(own)
        speaking = next((link.name for link in self.links if not link.is_down(now)), self.links[-1].name)
        parts = [f"{link.name} down for {link.down_until - now:.0f} s ({link.last_error[:80]})"
                 for link in down]
        return "; ".join([*parts, *own]) + f"; {speaking} speaks"

    def cancel_all(self) -> int:
        return sum(link.engine.cancel_all() for link in self.links if link.engine is not None)

    def close(self) -> None:
        for link in self.links:
            if link.engine is not None:
                link.engine.close()

    # -- per message -----------------------------------------------------------------

    def synthesize_message(
        self,
        msg: TTSMessage,
        voice: str | None,
        rate: int | None,
        volume: float | None,
        counters: Counters | None = None,
    ) -> bytes:
        """One worker attempt for ``msg``: its current engine, or the next ones when that
        one is down, unavailable, permanently failing or out of retries. Records on
        ``msg`` which engine spoke it; counts ``fallbacks`` and ``cache_hits``."""
        with self._lock:
            pos = self._positions.get(msg.id)
            if pos is None:
                pos = self._positions[msg.id] = _Position()
                while len(self._positions) > STATE_LIMIT:
                    self._positions.popitem(last=False)
        now = time.monotonic()
        last = len(self.links) - 1
        while pos.index < last and self.links[pos.index].is_down(now):
            pos.index, pos.attempts = pos.index + 1, 0
        while True:
            link = self.links[pos.index]
            pos.attempts += 1
            try:
                data, hit = self._call(link, msg.text, voice if pos.index == 0 else None, rate, volume)
            except Exception as exc:
                engine_wide = not msg.voice  # not this message's own voice: the key, region, ...
                if pos.index == last or not self._moves_on(link, exc, pos.attempts, engine_wide):
                    raise
                log.warning("message %s: engine %s failed (%s); the next engine speaks it",
                            msg.id, link.name, exc)
                pos.index, pos.attempts = pos.index + 1, 0
                msg.attempts = 1  # a fresh set of retries on the next engine; this call is its first
                continue
            with self._lock:
                self._positions.pop(msg.id, None)
            record_speaker(msg, link, self.primary.name if pos.index > 0 else None,
                           voice if pos.index == 0 else None)
            if counters is not None:
                if pos.index > 0:
                    counters.add("fallbacks")
                if hit:
                    counters.add("cache_hits")
            return data

    def _moves_on(self, link: Link, exc: Exception, attempts: int, engine_wide: bool = True) -> bool:
        """Whether this failure hands the message to the next engine (and marks it down:
        not when only this message's own voice was refused)."""
        now = time.monotonic()
        link.last_error = str(exc)
        if isinstance(exc, EngineUnavailable):
            link.down_until = now + self.down_seconds
            return True
        if isinstance(exc, PermanentEngineError):
            if engine_wide:
                link.down_until = now + self.down_seconds
            return True
        if isinstance(exc, EngineRateLimited) and (exc.retry_after or 0) > self.max_wait_seconds:
            link.down_until = now + float(exc.retry_after or 0)
            return True
        if attempts > self.max_retries:
            link.down_until = now + self.down_seconds
            return True
        return False

    def _call(
        self, link: Link, text: str, voice: str | None, rate: int | None, volume: float | None
    ) -> tuple[bytes, bool]:
        engine = link.get()
        cache = self.cache if link.name not in UNCACHED_ENGINES else None
        if cache is None:
            data = engine.synthesize(text, voice=voice, rate=rate, volume=volume)
            link.down_until = 0.0
            return data, False
        identity = engine.cache_identity(voice)
        # One synthesis per key at a time: a burst of identical alerts calls the engine once.
        flight_key = repr((identity, voice, rate, volume, text))
        with self._lock:
            flight = self._inflight.setdefault(flight_key, [threading.Lock(), 0])
            flight[1] += 1
        try:
            with flight[0]:
                cached = cache.get(identity, voice, rate, volume, text)
                if cached is not None:
                    return cached, True
                data = engine.synthesize(text, voice=voice, rate=rate, volume=volume)
                if data:
                    cache.put(identity, voice, rate, volume, text, data)
        finally:
            with self._lock:
                flight[1] -= 1
                if flight[1] == 0:
                    self._inflight.pop(flight_key, None)
        link.down_until = 0.0
        return data, False


def record_speaker(msg: TTSMessage, link: Link, fallback_from: str | None, voice: str | None) -> None:
    """Record on ``msg`` the engine that really spoke it and its voice: ``auto`` (or an
    ``espeak`` without espeak-ng) names the engine it chose, and a configured engine that
    another one spoke for counts as replaced (``fallback_from``)."""
    engine = link.engine
    msg.engine = engine.speaker() if engine is not None else link.name
    msg.spoken_voice = engine.voice_for(voice) if engine is not None else voice
    if fallback_from is None and msg.engine != link.name and link.name != "auto":
        fallback_from = link.name
    msg.fallback_from = fallback_from


def engine_from_config(config: TTSConfig, cache_dir: Path | None = None) -> Engine:
    """The chain for ``config.engine`` (name, then fallback) with the clip cache.

    The first engine is created now, so a wrong setting shows at start; when it cannot
    start and there is a fallback, the chain starts anyway (the next engine speaks).
    """
    from tts_core.config import default_data_dir
    from tts_core.engines import create_engine
    from tts_core.engines.auto_engine import espeak_or_auto

    cfg = config.engine
    # An engine gives up before the worker's time-out does, so the chain can still move on.
    call_timeout = round(config.engine_timeout_seconds * ENGINE_TIMEOUT_SHARE, 3)

    def options(name: str) -> dict[str, Any]:
        opts = cfg.options_for(name)
        if name in TIMED_ENGINES:
            opts.setdefault("timeout", call_timeout)
        return opts

    def make(name: str) -> Engine:
        if name == "espeak":  # espeak-ng missing: the system voice speaks (auto)
            return espeak_or_auto(**options(name))
        return create_engine(name, **options(name))

    links = [Link(name, (lambda n=name: make(n))) for name in cfg.chain]  # type: ignore[misc]
    cache = None
    if cfg.cache_enabled and any(name not in UNCACHED_ENGINES for name in cfg.chain):
        folder = cfg.cache.get("dir") or (
            cache_dir or (Path(config.data_dir) if config.data_dir else default_data_dir()) / CACHE_FOLDER
        )
        try:
            cache = ClipCache(Path(str(folder)), cfg.cache_max_mb)
        except OSError as exc:
            log.warning("clip cache disabled: cannot use %s: %s", folder, exc)
    chain = EngineChain(links, max_retries=config.max_retries, cache=cache)
    try:
        links[0].get()
    except Exception as exc:
        if len(links) == 1:
            raise
        links[0].down_until = time.monotonic() + DOWN_SECONDS
        log.warning("engine %s cannot start (%s); %s speaks until it can", links[0].name, exc, links[1].name)
    return chain
