"""The one base every connector is built on: connect, authenticate, subscribe, translate,
reconnect with back-off, drop duplicates, report the state.

A connector runs on its own thread with its own asyncio loop (like the listener), so a
service that is away, slow or refusing never delays the queue, the listener or OBS.
The subclass writes one coroutine, ``session(settings)``: connect, authenticate,
subscribe, call ``self.connected()``, then hand each platform event to
``await self.deliver(event_id, actions, label)`` until the connection ends. The base
runs it again after a back-off (1 s, 2 s, ... at most 30 s; a refused password waits
``AUTH_RETRY_SECONDS``), so every new connection authenticates and subscribes again.

Events become our events through the same ``StreamerBotIntegration`` as the listener's
(moderation, priorities, templates, voices), in order, on one submit thread per
connector (the loop never writes the journal). Duplicates are dropped by the
platform's event id, remembered across reconnects (the newest ``REMEMBERED_IDS``).

State (``report()``, in GetStats under ``connectors``): ``connected``, ``connecting``,
``auth_failed`` (with the reason) or ``disabled``, the seconds since, events received,
duplicates, payloads not understood, the last error. One log line per change of
state, never a traceback per retry. Settings apply live (``prepare_config``): a new
address, password or ``enabled`` reconnects at once; the rest applies to the next event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tts_core.config import TTSConfig
from tts_core.connectors.actions import Action, Remove, Speak
from tts_core.ingest.translator import StreamerBotIntegration
from tts_core.runtime.manager import TTSQueueManager
from tts_core.runtime.settings import Prepared

log = logging.getLogger(__name__)

CANCEL_AGAIN_SECONDS = 0.1
CONNECTED, CONNECTING, AUTH_FAILED, DISABLED = "connected", "connecting", "auth_failed", "disabled"
STATES = (CONNECTED, CONNECTING, AUTH_FAILED, DISABLED)
MAX_BACKOFF_SECONDS = 30.0
AUTH_RETRY_SECONDS = 60.0
REMEMBERED_IDS = 10_000


class AuthFailed(Exception):
    """The service refused our credentials; the message says why, for the streamer."""


class ConnectorError(Exception):
    """The service answered, but not as a connection can go on (the message says why)."""


class RecentIds:
    """The newest ``limit`` event ids: ``seen(id)`` is True for an id seen before."""

    def __init__(self, limit: int = REMEMBERED_IDS) -> None:
        self.limit = limit
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen(self, event_id: str) -> bool:
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return True
        self._ids[event_id] = None
        if len(self._ids) > self.limit:
            self._ids.popitem(last=False)
        return False

    def __len__(self) -> int:
        return len(self._ids)


def backoff_seconds(attempt: int) -> float:
    """The wait before connection attempt ``attempt + 1`` (1 s, 2 s, ..., 30 s)."""
    return min(MAX_BACKOFF_SECONDS, float(max(1, attempt)))


class Connector:
    """The base of every connector; see the module's doc.

    Parameters: ``manager`` (its settings reach the connector like every part; its
    GetStats shows the state), ``integration`` (the event translator events go
    through), ``config`` (default: the manager's). Subclasses set ``name`` (the key
    under ``connectors`` in the config) and write ``section`` and ``session``.
    """

    name = ""

    def __init__(self, manager: TTSQueueManager, integration: StreamerBotIntegration,
                 config: TTSConfig | None = None) -> None:
        self.manager = manager
        self.integration = integration
        self.settings: Any = self.section(config or manager.config)
        self.events_received = 0
        self.duplicates = 0
        self.not_understood: dict[str, int] = {}
        self.last_error: str | None = None
        self._state: str = DISABLED
        self._reason: str | None = None
        self._since = time.monotonic()
        self._changed = threading.Condition()  # notified on every change of state
        self._logged: tuple[str, str | None] | None = None
        self._connected_once = False
        self._seen = RecentIds()
        self._lock = threading.Lock()
        self._wanted = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stopping = False
        self._ending = False  # the thread has decided to end (a new start needs a new thread)
        self._submitter: ThreadPoolExecutor | None = None
        self._unregister = manager.settings.add(self)
        manager.connector_reports[self.name] = self.report

    # -- what a subclass writes -------------------------------------------------------------

    @classmethod
    def section(cls, config: TTSConfig) -> Any:
        """This connector's settings in ``config`` (they have ``enabled``)."""
        raise NotImplementedError

    async def session(self, settings: Any) -> None:
        """One connection: connect, authenticate, subscribe, ``connected()``, deliver events
        until it ends. Raise AuthFailed for refused credentials, anything else for a lost
        or refused connection (the message is shown as ``last_error``)."""
        raise NotImplementedError

    def describe(self, settings: Any) -> str:
        """Where it connects to, for log lines and the state (no secrets)."""
        return self.name

    # -- state -----------------------------------------------------------------------------

    def wait_until_settled(self, timeout: float) -> bool:
        """Wait until the first attempt has an answer: connected, refused, or an error;
        False if ``timeout`` ran out first (``obs-tts doctor`` uses it)."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._state in (CONNECTED, AUTH_FAILED) or self.last_error is not None, timeout)

    @property
    def state(self) -> str:
        return self._state

    def report(self) -> dict[str, Any]:
        """The state as GetStats, the OBS status line and ``obs-tts doctor`` show it."""
        shown: dict[str, Any] = {
            "state": self._state, "since_s": round(time.monotonic() - self._since, 1),
            "address": self.describe(self.settings), "events": self.events_received,
            "duplicates": self.duplicates, "not_understood": sum(self.not_understood.values()),
            "last_error": self.last_error,
        }
        if self._state == AUTH_FAILED:
            shown["reason"] = self._reason
        return shown

    def _set_state(self, state: str, reason: str | None = None) -> None:
        with self._changed:
            if state != DISABLED and not (self._wanted and self.settings.enabled):
                return  # switched off meanwhile (the thread is ending): "disabled" stays
            if state != self._state:
                self._since = time.monotonic()
            self._state, self._reason = state, reason
            self._changed.notify_all()
        if (state, reason) == self._logged:
            return
        self._logged = (state, reason)
        where = self.describe(self.settings)
        if state == CONNECTED:
            log.info("%s: connected to %s", self.name, where)
        elif state == AUTH_FAILED:
            log.warning("%s: %s refused the connection: %s (trying again every %.0f s)", self.name, where,
                        reason, AUTH_RETRY_SECONDS)
        elif state == DISABLED:
            log.info("%s: off", self.name)
        elif reason:
            log.warning("%s: cannot reach %s: %s (trying again, at most every %.0f s)", self.name, where,
                        reason, MAX_BACKOFF_SECONDS)
        else:
            log.info("%s: connecting to %s", self.name, where)

    def connected(self) -> None:
        """Called by ``session`` once authenticated and subscribed."""
        self._connected_once = True
        self.last_error = None
        self._set_state(CONNECTED)

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Run while ``enabled`` in the settings (now, or once a setting switches it on)."""
        self._wanted = True
        self._sync(restart=False)

    def stop(self, timeout: float = 2.0) -> None:
        """End the connection and the thread within ``timeout`` seconds."""
        self._wanted = False
        thread = self._sync(restart=False)
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("%s: thread still running %.1f s after stop", self.name, timeout)

    def close(self) -> None:
        """Stop, and leave the settings and the stats."""
        self.stop()
        self._unregister()
        if self.manager.connector_reports.get(self.name) == self.report:
            del self.manager.connector_reports[self.name]

    def prepare_config(self, config: TTSConfig) -> Prepared:
        """This connector's part of ``manager.reconfigure``: a change of its settings
        reconnects at once (or stops or starts it); nothing here can fail."""
        settings = self.section(config)

        def commit() -> None:
            changed = settings != self.settings
            self.settings = settings
            if changed:
                self._sync(restart=True)

        return Prepared(commit)

    def _sync(self, restart: bool) -> threading.Thread | None:
        """Start, wake or stop the thread to match ``_wanted`` and ``enabled``; returns a
        thread that was told to stop."""
        with self._lock:
            alive = self._thread is not None and self._thread.is_alive() and not self._ending
            thread = self._thread if alive else None
            run = self._wanted and bool(self.settings.enabled)
            if run and thread is not None and self._stopping:  # switched off and on again at once:
                self._stopping = False  # the thread has not decided to end yet: it carries on
                self._set_state(CONNECTING)
                self._poke()
                return None
            if run and thread is None:
                self._stopping = self._ending = False
                self._thread = threading.Thread(target=self._run, name=f"tts-connector-{self.name}",
                                                daemon=True)
                self._set_state(CONNECTING)
                self._thread.start()
                return None
            if run and restart:
                self._poke()
                return None
            if not run:
                self._set_state(DISABLED)
                if thread is not None:
                    self._stopping = True
                    self._poke()
                    return thread
            return None

    def _poke(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(wake.set)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        submitter = ThreadPoolExecutor(1, thread_name_prefix=f"tts-connector-{self.name}-submit")
        self._submitter = submitter
        try:
            loop.run_until_complete(self._main(loop))
        except Exception:
            log.exception("%s: stopped on an error", self.name)
        finally:
            with self._lock:
                if self._loop is loop:  # not yet replaced by a thread started after this one ended
                    self._loop, self._wake = None, None
            loop.close()
            submitter.shutdown(wait=True)

    async def _main(self, loop: asyncio.AbstractEventLoop) -> None:
        self._wake = asyncio.Event()
        self._loop = loop
        attempt = 0
        while not self._ends():
            settings = self.settings
            if self._state != AUTH_FAILED:
                self._set_state(CONNECTING, self.last_error)
            self._connected_once = False
            woken, error = await self._one_session(settings)
            if self._ends():
                return
            if woken:  # a setting changed: connect again at once with it
                attempt, self.last_error = 0, None
                self._set_state(CONNECTING)
                continue
            attempt = 1 if self._connected_once else attempt + 1
            if isinstance(error, AuthFailed):
                self.last_error = str(error)
                self._set_state(AUTH_FAILED, str(error))
                delay = AUTH_RETRY_SECONDS
            else:
                self.last_error = _describe(error)
                self._set_state(CONNECTING, self.last_error)
                delay = backoff_seconds(attempt)
            if await self._sleep(delay) and not self._ends():  # woken by a setting, not by a stop
                attempt, self.last_error = 0, None  # the error was the old settings'
                self._set_state(CONNECTING)

    def _ends(self) -> bool:
        """Whether the thread ends now (told to stop, or switched off). Decided under the
        lock, so that ``_sync`` either sees a thread that carries on or starts a new one."""
        with self._lock:
            if self._stopping or not self.settings.enabled:
                self._ending = True
            return self._ending

    async def _one_session(self, settings: Any) -> tuple[bool, BaseException | None]:
        """Run ``session`` until it ends or a setting wakes us: (woken, the error it ended on)."""
        assert self._wake is not None
        self._wake.clear()
        task = asyncio.ensure_future(self.session(settings))
        waker = asyncio.ensure_future(self._wake.wait())
        await asyncio.wait({task, waker}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            # Cancel until it ends: asyncio.wait_for before Python 3.12 can swallow a
            # cancellation that arrives just as its inner read completes, and the session
            # would then read on for ever.
            while not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=CANCEL_AGAIN_SECONDS)
            with contextlib.suppress(BaseException):
                task.result()
            return True, None
        waker.cancel()
        if task.cancelled():
            return False, ConnectorError("cancelled")
        return False, task.exception()

    async def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; True when a setting change or stop woke us first."""
        assert self._wake is not None
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except (TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11
            return False
        return True

    # -- events ------------------------------------------------------------------------------

    async def deliver(self, event_id: str | None, actions: Iterable[Action], label: str) -> None:
        """Count an event, drop it if its id was seen, else apply its actions in order."""
        self.events_received += 1
        if event_id is not None and self._seen.seen(event_id):
            self.duplicates += 1
            log.debug("%s: duplicate %s %s dropped", self.name, label, event_id)
            return
        loop = asyncio.get_running_loop()
        for action in actions:
            await loop.run_in_executor(self._submitter, self._apply, action, label)

    def _apply(self, action: Action, label: str) -> None:
        """On the submit thread: the action through the event translator."""
        try:
            if isinstance(action, Remove):
                self.integration.remove(action.kind, action.fields)
            elif isinstance(action, Speak):
                result = self.integration.submit(action.event_type, action.fields)
                log.debug("%s: %s -> %s", self.name, label, result)
        except (ValueError, TypeError) as exc:
            self.not_understood_payload(label, str(exc))
        except RuntimeError as exc:  # the queue is full: say so every time, nothing is lost silently
            log.warning("%s: %s not queued: %s", self.name, label, exc)

    def not_understood_payload(self, label: str, why: str) -> None:
        """Count a payload we cannot use; the first one of each type is logged."""
        count = self.not_understood.get(label, 0) + 1
        self.not_understood[label] = count
        if count == 1:
            log.warning("%s: %s not understood: %s (counted; further ones of this type are not logged)",
                        self.name, label, why)


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "the connection was closed"
    text = str(error).strip()
    if isinstance(error, (ConnectionRefusedError,)) or "Connect call failed" in text:
        return "connection refused (is it running, and is its WebSocket server on?)"
    return text or type(error).__name__
