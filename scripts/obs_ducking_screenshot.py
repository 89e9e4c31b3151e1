"""Take docs/img/obs-ducking-filter.png: the script's ducking filter in OBS's Filters dialog.

Starts an isolated OBS (Xvfb) with the script set to lower a "Music" source, waits for
the script's Compressor filter on it, opens the source's Filters dialog through
obs-websocket (OpenInputFiltersDialog) and grabs that window with ffmpeg's x11grab.
Run: make screenshots (or .venv/bin/python scripts/obs_ducking_screenshot.py [OUT.png]).
Not part of make test.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "e2e"), str(REPO)]

from ducking_levels import write_tone  # noqa: E402 - after the path set-up
from obs_harness import HarnessError, ObsHarness, SourceSpec, find_free_port  # noqa: E402
from obs_ui import ObsUi  # noqa: E402
from tts_stack import script_setup  # noqa: E402

from tts_core.obs.ducking import FILTER_NAME  # noqa: E402

log = logging.getLogger("obs_ducking_screenshot")
MUSIC = "Music"
DIALOG = (900, 690)


def main(out: Path) -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        tone = write_tone(work / "music.wav")
        setup = script_setup(work, find_free_port(), hotkey_skip=[], ducking_sources=MUSIC)
        setup.sources = [*setup.sources, SourceSpec(MUSIC, "ffmpeg_source", {
            "local_file": str(tone), "is_local_file": True, "looping": True})]
        with ObsHarness(setup, workdir=work / "obs") as obs:
            deadline = time.monotonic() + 20
            while FILTER_NAME not in {f["filterName"] for f in obs.client.call(
                    "GetSourceFilterList", sourceName=MUSIC)["filters"]}:
                if time.monotonic() > deadline:
                    raise HarnessError(f"the script did not add {FILTER_NAME!r} to {MUSIC!r}")
                time.sleep(0.2)
            obs.client.call("OpenInputFiltersDialog", inputName=MUSIC)
            ui = ObsUi(obs)
            wid = ui.wait_window("Filters for", timeout=10, prefix=True)
            ui.xdotool("windowmove", wid, "0", "0", "windowsize", wid, str(DIALOG[0]), str(DIALOG[1]))
            time.sleep(1.5)  # Qt lays the dialog out again at its new size
            ui.xdotool("mousemove", "1270", "710")  # no pointer in the picture
            x, y, width, height = ui.geometry(wid)
            ui.screenshot(out, width, height, x, y)
    log.info("wrote %s (%dx%d)", out, width, height)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "img" / "obs-ducking-filter.png")
