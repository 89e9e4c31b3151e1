"""Run a real, isolated OBS Studio under Xvfb for end-to-end tests.

Typical use::

    setup = ObsSetup(script_path=Path("obs_tts_queue.py"),
                     script_settings={"engine": "espeak"})
    with ObsHarness(setup) as obs:
        obs.client.call("SetInputSettings", inputName="TTS Audio", inputSettings={...})
        obs.client.wait_for_event("MediaInputPlaybackEnded",
                                  lambda d: d["inputName"] == "TTS Audio")
        path = obs.stop_recording()

or as the pytest fixture ``obs_instance`` (parametrize it indirectly with an
``ObsSetup``).

Everything lives in a private working directory: ``XDG_CONFIG_HOME`` (global.ini, the
profile, the scene collection, OBS's logs), the recordings folder and the stdout/stderr
of OBS and Xvfb. Facts this relies on are in docs/architecture.md, section 6.
"""

from __future__ import annotations

import configparser
import contextlib
import io
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import pytest
import websocket
from obswebsocket import exceptions as obsws_exceptions
from obswebsocket import obsws
from obswebsocket.base_classes import Baseevents
from x11_close import find_window, request_close

log = logging.getLogger(__name__)

__all__ = [
    "HarnessError",
    "ObsClient",
    "ObsHarness",
    "ObsRequestError",
    "ObsSetup",
    "RecordedEvent",
    "SourceSpec",
    "find_free_port",
    "missing_programs",
    "obs_instance_fixture",
    "poll",
]

REQUIRED_PROGRAMS = ("obs", "Xvfb")
MAIN_WINDOW = r"^OBS [0-9]"  # the main window's title: "OBS 29.0.2 (linux) - Profile: ..."
SHUTDOWN_LINE = "==== Shutting down"  # OBS's log, when its main window's close begins the shutdown
CLOSE_BEGIN_SECONDS = 5.0


def poll(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout`` seconds pass (then its last value)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


class HarnessError(RuntimeError):
    """OBS or Xvfb could not be started, reached or stopped as expected."""


class ObsRequestError(HarnessError):
    """An obs-websocket request failed (requestStatus.result was false)."""

    def __init__(
        self,
        request_type: str,
        code: int | None,
        comment: str | None,
        request_data: Mapping[str, Any],
    ) -> None:
        self.request_type = request_type
        self.code = code
        self.comment = comment
        self.request_data = dict(request_data)
        super().__init__(
            f"{request_type} failed: code={code} comment={comment!r} "
            f"request={self.request_data!r}"
        )


# --------------------------------------------------------------------------- helpers


def missing_programs() -> list[str]:
    """Names of the programs the harness needs that are not on PATH."""
    return [p for p in REQUIRED_PROGRAMS if shutil.which(p) is None]


def find_free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (bind to port 0 and release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _sigint_deadlock(stacks: str) -> bool:
    """OBS 29's own shutdown bug, not ours: its SIGINT handler closes the main window
    right inside the signal handler (not async-signal-safe), so when the signal lands
    while the main thread holds a lock (Xlib/xcb's, Qt's posted-event mutex, malloc's
    arena), the handler's close waits forever for it (OBS 30 moved the handler to a
    socket). Seen as thread 1 blocked on a lock in ``close_helper`` under ``<signal
    handler called>``. Any other hang is still a failure."""
    main = stacks.split("\nThread 1 ", 1)[-1] if "\nThread 1 " in stacks else ""
    closing, handler = main.find("close_helper"), main.find("<signal handler called>")
    if closing == -1 or handler == -1 or closing > handler:
        return False
    waiting = main[:closing]  # the frames the handler's close is blocked in
    return any(lock in waiting for lock in ("xcb", "QBasicMutex::lockInternal", "lll_lock_wait"))


_THREAD = re.compile(r'^Thread \d+ \(.*?"([^"]*)"\)', re.M)
_FRAME = re.compile(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(<signal handler called>|[\w:~<>]+)", re.M)


def _stack_summary(stacks: str, frames: int = 6) -> str:
    """One line per OBS thread from gdb's ``thread apply all bt``: its name and its
    innermost ``frames`` functions, so a hang reported by CI (which keeps only the test
    output) says where each thread waited."""
    lines = []
    for block in re.split(r"(?m)^(?=Thread \d+ \()", stacks):
        if not (head := _THREAD.match(block)):
            continue
        names = _FRAME.findall(block)[:frames]
        lines.append(f"{head[1]}: {' < '.join(names)}")
    return "\n".join(lines)


def path_for_obs(path: str) -> str:
    """``path`` without the ``bin`` folders of Python environments: an active virtualenv
    (a ``pyvenv.cfg`` next to it) or a pyenv version. OBS's embedded Python finds its home
    from the first ``python3`` on PATH: with such a folder first, it loads that build's
    extension modules (``_ssl``: "undefined symbol"). A streamer's desktop starts OBS
    with the system's Python first."""
    kept = []
    for folder in path.split(os.pathsep):
        venv = os.path.isfile(os.path.join(folder, os.pardir, "pyvenv.cfg"))
        pyenv_version = f"{os.sep}.pyenv{os.sep}versions{os.sep}" in folder
        if folder and not venv and not pyenv_version:
            kept.append(folder)
    return os.pathsep.join(kept)


def _tail(path: Path | None, lines: int = 40) -> str:
    if path is None or not path.exists():
        return "<no file>"
    text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(text[-lines:])


def _write_ini(path: Path, sections: Mapping[str, Mapping[str, object]]) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep key case
    for section, values in sections.items():
        parser[section] = {k: _ini_value(v) for k, v in values.items()}
    buf = io.StringIO()
    parser.write(buf, space_around_delimiters=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _ini_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------- setup


@dataclass
class SourceSpec:
    """An input to put into the scene collection (and into a scene, visible)."""

    name: str
    kind: str  # OBS source id, e.g. "ffmpeg_source", "color_source_v3"
    settings: dict[str, Any] = field(default_factory=dict)
    scene: str | None = None  # None: the main scene
    visible: bool = True
    volume: float = 1.0
    muted: bool = False


@dataclass
class ObsSetup:
    """What the isolated OBS starts with."""

    scene: str = "Scene"
    extra_scenes: Sequence[str] = ()
    sources: Sequence[SourceSpec] = ()
    script_path: Path | None = None
    script_settings: Mapping[str, Any] = field(default_factory=dict)
    password: str | None = None  # None: AuthRequired=false
    collection: str = "E2E"
    profile: str = "E2E"
    width: int = 640
    height: int = 360
    fps: int = 30
    sample_rate: int = 48000
    screen: str = "1280x720x24"  # Xvfb's screen (WxHxDepth)
    start_timeout: float = 45.0
    stop_timeout: float = 20.0
    request_timeout: float = 15.0
    extra_env: Mapping[str, str] = field(default_factory=dict)
    extra_args: Sequence[str] = ()


# --------------------------------------------------------------------------- client


@dataclass(frozen=True)
class RecordedEvent:
    t: float  # time.monotonic() when the receive thread got it
    name: str  # obs-websocket eventType, e.g. "MediaInputPlaybackStarted"
    data: dict[str, Any]  # eventData


class _StatusKeepingObsws(obsws):  # type: ignore[misc]
    """obs-websocket-py 1.0 drops requestStatus.code/comment; this keeps them.

    Same protocol as ``obsws.call`` for v5, but returns the raw ``d`` payload.
    """

    def call_raw(self, request_type: str, data: Mapping[str, Any]) -> dict[str, Any]:
        message_id = str(self.id)
        self.id += 1
        event = threading.Event()
        self.events[message_id] = event
        payload = {
            "op": 6,
            "d": {
                "requestId": message_id,
                "requestType": request_type,
                "requestData": dict(data),
            },
        }
        try:
            self.ws.send(json.dumps(payload))
            event.wait(self.timeout)
        finally:
            self.events.pop(message_id, None)
        if message_id not in self.answers:
            raise obsws_exceptions.MessageTimeout(
                f"No answer for {request_type} within {self.timeout}s"
            )
        answer: dict[str, Any] = self.answers.pop(message_id)
        return answer


class ObsClient:
    """Thread-safe obs-websocket v5 client that records every event it receives.

    Event callbacks of obs-websocket-py run on its receive thread and must not call
    ``call()`` (it would time out); here they only append to ``events``.
    """

    def __init__(
        self, host: str, port: int, password: str | None = None, timeout: float = 15.0
    ) -> None:
        self.host = host
        self.port = port
        self._ws = _StatusKeepingObsws(
            host, port, password or "", legacy=False, timeout=timeout
        )
        self._call_lock = threading.Lock()
        self._cond = threading.Condition()
        self._events: list[RecordedEvent] = []
        self._connected = False

    # -- connection
    def connect(self) -> None:
        self._ws.register(self._on_event)
        self._ws.connect()
        self._connected = True
        log.info(
            "connected to obs-websocket %s at %s:%d",
            self._ws.server_version,
            self.host,
            self.port,
        )

    def disconnect(self) -> None:
        self._connected = False
        if self._ws.ws is None:
            return
        with contextlib.suppress(
            OSError, websocket.WebSocketException, RuntimeError, AttributeError
        ):
            self._ws.disconnect()
        self._ws.ws = None

    @property
    def connected(self) -> bool:
        return self._connected

    # -- requests
    def call(self, request_type: str, **request_data: Any) -> dict[str, Any]:
        """Send one request; return its responseData (``{}`` if none).

        Raises ObsRequestError when OBS answers with result=false, HarnessError on
        time-out or a closed connection.
        """
        if not self._connected:
            raise HarnessError(f"{request_type}: client is not connected")
        with self._call_lock:
            try:
                answer = self._ws.call_raw(request_type, request_data)
            except (
                obsws_exceptions.MessageTimeout,
                OSError,
                websocket.WebSocketException,
            ) as exc:
                raise HarnessError(
                    f"{request_type}: {type(exc).__name__}: {exc}"
                ) from exc
        status = answer.get("requestStatus", {})
        if not status.get("result"):
            raise ObsRequestError(
                request_type, status.get("code"), status.get("comment"), request_data
            )
        data: dict[str, Any] = answer.get("responseData") or {}
        return data

    # -- events
    def _on_event(self, event: Baseevents) -> None:
        rec = RecordedEvent(time.monotonic(), str(event.name), dict(event.datain))
        with self._cond:
            self._events.append(rec)
            self._cond.notify_all()

    @property
    def events(self) -> list[RecordedEvent]:
        """A snapshot of all events received so far, oldest first."""
        with self._cond:
            return list(self._events)

    def events_named(
        self, *names: str, after: float | None = None
    ) -> list[RecordedEvent]:
        return [
            e
            for e in self.events
            if e.name in names and (after is None or e.t >= after)
        ]

    def clear_events(self) -> None:
        with self._cond:
            self._events.clear()

    def wait_for_event(
        self,
        name: str,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 10.0,
        after: float | None = None,
    ) -> RecordedEvent:
        """First recorded event ``name`` (received at or after monotonic ``after``)
        whose data satisfies ``predicate``; waits up to ``timeout`` seconds for it.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for e in self._events:
                    if (
                        e.name == name
                        and (after is None or e.t >= after)
                        and (predicate is None or predicate(e.data))
                    ):
                        return e
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [x.name for x in self._events[-15:]]
                    raise HarnessError(
                        f"no {name} event within {timeout}s; last events: {seen}"
                    )
                self._cond.wait(remaining)


# --------------------------------------------------------------------------- OBS


class ObsHarness:
    """One isolated OBS (plus its own Xvfb). Context manager; call start()/stop()."""

    def __init__(
        self, setup: ObsSetup | None = None, workdir: Path | None = None
    ) -> None:
        self.setup = setup or ObsSetup()
        self._own_workdir = workdir is None
        self.workdir = (
            Path(tempfile.mkdtemp(prefix="obs-e2e-"))
            if workdir is None
            else Path(workdir)
        )
        self.config_home = self.workdir / "config"
        self.obs_dir = self.config_home / "obs-studio"
        self.logs_dir = self.obs_dir / "logs"
        self.record_dir = self.workdir / "recordings"
        self.display: int | None = None
        self.port: int | None = None
        self.startup_seconds: float | None = None
        self._xvfb: subprocess.Popen[bytes] | None = None
        self._obs: subprocess.Popen[bytes] | None = None
        self._client: ObsClient | None = None
        self._log_path: Path | None = None

    # -- public properties
    @property
    def client(self) -> ObsClient:
        if self._client is None:
            raise HarnessError("OBS is not started")
        return self._client

    @property
    def pid(self) -> int | None:
        return self._obs.pid if self._obs else None

    @property
    def log_path(self) -> Path | None:
        """OBS's own log file for this run (config/obs-studio/logs/<date time>.txt)."""
        if self._log_path is None and self.logs_dir.is_dir():
            files = sorted(self.logs_dir.glob("*.txt"), key=lambda p: p.stat().st_mtime)
            if files:
                self._log_path = files[-1]
        return self._log_path

    def read_log(self) -> str:
        path = self.log_path
        return path.read_text(encoding="utf-8", errors="replace") if path else ""

    def wait_for_log(
        self, pattern: str | re.Pattern[str], timeout: float = 10.0
    ) -> re.Match[str]:
        """Wait until the OBS log matches ``pattern`` (regex); return the match."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.read_log())
            if m:
                return m
            if time.monotonic() > deadline:
                raise HarnessError(
                    f"OBS log never matched {rx.pattern!r} within {timeout}s; "
                    f"tail:\n{_tail(self.log_path)}"
                )
            time.sleep(0.1)

    def script_log_lines(self, script_name: str | None = None) -> list[str]:
        """Lines a Python script printed/logged: OBS writes them to its log as
        ``HH:MM:SS.mmm: [Python: name.py] text``.
        """
        name = script_name or (
            self.setup.script_path.name if self.setup.script_path else ""
        )
        tag = f"[Python: {name}]"
        return [line for line in self.read_log().splitlines() if tag in line]

    # -- lifecycle
    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        """Stop; a working directory the harness created itself is removed unless
        the block raised (then it is kept for the logs, with OBS's thread stacks when OBS
        stopped answering obs-websocket)."""
        if exc_type is HarnessError and self._obs is not None and self._obs.poll() is None:
            self._dump_stacks("obs-stacks-at-failure.txt")
        self.stop(check=exc_type is None)
        if exc_type is None:
            self.cleanup()

    def start(self) -> None:
        missing = missing_programs()
        if missing:
            raise HarnessError(f"programs not installed: {missing}")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.record_dir.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        try:
            self._start_xvfb()
            self.port = find_free_port()
            self._write_config()
            self._start_obs()
            self._connect()
        except BaseException:
            self.stop(check=False)
            raise
        self.startup_seconds = time.monotonic() - t0
        log.info(
            "OBS ready in %.2fs (display :%s, port %s, log %s)",
            self.startup_seconds,
            self.display,
            self.port,
            self.log_path,
        )

    def stop(self, check: bool = True) -> None:
        """Disconnect, SIGINT OBS (SIGKILL after stop_timeout, then raise if
        ``check``), stop Xvfb."""
        error: str | None = None
        if self._client is not None:
            self._client.disconnect()
        if self._obs is not None:
            if self._obs.poll() is None and self.close_obs() == "hung":
                error = (
                    f"OBS did not exit within {self.setup.stop_timeout}s of being closed "
                    f"(killed); log tail:\n{_tail(self.log_path)}"
                )
            rc = self._obs.returncode
            log.info("OBS exited with %s", rc)
            self._obs = None
        if self._xvfb is not None:
            if self._xvfb.poll() is None:
                self._xvfb.terminate()
                try:
                    self._xvfb.wait(10)
                except subprocess.TimeoutExpired:
                    self._xvfb.kill()
                    self._xvfb.wait(10)
            self._xvfb = None
        if error and check:
            raise HarnessError(error)
        if error:
            log.error("%s", error)

    def close_obs(self) -> str:
        """Close OBS as a streamer does: its main window's close button (WM_DELETE_WINDOW,
        x11_close.py), so OBS saves its scene collection, unloads its scripts and exits
        from its own main loop. SIGINT instead when the close cannot be sent or OBS does not
        begin to shut down within CLOSE_BEGIN_SECONDS (a modal dialog blocks it). Waits up
        to ``stop_timeout``; a hang is killed once its stacks are kept. Returns "exited",
        "deadlock" (after SIGINT, OBS 29's own handler deadlock, see ``_sigint_deadlock``:
        killed, maybe before it saved) or "hung" (killed)."""
        obs = self._obs
        assert obs is not None
        begun = self.read_log().count(SHUTDOWN_LINE)
        window = find_window(self.display, MAIN_WINDOW) if self.display is not None else None
        if window is not None and self.display is not None and request_close(self.display, window):
            if poll(lambda: obs.poll() is not None or self.read_log().count(SHUTDOWN_LINE) > begun,
                    CLOSE_BEGIN_SECONDS):
                try:
                    obs.wait(self.setup.stop_timeout)
                    return "exited"
                except subprocess.TimeoutExpired:
                    return self._kill_hung()
            log.info("OBS did not begin to shut down within %s s of its window's close; SIGINT",
                     CLOSE_BEGIN_SECONDS)
        obs.send_signal(signal.SIGINT)
        try:
            obs.wait(self.setup.stop_timeout)
            return "exited"
        except subprocess.TimeoutExpired:
            return self._kill_hung()

    def _kill_hung(self) -> str:
        assert self._obs is not None
        stacks = self._dump_stacks()
        self._obs.kill()
        self._obs.wait(10)
        if _sigint_deadlock(stacks):
            log.warning("OBS 29 deadlocked in its own SIGINT handler (it closes its window from "
                        "the handler while the main thread holds a lock); killed")
            return "deadlock"
        return "hung"

    def _dump_stacks(self, name: str = "obs-hang-stacks.txt") -> str:
        """OBS hangs: keep every thread's stack (gdb) in the working directory; returns them."""
        if self._obs is None or shutil.which("gdb") is None:
            return ""
        path = self.workdir / name
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            command = ["gdb", "-p", str(self._obs.pid), "-batch", "-ex", "thread apply all bt 30"]
            done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
            path.write_text(done.stdout + done.stderr, encoding="utf-8")
            log.error("OBS's threads (full stacks in %s):\n%s", path, _stack_summary(done.stdout))
            return done.stdout
        return ""

    def cleanup(self) -> None:
        """Remove the working directory if the harness created it."""
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- recording
    def start_recording(self, timeout: float = 10.0) -> str | None:
        """StartRecord and wait until it is active; the file path if OBS reports it."""
        t0 = time.monotonic()
        self.client.call("StartRecord")
        ev = self.client.wait_for_event(
            "RecordStateChanged",
            lambda d: d.get("outputState") == "OBS_WEBSOCKET_OUTPUT_STARTED",
            timeout=timeout,
            after=t0,
        )
        path = ev.data.get("outputPath")
        return str(path) if path else None

    def stop_recording(self, timeout: float = 45.0) -> Path:
        """StopRecord, wait until the file is closed, return its path."""
        t0 = time.monotonic()
        data = self.client.call("StopRecord")
        try:
            ev = self.client.wait_for_event(
                "RecordStateChanged",
                lambda d: d.get("outputState") == "OBS_WEBSOCKET_OUTPUT_STOPPED",
                timeout=timeout,
                after=t0,
            )
        except HarnessError as e:
            self._dump_stacks("obs-stacks-record-stop.txt")
            raise HarnessError(f"the recording did not stop: {e}") from None
        path = data.get("outputPath") or ev.data.get("outputPath")
        if not path:
            files = sorted(self.record_dir.iterdir(), key=lambda p: p.stat().st_mtime)
            if not files:
                raise HarnessError(f"no recording in {self.record_dir}")
            path = str(files[-1])
        return Path(path)

    # -- internals
    def _start_xvfb(self) -> None:
        read_fd, write_fd = os.pipe()
        out = (self.workdir / "xvfb.log").open("wb")
        try:
            # -displayfd: Xvfb picks a free display itself and writes its number.
            self._xvfb = subprocess.Popen(
                [
                    "Xvfb",
                    "-displayfd",
                    str(write_fd),
                    "-screen",
                    "0",
                    self.setup.screen,
                    "-nolisten",
                    "tcp",
                ],
                pass_fds=(write_fd,),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            os.close(write_fd)
            out.close()
        buf = b""
        with os.fdopen(read_fd, "rb") as r:
            deadline = time.monotonic() + 15
            while not buf.endswith(b"\n") and time.monotonic() < deadline:
                chunk = r.read(1)
                if not chunk:
                    break
                buf += chunk
        if not buf.strip().isdigit():
            raise HarnessError(
                "Xvfb did not report a display; log:\n"
                f"{_tail(self.workdir / 'xvfb.log')}"
            )
        self.display = int(buf.strip())
        log.info("Xvfb on :%d", self.display)

    def _write_config(self) -> None:
        s = self.setup
        assert self.port is not None
        websocket: dict[str, object] = {
            "ServerEnabled": True,
            "ServerPort": self.port,
            "AlertsEnabled": False,
            "FirstLoad": False,
            "AuthRequired": bool(s.password),
        }
        if s.password:
            websocket["ServerPassword"] = s.password
        _write_ini(
            self.obs_dir / "global.ini",
            {
                "General": {
                    "FirstRun": True,
                    "ConfirmOnExit": False,
                    "EnableAutoUpdates": False,
                    "WarnBeforeStartingStream": False,
                    "WarnBeforeStoppingStream": False,
                    "WarnBeforeStoppingRecord": False,
                },
                "Basic": {
                    "Profile": s.profile,
                    "ProfileDir": s.profile,
                    "SceneCollection": s.collection,
                    "SceneCollectionFile": s.collection,
                },
                "BasicWindow": {
                    "SysTrayEnabled": False,
                    "SysTrayWhenStarted": False,
                    "ShowTransitions": True,
                },
                "OBSWebSocket": websocket,
            },
        )
        _write_ini(
            self.obs_dir / "basic" / "profiles" / s.profile / "basic.ini",
            {
                "General": {"Name": s.profile},
                "Output": {
                    "Mode": "Simple",
                    "FilenameFormatting": "rec-%CCYY%MM%DD-%hh%mm%ss",
                },
                "SimpleOutput": {
                    "FilePath": str(self.record_dir),
                    "RecFormat": "mkv",  # OBS 29 key
                    "RecFormat2": "mkv",  # OBS 30+ key
                    "RecQuality": "Stream",
                    "StreamEncoder": "x264",
                    "RecEncoder": "x264",
                    "Preset": "ultrafast",
                    "VBitrate": 500,
                    "ABitrate": 160,
                    "FileNameWithoutSpace": True,
                },
                "Video": {
                    "BaseCX": s.width,
                    "BaseCY": s.height,
                    "OutputCX": s.width,
                    "OutputCY": s.height,
                    "FPSType": 0,
                    "FPSCommon": s.fps,
                    "ScaleType": "bilinear",
                },
                "Audio": {"SampleRate": s.sample_rate, "ChannelSetup": "Stereo"},
            },
        )
        scenes_dir = self.obs_dir / "basic" / "scenes"
        scenes_dir.mkdir(parents=True, exist_ok=True)
        (scenes_dir / f"{s.collection}.json").write_text(
            json.dumps(self.scene_collection(), indent=2), encoding="utf-8"
        )

    def scene_collection(self) -> dict[str, Any]:
        """The scene collection JSON this harness writes (OBS 29 format)."""
        s = self.setup
        scene_names = [s.scene, *[n for n in s.extra_scenes if n != s.scene]]
        items: dict[str, list[dict[str, Any]]] = {n: [] for n in scene_names}
        inputs: list[dict[str, Any]] = []
        for spec in s.sources:
            scene = spec.scene or s.scene
            if scene not in items:
                raise HarnessError(f"source {spec.name!r}: unknown scene {scene!r}")
            inputs.append(
                {
                    "name": spec.name,
                    "id": spec.kind,
                    "versioned_id": spec.kind,
                    "settings": spec.settings,
                    "volume": spec.volume,
                    "muted": spec.muted,
                    "enabled": True,
                    "mixers": 0x3F,
                    "monitoring_type": 0,
                    "flags": 0,
                    "sync": 0,
                    "balance": 0.5,
                    "private_settings": {},
                }
            )
            items[scene].append(
                {
                    "name": spec.name,
                    "visible": spec.visible,
                    "locked": False,
                    "id": len(items[scene]) + 1,
                    "rot": 0.0,
                    "pos": {"x": 0.0, "y": 0.0},
                    "scale": {"x": 1.0, "y": 1.0},
                    "align": 5,
                    "bounds_type": 0,
                    "bounds_align": 0,
                    "bounds": {"x": 0.0, "y": 0.0},
                    "crop_left": 0,
                    "crop_top": 0,
                    "crop_right": 0,
                    "crop_bottom": 0,
                    "private_settings": {},
                }
            )
        scenes = [
            {
                "name": n,
                "id": "scene",
                "versioned_id": "scene",
                "mixers": 0,
                "enabled": True,
                "private_settings": {},
                "settings": {
                    "id_counter": len(items[n]),
                    "custom_size": False,
                    "items": items[n],
                },
            }
            for n in scene_names
        ]
        collection: dict[str, Any] = {
            "name": s.collection,
            "current_scene": s.scene,
            "current_program_scene": s.scene,
            "scene_order": [{"name": n} for n in scene_names],
            "sources": scenes + inputs,
            "groups": [],
            "transitions": [],
            "current_transition": "Fade",
            "transition_duration": 300,
            "quick_transitions": [],
            "saved_projectors": [],
            "preview_locked": False,
            "scaling_enabled": False,
            "modules": {},
        }
        if s.script_path is not None:
            collection["modules"]["scripts-tool"] = [
                {
                    "path": str(Path(s.script_path).resolve()),
                    "settings": dict(s.script_settings),
                }
            ]
        return collection

    def _start_obs(self) -> None:
        s = self.setup
        runtime = self.workdir / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env = dict(os.environ)
        env.update(
            {
                "DISPLAY": f":{self.display}",
                "XDG_CONFIG_HOME": str(self.config_home),
                "XDG_RUNTIME_DIR": str(runtime),
                "LIBGL_ALWAYS_SOFTWARE": "1",
                "QT_QPA_PLATFORM": "xcb",
            }
        )
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("PYTHONHOME", None)
        env.update(s.extra_env)
        env["PATH"] = path_for_obs(env.get("PATH", ""))
        cmd = [
            "obs",
            "--multi",
            "--collection",
            s.collection,
            "--profile",
            s.profile,
            *s.extra_args,
        ]
        out = (self.workdir / "obs-stdout.log").open("wb")
        try:
            self._obs = subprocess.Popen(
                cmd,
                env=env,
                cwd=self.workdir,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            out.close()
        log.info("started %s (pid %d)", " ".join(cmd), self._obs.pid)

    def _connect(self) -> None:
        s = self.setup
        assert self._obs is not None and self.port is not None
        deadline = time.monotonic() + s.start_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self._obs.poll() is not None:
                raise HarnessError(
                    f"OBS exited with {self._obs.returncode} during start-up; "
                    "log tail:\n"
                    f"{_tail(self.log_path)}\nstdout tail:\n"
                    f"{_tail(self.workdir / 'obs-stdout.log')}"
                )
            if self._port_open():
                client = ObsClient(
                    "127.0.0.1", self.port, s.password, s.request_timeout
                )
                try:
                    client.connect()
                    client.call("GetVersion")
                except (
                    HarnessError,
                    obsws_exceptions.ConnectionFailure,
                    OSError,
                    websocket.WebSocketException,
                ) as exc:  # not ready yet
                    last_error = exc
                    client.disconnect()
                else:
                    self._client = client
                    return
            time.sleep(0.2)
        raise HarnessError(
            f"obs-websocket on port {self.port} did not answer within "
            f"{s.start_timeout}s "
            f"(last error: {last_error!r}); OBS log tail:\n{_tail(self.log_path)}"
        )

    def _port_open(self) -> bool:
        assert self.port is not None
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0


# --------------------------------------------------------------------------- pytest


@pytest.fixture(name="obs_instance")
def obs_instance_fixture(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[ObsHarness]:
    """pytest fixture ``obs_instance``: a started ObsHarness in tmp_path; skips when
    OBS/Xvfb are not installed. Import it into a test module or conftest
    (``from obs_harness import obs_instance_fixture  # noqa: F401``).

    Choose the setup by indirect parametrization:
    ``@pytest.mark.parametrize("obs_instance", [ObsSetup(...)], indirect=True)``.
    """
    missing = missing_programs()
    if missing:
        pytest.skip(f"not installed: {missing}")
    setup = getattr(request, "param", None) or ObsSetup()
    harness = ObsHarness(setup, workdir=tmp_path / "obs")
    harness.start()
    try:
        yield harness
    finally:
        harness.stop()
