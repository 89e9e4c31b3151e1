"""Drive OBS's own UI under Xvfb with xdotool: Tools > Scripts, add a script, Reload.

obs-websocket has no request to add or reload a script, so the tests click the same
buttons a streamer clicks. Positions are those of OBS 29 (Debian) at the harness's
1280x720 screen; every action is checked (a window appears, the OBS log grows), so a
layout change fails loudly instead of silently doing nothing.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from obs_harness import HarnessError, ObsHarness

TOOLS_MENU = (378, 12)  # main window: the Tools menu title
SCRIPTS_ITEM = (389, 146)  # the "Scripts" item of that menu
# Scripts dialog, from its bottom-left corner: the "+" (add) and reload buttons under the list.
ADD_BUTTON = (38, -83)
RELOAD_BUTTON = (122, -83)
FIRST_SCRIPT = (34, 67)  # from its top-left corner: the first script in the list


class ObsUi:
    """Parameters: ``obs`` (a started ObsHarness)."""

    def __init__(self, obs: ObsHarness) -> None:
        self.obs = obs
        self.env = {**os.environ, "DISPLAY": f":{obs.display}"}

    def xdotool(self, *args: str) -> str:
        done = subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=10)
        return done.stdout.strip()

    def click(self, x: int, y: int) -> None:
        self.xdotool("mousemove", str(x), str(y), "click", "1")

    def window(self, title: str, timeout: float = 5.0, prefix: bool = False) -> tuple[int, int, int, int]:
        """(x, y, width, height) of the visible window called ``title`` (or starting so)."""
        deadline = time.monotonic() + timeout
        pattern = f"^{re.escape(title)}" + ("" if prefix else "$")
        while True:
            ids = self.xdotool("search", "--onlyvisible", "--name", pattern).split()
            if ids:
                geometry = self.xdotool("getwindowgeometry", ids[-1])
                pos = re.search(r"Position: (\d+),(\d+)", geometry)
                size = re.search(r"Geometry: (\d+)x(\d+)", geometry)
                if pos and size:
                    return int(pos[1]), int(pos[2]), int(size[1]), int(size[2])
            if time.monotonic() > deadline:
                raise HarnessError(f"no {title!r} window within {timeout} s")
            time.sleep(0.1)

    def open_scripts(self, attempts: int = 4) -> tuple[int, int, int, int]:
        """Open Tools > Scripts (retried: OBS's window may still be settling); returns the
        dialog's geometry."""
        self.window(f"OBS {self.obs.client.call('GetVersion')['obsVersion']}", timeout=10, prefix=True)
        for attempt in range(attempts):
            self.click(*TOOLS_MENU)
            time.sleep(0.5)
            self.click(*SCRIPTS_ITEM)
            try:
                return self.window("Scripts", timeout=3)
            except HarnessError:
                if attempt == attempts - 1:
                    self.screenshot(self.obs.workdir / "scripts-dialog-failed.png")
                    raise
                self.xdotool("key", "Escape")
        raise AssertionError("unreachable")

    def _in_dialog(self, offset: tuple[int, int]) -> tuple[int, int]:
        x, y, _, height = self.window("Scripts")
        dx, dy = offset
        return x + dx, (y + height + dy) if dy < 0 else (y + dy)

    def add_script(self, path: Path, attempts: int = 3) -> None:
        """Scripts dialog "+", then type the file's path into OBS's "Add Scripts" file
        dialog; checked in the OBS log (retried: the UI may be slow under load)."""
        pattern = re.compile(rf"Loaded python script: {re.escape(path.name)}")
        for attempt in range(attempts):
            self.click(*self._in_dialog(ADD_BUTTON))
            try:
                self.window("Add Scripts", timeout=5)
            except HarnessError:
                if attempt == attempts - 1:
                    raise
                continue
            time.sleep(0.3)
            self.xdotool("type", "--delay", "5", str(path))
            time.sleep(0.2)
            self.xdotool("key", "Return")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if pattern.search(self.obs.read_log()):
                    return
                time.sleep(0.1)
            self.xdotool("key", "Escape")
        shot = self.screenshot(self.obs.workdir / "add-script-failed.png")
        raise HarnessError(f"could not add {path} through Tools > Scripts (see {shot})")

    def select_first_script(self) -> None:
        self.click(*self._in_dialog(FIRST_SCRIPT))

    def reload_scripts(self, loaded_pattern: str, timeout: float = 10.0) -> float:
        """Click Reload; wait until the OBS log has one more ``loaded_pattern`` line (the click
        is repeated if OBS's UI did not take it). Returns the seconds until that line."""
        rx = re.compile(loaded_pattern)
        before = len(rx.findall(self.obs.read_log()))
        started = time.monotonic()
        deadline = started + timeout
        while True:
            x, y = self._in_dialog(RELOAD_BUTTON)
            self.xdotool("mousemove", str(x), str(y))
            time.sleep(0.1)
            self.xdotool("click", "1")
            self.xdotool("mousemove", "1270", "710")  # away: no tooltip may cover the button next time
            retry_at = time.monotonic() + 3.0
            while time.monotonic() < min(retry_at, deadline):
                if len(rx.findall(self.obs.read_log())) > before:
                    return time.monotonic() - started
                time.sleep(0.05)
            if time.monotonic() > deadline:
                shot = self.screenshot(self.obs.workdir / "reload-failed.png")
                raise HarnessError(f"Reload clicked, no new {loaded_pattern!r} in the OBS log (see {shot})")

    def screenshot(self, path: Path, width: int = 1280, height: int = 720) -> Path:
        """The whole screen as PNG (ffmpeg's x11grab)."""
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "x11grab", "-video_size", f"{width}x{height}",
                        "-i", f":{self.obs.display}", "-frames:v", "1", str(path)],
                       env=self.env, check=True, timeout=30)
        return path
