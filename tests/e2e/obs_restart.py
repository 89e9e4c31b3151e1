"""Take OBS, or only its obs-websocket server, away and bring it back, as a streamer's
machine does: OBS killed (SIGKILL) and started again on the same configuration (same
XDG config folder, same websocket port), or Tools > WebSocket Server Settings >
"Enable WebSocket server" switched off and on again with OBS running.

obs-websocket has no request that stops its own server, and the port lives in
obs-websocket's own settings (global.ini [OBSWebSocket], read at start or on Apply in
that dialog), so the dialog is driven with xdotool like a streamer clicks it. Every
step is checked: the port closes / opens and the OBS log says "Server stopped" /
"Server started".
"""

from __future__ import annotations

import re
import signal
import socket
import time
from pathlib import Path

from obs_harness import HarnessError, ObsHarness, ObsSetup
from obs_ui import TOOLS_MENU, ObsUi

WEBSOCKET_ITEM = (453, 178)  # the "WebSocket Server Settings" item of the Tools menu (OBS 29, 1280x720)
ENABLE_SERVER = (185, 58)  # in that dialog, from its top-left corner: "Enable WebSocket server"
APPLY_BUTTON = (618, -31)  # from its bottom-left corner
OK_BUTTON = (430, -31)
DIALOG = "WebSocket Server Settings"


class RestartableObs(ObsHarness):
    """An ObsHarness that can be killed and started again on the same configuration."""

    def kill(self) -> None:
        """SIGKILL OBS (no clean shutdown) and wait until it is gone; Xvfb stays."""
        if self._client is not None:
            self._client.disconnect()
        if self._obs is None:
            raise HarnessError("OBS is not running")
        self._obs.send_signal(signal.SIGKILL)
        self._obs.wait(10)
        self._obs = None

    def quit(self) -> bool:
        """Close OBS as a streamer does (``close_obs``: OBS saves its scene collection,
        unloads its scripts and exits) and wait; Xvfb stays. False when it came to SIGINT
        and OBS 29 deadlocked in its own handler before saving (then killed): the caller
        starts it again and quits once more. Any other hang raises."""
        if self._client is not None:
            self._client.disconnect()
        if self._obs is None:
            raise HarnessError("OBS is not running")
        outcome = self.close_obs()
        self._obs = None
        if outcome == "hung":
            raise HarnessError(f"OBS did not exit within {self.setup.stop_timeout}s of being closed (killed)")
        return outcome == "exited"

    def saved_collection(self) -> str:
        """The scene collection file as OBS last saved it (JSON text)."""
        path = self.obs_dir / "basic" / "scenes" / f"{self.setup.collection}.json"
        return path.read_text(encoding="utf-8")

    def start_again(self) -> None:
        """Start OBS on the configuration it had (nothing rewritten) and reconnect."""
        if self._obs is not None:
            raise HarnessError("OBS is still running")
        self._log_path = None  # OBS writes a new log file
        self._start_obs()
        self._connect()

    def reconnect_client(self) -> None:
        """The harness's own obs-websocket client, again (after the server was off)."""
        if self._client is not None:
            self._client.disconnect()
        self._connect()

    def port_open(self) -> bool:
        assert self.port is not None
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0


class FixedPortObs(RestartableObs):
    """Started on a websocket port chosen before (``obs-tts serve`` was told it first)."""

    def __init__(self, setup: ObsSetup, workdir: Path, port: int) -> None:
        super().__init__(setup, workdir)
        self._fixed_port = port

    def _write_config(self) -> None:
        self.port = self._fixed_port
        super()._write_config()


class WebSocketSettings:
    """Tools > WebSocket Server Settings of a running OBS (its dialog under Xvfb)."""

    def __init__(self, obs: RestartableObs) -> None:
        self.obs = obs
        self.ui = ObsUi(obs)

    def open(self) -> None:
        """Open the dialog (Tools > WebSocket Server Settings), checked."""
        self._dialog()

    def _dialog(self, attempts: int = 4) -> tuple[int, int, int, int]:
        for attempt in range(attempts):
            try:
                return self.ui.window(DIALOG, timeout=0.5)
            except HarnessError:
                pass
            self.ui.click(*TOOLS_MENU)
            time.sleep(0.5)
            self.ui.click(*WEBSOCKET_ITEM)
            try:
                return self.ui.window(DIALOG, timeout=3)
            except HarnessError:
                if attempt == attempts - 1:
                    shot = self.ui.screenshot(self.obs.workdir / "websocket-dialog-failed.png")
                    raise HarnessError(f"could not open Tools > {DIALOG} (see {shot})") from None
                self.ui.xdotool("key", "Escape")
        raise AssertionError("unreachable")

    def _click(self, offset: tuple[int, int]) -> None:
        x, y, _, height = self._dialog()
        dx, dy = offset
        self.ui.click(x + dx, (y + height + dy) if dy < 0 else (y + dy))

    def set_server_enabled(self, enabled: bool, timeout: float = 10.0) -> None:
        """Switch "Enable WebSocket server" and Apply; waits until the port is closed
        (off) or open (on) and OBS logged it. The dialog stays open."""
        word = "started" if enabled else "stopped"
        rx = re.compile(rf"\[obs-websocket\].*Server {word} successfully")
        before = len(rx.findall(self.obs.read_log()))
        # A busy UI may drop a click: Apply is clicked again first; if the server still did
        # not change, the checkbox click was the one lost (seen once in CI), so it is
        # clicked again (a checkbox that had taken would have let Apply work).
        for _ in range(2):
            self._click(ENABLE_SERVER)
            time.sleep(0.3)
            for _ in range(3):
                self._click(APPLY_BUTTON)
                deadline = time.monotonic() + timeout / 3
                while time.monotonic() < deadline:
                    if len(rx.findall(self.obs.read_log())) > before and self.obs.port_open() == enabled:
                        return
                    time.sleep(0.1)
        shot = self.ui.screenshot(self.obs.workdir / f"websocket-{word}-failed.png")
        raise HarnessError(f"obs-websocket was not {word} through Tools > {DIALOG} (see {shot})")

    def close(self) -> None:
        self._click(OK_BUTTON)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                self.ui.window(DIALOG, timeout=0.2)
            except HarnessError:
                return
            time.sleep(0.1)
        raise HarnessError(f"the {DIALOG} dialog did not close")
