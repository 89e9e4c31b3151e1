"""Drive OBS's own UI under Xvfb with xdotool: Tools > Scripts, add a script, Reload.

obs-websocket has no request to add or reload a script, so the tests click the same
buttons a streamer clicks. Positions are those of OBS 29 (Debian) at the harness's
1280x720 screen; every action is checked (a window appears, has the focus, closes; the
OBS log grows) and retried, so a slow UI is waited for and a layout change fails loudly
instead of silently doing nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from obs_harness import HarnessError, ObsHarness, poll

TOOLS_MENU = (378, 12)  # main window: the Tools menu title
SCRIPTS_ITEM = (31, 121)  # from the Tools menu's top-left corner: its "Scripts" item
# Scripts dialog, from its bottom-left corner: the "+" (add) and reload buttons under the list.
ADD_BUTTON = (38, -83)
RELOAD_BUTTON = (122, -83)
FIRST_SCRIPT = (34, 67)  # from its top-left corner: the first script in the list
POLL_SECONDS = 0.05

log = logging.getLogger(__name__)


class ObsUi:
    """Parameters: ``obs`` (a started ObsHarness).

    Every step waits on a real condition (a window exists and is mapped, it has the
    keyboard focus, a dialog closed, the OBS log grew), polled with xdotool, and is
    retried when the condition does not come: OBS's UI is slow on a loaded machine."""

    def __init__(self, obs: ObsHarness) -> None:
        self.obs = obs
        self.env = {**os.environ, "DISPLAY": f":{obs.display}"}

    def xdotool(self, *args: str) -> str:
        done = subprocess.run(["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=10)
        return done.stdout.strip()

    def move(self, x: int, y: int) -> None:
        """Move the pointer and wait until it is there (not ``mousemove --sync``: that never
        returns when the pointer is already at the target, e.g. on a repeated click)."""
        for _ in range(20):
            self.xdotool("mousemove", str(x), str(y))
            if self.xdotool("getmouselocation", "--shell").startswith(f"X={x}\nY={y}\n"):
                return
            time.sleep(POLL_SECONDS)
        raise HarnessError(f"the pointer did not move to {x},{y}")

    def click(self, x: int, y: int) -> None:
        self.move(x, y)
        self.xdotool("click", "1")

    # -- windows -------------------------------------------------------------------------

    def visible_windows(self) -> set[str]:
        """Ids of OBS's mapped windows (menus and completer pop-ups included)."""
        return set(self.xdotool("search", "--onlyvisible", "--class", "obs").split())

    def find(self, title: str, prefix: bool = False) -> str | None:
        """The id of the mapped window called ``title`` (or starting so), or None."""
        pattern = f"^{re.escape(title)}" + ("" if prefix else "$")
        ids = self.xdotool("search", "--onlyvisible", "--name", pattern).split()
        return ids[-1] if ids else None

    def wait_window(self, title: str, timeout: float = 5.0, prefix: bool = False) -> str:
        """Wait until a window called ``title`` exists and is mapped; its id."""
        deadline = time.monotonic() + timeout
        while (wid := self.find(title, prefix)) is None:
            if time.monotonic() > deadline:
                raise HarnessError(f"no {title!r} window within {timeout} s")
            time.sleep(POLL_SECONDS)
        return wid

    def wait_gone(self, wid: str, timeout: float) -> bool:
        """Wait until window ``wid`` is no longer mapped (a dialog accepted or closed)."""
        deadline = time.monotonic() + timeout
        while wid in self.visible_windows():
            if time.monotonic() > deadline:
                return False
            time.sleep(POLL_SECONDS)
        return True

    def wait_new_window(self, before: set[str], timeout: float) -> str | None:
        """A window mapped since ``before`` (e.g. a menu that opened), or None."""
        deadline = time.monotonic() + timeout
        while not (new := self.visible_windows() - before):
            if time.monotonic() > deadline:
                return None
            time.sleep(POLL_SECONDS)
        return sorted(new)[-1]

    def focus(self, wid: str, timeout: float = 5.0) -> None:
        """Give window ``wid`` the keyboard focus and wait until X says it has it (there
        is no window manager under Xvfb: xdotool sets the input focus itself)."""
        deadline = time.monotonic() + timeout
        while True:
            self.xdotool("windowfocus", "--sync", wid)
            if self.xdotool("getwindowfocus") == wid:
                return
            if time.monotonic() > deadline:
                name = self.xdotool("getwindowname", wid)
                raise HarnessError(f"window {wid} ({name!r}) never got the focus within {timeout} s")
            time.sleep(POLL_SECONDS)

    def geometry(self, wid: str) -> tuple[int, int, int, int]:
        """(x, y, width, height) of window ``wid``."""
        text = self.xdotool("getwindowgeometry", wid)
        pos = re.search(r"Position: (-?\d+),(-?\d+)", text)
        size = re.search(r"Geometry: (\d+)x(\d+)", text)
        if not (pos and size):
            raise HarnessError(f"no geometry for window {wid}: {text!r}")
        return int(pos[1]), int(pos[2]), int(size[1]), int(size[2])

    def window(self, title: str, timeout: float = 5.0, prefix: bool = False) -> tuple[int, int, int, int]:
        """(x, y, width, height) of the mapped window called ``title`` (or starting so)."""
        return self.geometry(self.wait_window(title, timeout, prefix))

    # -- Tools > Scripts -----------------------------------------------------------------------

    def open_scripts(self, attempts: int = 5) -> tuple[int, int, int, int]:
        """Open Tools > Scripts; returns the dialog's geometry. Each click is checked (the
        menu opened, the dialog appeared) and retried."""
        main = self.wait_window(f"OBS {self.obs.client.call('GetVersion')['obsVersion']}", 20, prefix=True)
        for _ in range(attempts):
            if (scripts := self.find("Scripts")) is not None:
                return self.geometry(scripts)
            self.focus(main)
            before = self.visible_windows()
            self.click(*TOOLS_MENU)
            menu = self.wait_new_window(before, 3.0)
            if menu is None:
                continue  # the click did not reach the menu bar yet
            x, y, _, _ = self.geometry(menu)
            self.click(x + SCRIPTS_ITEM[0], y + SCRIPTS_ITEM[1])
            try:
                return self.window("Scripts", timeout=5)
            except HarnessError:
                self._close_popups(before)
        shot = self.screenshot(self.obs.workdir / "scripts-dialog-failed.png")
        raise HarnessError(f"Tools > Scripts did not open (see {shot})")

    def _close_popups(self, before: set[str]) -> None:
        """Escape from menus or pop-ups opened since ``before``."""
        for _ in range(3):
            if not self.visible_windows() - before:
                return
            self.xdotool("key", "Escape")
            time.sleep(POLL_SECONDS)

    def _in_dialog(self, offset: tuple[int, int]) -> tuple[int, int]:
        x, y, _, height = self.window("Scripts")
        dx, dy = offset
        return x + dx, (y + height + dy) if dy < 0 else (y + dy)

    def add_script(self, path: Path, attempts: int = 4) -> None:
        """Scripts dialog "+", then the file's path into OBS's "Add Scripts" file dialog.
        Checked at each step: the dialog is mapped and has the focus, it closed (accepted
        the path; its completer pop-up may take the first Return), the OBS log says the
        script loaded. Retried from the start when a step does not happen. OBS loads the
        script on its UI thread before it unmaps the file dialog, which can take seconds on
        a loaded machine: the log is checked before any retry, so a slow load is waited
        for, never taken for a failure."""
        pattern = re.compile(rf"Loaded python script: {re.escape(path.name)}")
        loaded_before = len(pattern.findall(self.obs.read_log()))

        def loaded() -> bool:
            return len(pattern.findall(self.obs.read_log())) > loaded_before

        for attempt in range(attempts):
            if loaded():
                return
            self._dismiss("Add Scripts", done=loaded)
            if loaded():
                return
            scripts = self.wait_window("Scripts", timeout=10)
            self.focus(scripts)
            self.click(*self._in_dialog(ADD_BUTTON))
            try:
                dialog = self.wait_window("Add Scripts", timeout=10)
                self.focus(dialog)
            except HarnessError as e:
                log.info("add_script attempt %d: %s", attempt + 1, e)
                continue
            if not self._enter_path(dialog, path, done=loaded):
                log.info("add_script attempt %d: the file dialog stayed open", attempt + 1)
                continue
            if poll(loaded, 30):
                return
            log.info("add_script attempt %d: the file dialog closed, no script loaded", attempt + 1)
        if poll(loaded, 5):
            return
        shot = self.screenshot(self.obs.workdir / "add-script-failed.png")
        raise HarnessError(f"could not add {path} through Tools > Scripts (see {shot})")

    def _enter_path(self, dialog: str, path: Path, done: Callable[[], bool]) -> bool:
        """Type ``path`` into the focused file dialog and press Return until it closes (or
        ``done()``: OBS already loaded the script); retype once (select all first) if it
        stays. A "File not found" box (a mistyped path; it has the dialog's title) is
        closed before the retype. True when the dialog closed or ``done()``."""
        for _ in range(2):
            self.focus(dialog)
            self.xdotool("key", "ctrl+a")  # the file name field has the focus: replace what it holds
            self.xdotool("type", "--delay", "10", str(path))
            for _ in range(3):  # the completer's pop-up may eat a Return
                self.xdotool("key", "Return")
                if self.wait_gone(dialog, 3.0) or done():
                    return True
                box = self.find(self.xdotool("getwindowname", dialog))
                if box is not None and box != dialog:
                    log.info("add_script: a message box over the file dialog (mistyped path?); closed")
                    self.focus(box)
                    self.xdotool("key", "Escape")
                    self.wait_gone(box, 3.0)
                    break  # retype
                if dialog in self.visible_windows():
                    self.focus(dialog)
        return done()

    def close_window(self, title: str) -> None:
        """Close the dialog ``title`` as a streamer does (Escape), e.g. Scripts before OBS
        is stopped: OBS 29's shutdown can hang while the Scripts dialog rebuilds a
        script's properties."""
        self._dismiss(title)

    def _dismiss(self, title: str, done: Callable[[], bool] | None = None) -> None:
        """Close the windows called ``title`` (a dialog left open by an earlier attempt, a
        message box over it: the newest first) with Escape; stops early when ``done()``.
        OBS's UI thread may be busy for seconds (loading a script): each Escape is given
        time, and the failure names what stayed open, with a screenshot."""
        for _ in range(8):
            wid = self.find(title)
            if wid is None or (done is not None and done()):
                return
            with contextlib.suppress(HarnessError):  # it may close while we focus it
                self.focus(wid)
                self.xdotool("key", "Escape")
            self.wait_gone(wid, 5.0)
        if self.find(title) is not None and not (done is not None and done()):
            shot = self.screenshot(self.obs.workdir / "dismiss-failed.png")
            raise HarnessError(f"the {title!r} dialog did not close on Escape (see {shot})")

    def select_first_script(self) -> None:
        self.click(*self._in_dialog(FIRST_SCRIPT))

    def reload_scripts(self, loaded_pattern: str, timeout: float = 30.0,
                       begun_pattern: str | None = r"OBS TTS Queue unloaded") -> float:
        """Click Reload; wait until the OBS log has one more ``loaded_pattern`` line. The
        click is repeated only if OBS's UI did not take it: no new ``begun_pattern`` line
        (the script's unload, the first thing a Reload does) either, so a slow Reload is
        waited for, never doubled. Returns the seconds until the loaded line."""
        rx = re.compile(loaded_pattern)
        begun = re.compile(begun_pattern) if begun_pattern else None

        def count(pattern: re.Pattern[str] | None) -> int:
            return len(pattern.findall(self.obs.read_log())) if pattern else 0

        before, begun_before = count(rx), count(begun)
        started = time.monotonic()
        deadline = started + timeout
        while True:
            self.focus(self.wait_window("Scripts", timeout=10))
            x, y = self._in_dialog(RELOAD_BUTTON)
            self.click(x, y)
            self.xdotool("mousemove", "1270", "710")  # away: no tooltip may cover the button next time
            retry_at = time.monotonic() + 3.0
            while time.monotonic() < deadline:
                if count(rx) > before:
                    return time.monotonic() - started
                if time.monotonic() > retry_at and count(begun) == begun_before:
                    break  # the click did not take: click again
                time.sleep(POLL_SECONDS)
            if time.monotonic() > deadline:
                shot = self.screenshot(self.obs.workdir / "reload-failed.png")
                raise HarnessError(f"Reload clicked, no new {loaded_pattern!r} in the OBS log within "
                                   f"{timeout} s (see {shot})")

    def screenshot(self, path: Path, width: int = 1280, height: int = 720, x: int = 0, y: int = 0) -> Path:
        """The screen, or the part of it at (x, y) of that size, as PNG (ffmpeg's x11grab)."""
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "x11grab", "-video_size", f"{width}x{height}",
                        "-i", f":{self.obs.display}+{x},{y}", "-frames:v", "1", str(path)],
                       env=self.env, check=True, timeout=30)
        return path
