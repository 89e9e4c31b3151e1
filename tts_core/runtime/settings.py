"""One way a setting changes: validate the whole config, prepare every part, commit all.

Every component that holds settings (the queue manager's pieces, the event
translator, the listener) takes a new ``TTSConfig`` through one method,
``prepare_config(config) -> commit``. ``prepare_config`` does all the work that can
fail (build an engine, open a journal, compile moderation rules) and changes nothing
that is running; the ``Prepared`` it returns has a ``commit`` that swaps the prepared
state in and cannot fail, and a ``discard`` that releases what was prepared when
another part refused the config. ``Settings.apply`` runs that protocol over every registered part, so a config
is applied everywhere or nowhere, and no part mutates a config object another part
holds: each keeps a reference to its own (frozen by convention) section and replaces
it on commit.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tts_core.config import TTSConfig

log = logging.getLogger(__name__)


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Prepared:
    """A checked change of one part: ``commit`` (must not fail), ``discard`` (undo the prepare)."""

    commit: Callable[[], None]
    discard: Callable[[], None] = _nothing


class Configurable(Protocol):
    """A component whose settings come from a TTSConfig."""

    def prepare_config(self, config: TTSConfig) -> Prepared:
        """Check and build what ``config`` needs; raise (ValueError, RuntimeError, OSError)
        to refuse it with nothing changed. The returned commit must not fail."""
        ...


class Settings:
    """The registered parts of one queue and the one way to change their settings.

    Parts are held weakly: an event translator or a listener that is dropped leaves
    the list by itself. ``apply`` is serialized; parts are prepared and committed in
    the order they were added.
    """

    def __init__(self) -> None:
        self._parts: list[weakref.ref[Configurable]] = []
        self._lock = threading.RLock()

    def add(self, part: Configurable) -> Callable[[], None]:
        """Register ``part``; returns a function that unregisters it."""
        ref = weakref.ref(part)
        with self._lock:
            self._parts.append(ref)

        def remove() -> None:
            with self._lock:
                if ref in self._parts:
                    self._parts.remove(ref)

        return remove

    def parts(self) -> list[Configurable]:
        with self._lock:
            alive = [(ref, ref()) for ref in self._parts]
            self._parts = [ref for ref, part in alive if part is not None]
            return [part for _, part in alive if part is not None]

    def apply(self, config: TTSConfig) -> None:
        """Validate ``config`` as a start would, prepare every part, then commit them all.

        Raises the first part's refusal (ConfigError/ValueError, RuntimeError, OSError);
        then nothing was committed anywhere.
        """
        config.validate()
        with self._lock:
            prepared: list[Prepared] = []
            try:
                for part in self.parts():
                    prepared.append(part.prepare_config(config))
            except BaseException:
                for change in reversed(prepared):
                    change.discard()
                raise
            for change in prepared:
                change.commit()
