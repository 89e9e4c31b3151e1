"""OBS starts clean with the script: no "Missing Files" dialog and no Script Log window.

A clip plays, OBS exits (cleanly after the clip, cleanly mid-clip, killed mid-clip) and
starts again on the scene collection it saved itself. After a clip the temporary clip
path must not be in that collection; OBS saves a clip that plays as it closes before it
tells scripts, so then the file must still be there at the next start. Either way OBS
must not show "Missing Files: TTS Audio", and nothing the script logs in normal
operation may be a warning (OBS raises the Script Log window for a warning). Both are
checked on the X screen: no such window is mapped.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from obs_harness import HarnessError, find_free_port
from obs_restart import RestartableObs
from obs_ui import ObsUi
from tts_stack import MEDIA, SCRIPT, ListenerClient, script_setup

CLIP_FOLDER = "obs-tts-clips-"
POP_UPS = ("Missing Files", "Script Log")
LONG_TEXT = "This message is long enough to be cut in the middle. " * 6


def _quit(obs: RestartableObs, client: ListenerClient, text: str) -> None:
    """Quit cleanly; if it came to SIGINT and OBS 29's own deadlock struck, nothing was saved
    to check: start and quit again."""
    for _ in range(3):
        if obs.quit():
            return
        obs.start_again()
        _started_and_played(obs, client, text)
    raise HarnessError("OBS never exited cleanly (its own SIGINT deadlock, 3 times)")


def _saved_media_file(obs: RestartableObs) -> str | None:
    for source in json.loads(obs.saved_collection()).get("sources", []):
        if source.get("name") == MEDIA:
            return str(source.get("settings", {}).get("local_file", ""))
    return None


def _pop_ups(ui: ObsUi) -> list[str]:
    return [title for title in POP_UPS if ui.find(title) is not None]


def _warnings(obs: RestartableObs) -> list[str]:
    return [line for line in obs.script_log_lines(SCRIPT.name) if " WARNING " in line or " ERROR " in line]


def _started_and_played(obs: RestartableObs, client: ListenerClient, text: str) -> None:
    """After a (re)start: the script loaded, OBS finished loading, a clip plays to its end."""
    obs.wait_for_log(r"listener on", timeout=45)
    t0 = time.monotonic()
    client.queue({"type": "tts", "text": text}, retry_for=10)
    obs.client.wait_for_event("MediaInputPlaybackEnded", lambda d: d["inputName"] == MEDIA, 45, t0)


def _check_clean_start(obs: RestartableObs, ui: ObsUi) -> None:
    main = ui.wait_window("OBS ", timeout=30, prefix=True)  # the check sees OBS's windows at all
    assert main
    found = _pop_ups(ui)
    assert not found, f"windows mapped at start: {found}; script warnings: {_warnings(obs)}"
    assert not _warnings(obs), _warnings(obs)


def test_clean_exit_and_restart_show_no_missing_files_and_no_script_log(tmp_path: Path) -> None:
    port = find_free_port()
    setup = script_setup(tmp_path, port)
    with RestartableObs(setup, workdir=tmp_path / "obs") as obs:
        client = ListenerClient(port)
        ui = ObsUi(obs)
        _started_and_played(obs, client, "first run")
        _check_clean_start(obs, ui)
        _quit(obs, client, "run again after OBS's own shutdown deadlock")
        assert CLIP_FOLDER not in obs.saved_collection(), "a temporary clip path was saved"
        assert _saved_media_file(obs) == "", "the media source was not saved, or with a file"

        obs.start_again()
        _started_and_played(obs, client, "second run")
        _check_clean_start(obs, ui)


def test_killed_mid_clip_then_restart_shows_no_missing_files_and_no_script_log(tmp_path: Path) -> None:
    port = find_free_port()
    setup = script_setup(tmp_path, port)
    with RestartableObs(setup, workdir=tmp_path / "obs") as obs:
        client = ListenerClient(port)
        ui = ObsUi(obs)
        _started_and_played(obs, client, "first run")
        t0 = time.monotonic()
        client.queue({"type": "tts", "text": LONG_TEXT})
        obs.client.wait_for_event("MediaInputPlaybackStarted", lambda d: d["inputName"] == MEDIA, 45, t0)
        settings = obs.client.call("GetInputSettings", inputName=MEDIA)["inputSettings"]
        assert CLIP_FOLDER in json.dumps(settings), "no clip on the source"
        obs.kill()
        assert CLIP_FOLDER not in obs.saved_collection(), "a temporary clip path was saved"

        obs.start_again()
        _started_and_played(obs, client, "after the kill")
        _check_clean_start(obs, ui)


def test_clean_exit_mid_clip_then_restart_shows_no_missing_files_and_no_script_log(tmp_path: Path) -> None:
    port = find_free_port()
    setup = script_setup(tmp_path, port)
    with RestartableObs(setup, workdir=tmp_path / "obs") as obs:
        client = ListenerClient(port)
        ui = ObsUi(obs)
        _started_and_played(obs, client, "first run")
        for _ in range(3):  # OBS 29's SIGINT deadlock (if it came to that) saved nothing: run again
            t0 = time.monotonic()
            client.queue({"type": "tts", "text": LONG_TEXT})
            obs.client.wait_for_event("MediaInputPlaybackStarted", lambda d: d["inputName"] == MEDIA, 45, t0)
            if obs.quit():
                break
            obs.start_again()
            _started_and_played(obs, client, "run again after OBS's own shutdown deadlock")
        else:
            raise HarnessError("OBS never exited cleanly (its own SIGINT deadlock, 3 times)")
        saved = _saved_media_file(obs)
        assert saved is not None
        assert not saved or Path(saved).is_file(), f"OBS saved the clip {saved} and it is gone"

        obs.start_again()
        _started_and_played(obs, client, "after the exit mid-clip")
        _check_clean_start(obs, ui)
