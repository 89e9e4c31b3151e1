"""The queue as the OBS script runs it: manager, listener and OBS sink, applied from settings.

``ObsTTSApp`` is what ``obs_tts_queue.py`` drives. OBS callbacks only call its cheap
methods (``settings_changed``, controls, ``status_text``); everything slow (starting
the manager, restarting the listener, building an engine) happens on its own
"tts-control" thread, after the settings have been quiet for ``debounce_s`` (OBS calls
``script_update`` on every keystroke). ``shutdown`` stops every thread it started.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from tts_core.config import TTSConfig
from tts_core.domain.message import MessagePriority, MessageState
from tts_core.engines import ENGINES, create_engine
from tts_core.ingest.translator import StreamerBotIntegration
from tts_core.obs.ducking import Ducking
from tts_core.obs.script.api import ObsApi
from tts_core.obs.script.ducking import DuckingKeeper
from tts_core.obs.script.media_source import MediaSourceKeeper
from tts_core.obs.script.pump import Pump
from tts_core.obs.script.settings import (
    Changes,
    config_from_settings,
    ducking_section,
    normalize,
    plan_changes,
)
from tts_core.obs.script.sink import ObsMediaSink
from tts_core.runtime.manager import TTSQueueManager

log = logging.getLogger(__name__)

DEBOUNCE_SECONDS = 0.4
SHUTDOWN_SECONDS = 1.8
TEST_VOICE_TEXT = "This is how your text to speech voice sounds."

ListenerFactory = Callable[[TTSQueueManager, StreamerBotIntegration], Any]


def default_listener_factory(manager: TTSQueueManager, integration: StreamerBotIntegration) -> Any:
    from tts_core.listener import ListenerServer  # needs the aiohttp package

    return ListenerServer(manager, integration, manager.config.listener)


class ObsTTSApp:
    """Parameters: ``api`` (ObsApi), ``pump`` (drained by the script's timer), ``start_state``
    (``paused``/``disabled`` as saved when OBS closed, see ``control_state``),
    ``settings`` (the script's settings, see tts_core.obs.script.settings), ``saved_state``
    (the media source's state saved last time), ``listener_factory`` (builds the
    listener; None: no listener), ``debounce_s``, ``engine`` (default: the one the
    settings name)."""

    def __init__(self, api: ObsApi, pump: Pump, settings: Mapping[str, Any], saved_state: str | None = None,
                 listener_factory: ListenerFactory | None = default_listener_factory,
                 debounce_s: float = DEBOUNCE_SECONDS, engine: object | None = None,
                 start_state: Mapping[str, bool] | None = None) -> None:
        self.api = api
        self.start_state = {"paused": False, "disabled": False, **(start_state or {})}
        self.notes: dict[str, str] = {}  # things the streamer should know, shown in the status
        self.engine = engine
        self.pump = pump
        self.listener_factory = listener_factory
        self.debounce_s = debounce_s
        self.applied = normalize(settings)
        self.manager: TTSQueueManager | None = None
        self.media_source = MediaSourceKeeper(api, self.applied["media_source"], saved_state)
        self.sink = ObsMediaSink(api, pump, self.media_source, self.applied["caption_source"],
                                 has_next=self._next_clip_ready)
        self.ducking = DuckingKeeper(api, lambda: self.media_source.name)  # docs/obs.md, "Ducking"
        self.ducking.want(Ducking.from_config(ducking_section(self.applied)))  # before the queue starts
        pump.on_tick(self._duck_tick)
        self.integration: StreamerBotIntegration | None = None
        self.listener: Any = None
        self.connectors: list[Any] = []  # tts_core.connectors: they follow the settings by themselves
        self.errors: dict[str, str] = {}
        self._latest = dict(self.applied)
        self._changed_at = 0.0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._voices: dict[str, list[tuple[str, str]]] = {}
        self._listener_retry_at: float | None = None  # when to try to start the listener again
        self._listener_retries = 0

    # -- lifecycle (OBS threads) ---------------------------------------------------------

    def start(self) -> None:
        """Start the control thread; it builds and starts the queue and the listener."""
        self._thread = threading.Thread(target=self._run, name="tts-control", daemon=True)
        self._thread.start()

    def settings_changed(self, settings: Mapping[str, Any]) -> None:
        """Cheap (every keystroke): remember the values; they apply once quiet."""
        values = normalize(settings)
        with self._cond:
            if values == self._latest:
                return
            self._latest = values
            self._changed_at = time.monotonic()
            self._cond.notify_all()

    def shutdown(self, timeout: float = SHUTDOWN_SECONDS) -> bool:
        """Stop the listener, the queue and the control thread; True if all ended in time."""
        waits = sorted(self.sink.handoffs)
        if waits:
            log.info("OBS's graphics thread waited for the next clip %d time(s): median %.2f ms, max %.2f ms",
                     len(waits), waits[len(waits) // 2] * 1000, waits[-1] * 1000)
        self.sink.detach()
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        if thread.is_alive():
            log.warning("TTS control thread still busy %.1f s after shutdown", timeout)
            return False
        return True

    @property
    def is_running(self) -> bool:
        return self.manager is not None and self.manager.is_running

    # -- control thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._start_queue(config_from_settings(self.applied))
            self._start_listener()
            self._start_connectors()
            while True:
                with self._cond:
                    while not self._stopping and not self._due() and not self._listener_retry_due():
                        self._cond.wait(self._wait_time())
                    if self._stopping:
                        break
                    values = dict(self._latest) if self._due() else None
                if values is not None:
                    self._apply(values)
                elif self._listener_retry_due():
                    self._start_listener()
        except Exception:
            log.exception("TTS control thread failed")
        finally:
            self._stop_all()

    def _due(self) -> bool:
        return self._latest != self.applied and time.monotonic() - self._changed_at >= self.debounce_s

    def _wait_time(self) -> float | None:
        waits = []
        if self._latest != self.applied:
            waits.append(max(0.01, self.debounce_s - (time.monotonic() - self._changed_at)))
        if self._listener_retry_at is not None:
            waits.append(max(0.01, self._listener_retry_at - time.monotonic()))
        return min(waits) if waits else None

    def _listener_retry_due(self) -> bool:
        return self._listener_retry_at is not None and time.monotonic() >= self._listener_retry_at

    def _start_queue(self, config: TTSConfig) -> None:
        try:
            manager = TTSQueueManager(config, engine=self.engine, sink=self.sink)
            self.integration = StreamerBotIntegration(manager)
            manager.settings.add(self.ducking)  # the section ``ducking`` changes with the rest
            self.ducking.want(Ducking.from_config(config.ducking))
            if self.start_state["paused"]:  # before start: nothing from the journal plays
                manager.pause()
            if self.start_state["disabled"]:
                manager.disable()
            manager.start()
            if self.start_state["paused"] or self.start_state["disabled"]:
                log.info("TTS is %s, as it was when OBS closed", " and ".join(
                    word for word, on in (("paused", self.start_state["paused"]),
                                          ("disabled", self.start_state["disabled"])) if on))
        except Exception as exc:  # noqa: BLE001 - shown in the panel and the log
            self.errors["queue"] = str(exc)
            log.error("TTS queue could not start: %s", exc)
            return
        self.errors.pop("queue", None)
        self.manager = manager

    def _duck_tick(self) -> None:
        """OBS's graphics thread, every frame: the ducking filters, once OBS has loaded."""
        if self.media_source.ready:
            self.ducking.tick(time.monotonic())

    def _next_clip_ready(self) -> bool:
        """For the sink, on OBS's graphics thread: the running queue has its next clip ready."""
        manager = self.manager
        return manager is not None and next_clip_ready(manager)

    def _start_listener(self) -> None:
        """Start the listener; if it cannot start (e.g. its Port is taken), say so once
        (status and one warning) and try again by itself, every LISTENER_RETRY_SECONDS
        step, until it can or the settings change."""
        self._listener_retry_at = None
        if self.manager is None or self.integration is None or self.listener_factory is None:
            return
        host, port = self.manager.config.listener.host, self.manager.config.listener.port
        try:
            listener = self.listener_factory(self.manager, self.integration)
            listener.start()
        except Exception as exc:  # noqa: BLE001 - e.g. the port is taken
            self._listener_failed(host, port, exc)
            return
        if self._listener_retries:
            log.info("listener: port %s is free again; the listener is up", port)
        self._listener_retries = 0
        self.errors.pop("listener", None)
        self.listener = listener

    def _listener_failed(self, host: str, port: int, exc: Exception) -> None:
        delay = LISTENER_RETRY_SECONDS[min(self._listener_retries, len(LISTENER_RETRY_SECONDS) - 1)]
        self._listener_retries += 1
        self._listener_retry_at = time.monotonic() + delay
        message = listener_problem(host, port, exc)
        if self.errors.get("listener") != message:  # one warning per problem, not per attempt
            log.warning("listener is down: %s", message)
        self.errors["listener"] = message

    def _stop_listener(self) -> None:
        if self.listener is not None:
            self.listener.stop(0.5)
            self.listener = None

    def _start_connectors(self) -> None:
        """Streamer.bot and the others: each runs while its settings say enabled (live)."""
        if self.manager is None or self.integration is None or self.connectors:
            return
        try:
            from tts_core.connectors.running import build_connectors

            self.connectors = build_connectors(self.manager, self.integration)
            for connector in self.connectors:
                connector.start()
        except Exception as exc:  # noqa: BLE001 - shown in the panel and the log
            self.errors["connectors"] = str(exc)
            log.error("connectors could not start: %s", exc)

    def _stop_connectors(self) -> None:
        for connector in self.connectors:
            connector.close()
        self.connectors = []

    def _stop_all(self) -> None:
        self._stop_connectors()
        self._stop_listener()
        if self.manager is not None:
            self.manager.stop(1.2)

    def _apply(self, values: dict[str, Any]) -> None:
        """Apply what changed between the applied settings and ``values``."""
        changes = plan_changes(self.applied, values)
        try:
            config = config_from_settings(values, base=self.manager.config if self.manager else None)
        except ValueError as exc:
            self.errors["settings"] = str(exc)
            log.error("settings not applied: %s", exc)
            self.applied = values
            return
        self.errors.pop("settings", None)
        self.applied = values
        log.info("applying settings: %s", _describe(changes))
        self.sink.set_sources(values["media_source"], values["caption_source"])
        manager = self.manager
        if manager is None:
            self._start_queue(config)
            self._start_listener()
            self._start_connectors()
            return
        try:  # live: the clip that plays is not cut, the queue is not restarted
            manager.reconfigure(config)
        except Exception as exc:  # noqa: BLE001 - the previous settings keep running
            self.errors["settings"] = f"not applied, the previous settings keep running: {exc}"
            log.error("settings not applied (the previous settings keep running): %s", exc)
            return
        if changes.listener or (self.listener is None and "listener" in self.errors):
            self._stop_listener()
            self._listener_retries = 0
            self._start_listener()
        if changes.reload:
            log.warning("the packages folder is used after the script is reloaded (Tools > Scripts > Reload)")

    # -- controls (any thread; cheap) ---------------------------------------------------------

    def skip(self) -> str | None:
        return self.manager.skip() if self.manager else None

    def pause(self) -> None:
        if self.manager:
            self.manager.pause()

    def resume(self) -> None:
        if self.manager:
            self.manager.resume()

    def toggle_pause(self) -> bool:
        """Pause when playing, resume when paused; returns True if now paused."""
        if self.manager is None:
            return False
        if self.manager.paused:
            self.manager.resume()
        else:
            self.manager.pause()
        return self.manager.paused

    def clear(self) -> int:
        return self.manager.clear() if self.manager else 0

    def replay(self) -> str | None:
        if self.manager is None:
            return None
        try:
            return self.manager.replay()
        except LookupError as exc:
            log.info("%s", exc)
            return None

    def test_voice(self) -> str | None:
        """Queue a sample sentence (URGENT: it plays right after the current clip)."""
        if self.manager is None:
            return None
        return self.manager.add_message(TEST_VOICE_TEXT, MessagePriority.URGENT, event_type="tts")

    # -- looking ---------------------------------------------------------------------------

    def status_text(self) -> str:
        """The properties panel's status: the counts and state on the first line, then one
        line per thing to know (listener, waiting, failures, errors, engine), so it wraps."""
        if self.manager is None:
            state = "; ".join(self.errors.values()) or "starting"
            return f"Not running: {state}"
        stats = self.manager.get_stats()
        parts = [f"Queue: {stats['pending']}", f"played: {stats['played']}", f"failed: {stats['failed']}"]
        if stats.get("paused"):
            parts.append("PAUSED (Pause / Resume plays again)")
        if not stats.get("enabled", True):
            parts.append("DISABLED (new messages are refused)")
        lines = [" · ".join(parts)]
        if stats.get("waiting_for_sink"):
            lines.append(f"WAITING FOR OBS: {stats['waiting_for_sink']}")
        if self.listener is not None:
            lines.append(f"listening on {self.listener.url}")
        if self.sink.failures_in_a_row and self.sink.last_failure:
            lines.append(f"{self.sink.failures_in_a_row} clip(s) in a row failed: {self.sink.last_failure}")
        lines += [f"{what}: {error}" for what, error in self.errors.items()]
        lines += stats.get("alert_sounds_refused", [])
        if stats.get("journal_state") == "refusing_writes":
            lines.append(f"JOURNAL REFUSES WRITES (new messages are refused): {stats.get('journal_error')}")
        if self.connectors:
            from tts_core.connectors.running import status_line

            lines += [line for line in (status_line(self.manager),) if line]
        lines += engine_status(self.manager)
        lines += [line for line in (self.ducking.status_line(),) if line]
        lines += list(self.notes.values())
        return "\n".join(lines)

    def control_state(self) -> dict[str, bool]:
        """Paused and disabled, to keep across an OBS restart (the streamer paused for a reason)."""
        manager = self.manager
        if manager is None:
            return dict(self.start_state)
        return {"paused": manager.paused, "disabled": not manager.enabled}

    def voice_for_engine(self, engine_name: str, voice: str) -> str:
        """The voice to keep when the engine changes: ``voice`` if ``engine_name`` has it
        (or its voices are not known), else the engine's default (""), said in the status."""
        voices = self.voices(engine_name)
        self.notes.pop("voice", None)
        if not voice or not voices or voice in {voice_id for voice_id, _ in voices}:
            return voice
        self.notes["voice"] = (f"Voice: {engine_name} has no voice {voice!r}; it speaks with its default "
                               f"voice (pick one under Voice)")
        log.info("%s", self.notes["voice"])
        return ""

    def setup_warning(self) -> str:
        """What the script changed in the streamer's media source setup ("" if nothing)."""
        notes = self.media_source.setup_notes()
        return "The script changed your setup:\n" + "\n".join(f"• {note}" for note in notes) if notes else ""

    def voices(self, engine_name: str, refresh: bool = False) -> list[tuple[str, str]]:
        """(voice id, label) pairs the engine offers; cached until ``refresh``."""
        if refresh or engine_name not in self._voices:
            found = list_voices_briefly(engine_name, self.manager.config if self.manager else None)
            if found is None:  # a slow service: keep what we had; Refresh asks again
                return self._voices.get(engine_name, [])
            self._voices[engine_name] = sorted(set(found), key=lambda item: item[1].casefold())
        return self._voices[engine_name]


VOICE_LIST_WAIT_SECONDS = 3.0
LISTENER_RETRY_SECONDS = (1.0, 2.0, 4.0, 8.0, 15.0)  # then every 15 s until the listener starts


def listener_problem(host: str, port: int, exc: Exception) -> str:
    """Why the listener is down, in the words of the panel (group Listener: Host, Port)."""
    if getattr(exc, "errno", None) == errno.EADDRINUSE:
        return (f"Port {port} is in use by another program (or another OBS with this script): pick another "
                f"Port under Listener, or close that program. Trying again by itself until the port is free")
    text = str(exc).replace("listener.host", "Host").replace("listener.port", "Port")
    return f"cannot listen on {host}:{port}: {text}. Trying again by itself"


def engine_status(manager: TTSQueueManager) -> list[str]:
    """The engine chain's line for the status (an engine down, who speaks instead)."""
    line = manager.engine.status() if manager.engine is not None else ""
    return [line] if line else []


def list_voices_briefly(engine_name: str, config: TTSConfig | None,
                        wait_s: float = VOICE_LIST_WAIT_SECONDS) -> list[tuple[str, str]] | None:
    """(voice id, label) pairs of an engine, asked on a helper thread so OBS's UI thread
    waits at most ``wait_s`` for a cloud service; None if it did not answer in time."""
    result: list[list[tuple[str, str]]] = []

    def ask() -> None:
        try:
            options = config.engine.options_for(engine_name) if config is not None else {}
            options.pop("voice", None)
            engine = create_engine(engine_name, **options)
            result.append([(v.id, f"{v.name} ({v.id})" if v.name != v.id else v.id)
                           for v in engine.list_voices()])
        except Exception as exc:  # noqa: BLE001 - an engine that is not installed or set up
            log.info("cannot list the voices of %s: %s", engine_name, " ".join(str(exc).split()))
            result.append([])

    thread = threading.Thread(target=ask, name="tts-voices", daemon=True)
    thread.start()
    thread.join(wait_s)
    return result[0] if result else None


def next_clip_ready(manager: TTSQueueManager) -> bool:
    """Whether the player will start another clip right after this one (no pause between)."""
    if manager.alert_playing:  # the message's speech follows its alert sound
        return True
    if manager.paused or manager.config.pause_between_clips_ms:
        return False
    head = manager.get_queue(1)
    return bool(head) and head[0]["state"] == MessageState.READY.value


def engine_names() -> list[str]:
    return list(ENGINES)


def _describe(changes: Changes) -> str:
    return ", ".join(sorted(changes.keys)) or "nothing"
