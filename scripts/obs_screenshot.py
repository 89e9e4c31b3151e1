"""Take docs/img/obs-properties.png: the script's properties panel in a real OBS (Xvfb).

Starts an isolated OBS with the script (as the e2e tests do), opens Tools > Scripts,
selects the script, enlarges the dialog and grabs it with ffmpeg's x11grab.
Run: make screenshots (or .venv/bin/python scripts/obs_screenshot.py [OUT.png]; needs obs-studio, xvfb,
xdotool, ffmpeg). Not part of make test.
"""

from __future__ import annotations

import logging
import socket
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "e2e"), str(REPO)]

from obs_harness import ObsHarness, find_free_port  # noqa: E402 - after the path set-up
from obs_ui import ObsUi  # noqa: E402
from tts_stack import script_setup  # noqa: E402

log = logging.getLogger("obs_screenshot")
SCREEN = "1280x4200x24"
DIALOG = (1080, 3300)  # tall enough for every group of the panel, without a scroll bar
DEFAULT_PORT = 8765


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def main(out: Path) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        port = DEFAULT_PORT if port_free(DEFAULT_PORT) else find_free_port()
        setup = script_setup(work, port, hotkey_skip=[], pause_between_clips_ms=500)
        setup.screen = SCREEN
        with ObsHarness(setup, workdir=work / "obs") as obs:
            obs.wait_for_log(r"listener on", timeout=20)
            ui = ObsUi(obs)
            ui.open_scripts()
            ui.select_first_script()
            ui.xdotool("search", "--onlyvisible", "--name", "^Scripts$", "windowmove", "%@", "0", "0",
                       "windowsize", "%@", str(DIALOG[0]), str(DIALOG[1]))
            time.sleep(1.5)
            ui.select_first_script()
            ui.xdotool("mousemove", "1270", str(DIALOG[1]))  # no pointer in the picture
            time.sleep(1.0)
            x, y, width, height = ui.window("Scripts")
            ui.screenshot(out, width, height, x, y)
    log.info("wrote %s (%dx%d)", out, width, height)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "img" / "obs-properties.png")
