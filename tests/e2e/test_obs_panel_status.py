"""The script's status in its properties panel, in real OBS 29, and the listener's port clash.

OBS 29 gives a script no way to redraw its shown properties panel: the panel is built
(``script_properties``) when it is shown and when a button or a field with a modified
callback asks for it. So the status is read on every build, and the panel says so next
to it with a "Refresh status" button. This test checks that path on OBS's own panel
(AT-SPI, obs_panel.py), with the listener's port taken when OBS starts:

- the status names the panel's field ("Port") and what to do;
- the listener comes up by itself once the port is free (no click, no Reload);
- after a clip plays, Refresh status shows it played, the listener up, and a text source
  created after the script loaded is offered as the caption source.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

from doubles import skip_or_fail, wait_until
from obs_harness import ObsHarness
from obs_panel import AccessibilityBus, Node, ScriptPanel, missing_for_panel
from obs_ui import ObsUi
from tts_stack import SCRIPT, ListenerClient, script_setup

log = logging.getLogger(__name__)

STATUS_START = "Queue: "  # the status text's first line starts so
NEW_TEXT_SOURCE = "Added later"


def status_text(panel: ScriptPanel) -> str:
    for node, _ in panel.dialog().walk():
        if node.role == "label" and node.name.startswith(STATUS_START):
            return " ".join(node.name.split())  # the panel breaks long lines
    return ""


def button(panel: ScriptPanel, name: str) -> Node:
    for node, _ in panel.dialog().walk():
        if node.role == "push button" and node.name == name:
            return node
    raise AssertionError(f"no button {name!r} in the script's panel")


def refresh(panel: ScriptPanel, wanted: str, timeout: float = 20.0) -> str:
    """Press Refresh status (again while the status lacks ``wanted``); the status shown."""
    def pressed_and_shown() -> bool:
        x, y = panel._scroll_into_view(button(panel, "Refresh status"), panel.scroll_bar("Media source"))
        panel.ui.focus(panel.ui.wait_window("Scripts"))
        panel.ui.click(x, y)
        return wait_until(lambda: wanted in status_text(panel), 3.0)
    if not wait_until(pressed_and_shown, timeout):
        shot = panel.screenshot("refresh-failed")
        raise AssertionError(f"status never showed {wanted!r}: {status_text(panel)!r} (see {shot})")
    return status_text(panel)


def combo_items(panel: ScriptPanel, label: str) -> list[str]:
    combo = panel.field(label)
    return [node.name for node, _ in combo.walk() if node.role in ("list item", "menu item")]


def test_status_refresh_and_a_port_clash_that_clears_by_itself(tmp_path: Path) -> None:
    if missing := missing_for_panel():
        skip_or_fail(f"not installed: {missing} (`make system-deps` installs them)",
                     required=os.environ.get("OBS_TTS_REQUIRE_E2E") == "1")
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    setup = script_setup(tmp_path, port)
    try:
        with AccessibilityBus(tmp_path / "a11y") as bus:
            setup.extra_env = {**setup.extra_env, **bus.env()}
            with ObsHarness(setup, workdir=tmp_path / "obs") as obs:
                obs.wait_for_log(rf"listener is down: Port {port} is in use", timeout=45)
                a11y = bus.connect()
                panel = ScriptPanel(ObsUi(obs), a11y)
                panel.open(SCRIPT.name, "Media source")
                shown = status_text(panel)
                assert NEW_TEXT_SOURCE not in combo_items(panel, "Caption text source")
                obs.client.call("CreateInput", sceneName="Scene", inputName=NEW_TEXT_SOURCE,
                                inputKind="text_ft2_source_v2", inputSettings={"text": ""})
                assert f"Port {port} is in use" in shown and "another Port under Listener" in shown, shown

                blocker.close()  # the port frees: the listener comes up by itself
                obs.wait_for_log(rf"port {port} is free again", timeout=45)
                client = ListenerClient(port)
                client.subscribe()
                message_id = client.queue({"type": "tts", "text": "the status says I was played"})
                client.wait_event("playback_finished", message_id, timeout=30)
                log.info("status shown without a click after the clip (OBS 29 does not redraw): %r",
                         status_text(panel))

                shown = refresh(panel, "played: 1")
                assert f"listening on ws://127.0.0.1:{port}/" in shown and "is in use" not in shown, shown
                assert NEW_TEXT_SOURCE in combo_items(panel, "Caption text source")
                panel.screenshot("panel-status")
                warnings = [line for line in obs.script_log_lines(SCRIPT.name) if " WARNING " in line]
                assert len(warnings) == 1 and f"Port {port}" in warnings[0], warnings
                client.close()
                a11y.close()
    finally:
        blocker.close()
