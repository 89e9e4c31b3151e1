"""A setting changed in the script's properties panel applies to the very next event, live.

OBS runs the script with its listener. A chat ``!tts this is a scam`` is read as it is;
then, while a long clip plays, the test types the bad word "scam" into the Moderation
group's "Bad words" field of Tools > Scripts, key by key as a streamer does (obs_panel.py
finds the field through AT-SPI; OBS calls ``script_update`` on each key). Nothing
reloads or restarts the script, the clip that plays is not cut, and the very next
``!tts this is a scam`` is queued with the censor word instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from doubles import skip_or_fail, wait_until
from obs_harness import ObsHarness, find_free_port
from obs_panel import AccessibilityBus, ScriptPanel, missing_for_panel
from obs_ui import ObsUi
from tts_stack import SCRIPT, ListenerClient, script_setup

BAD_WORDS_LABEL = "Bad words"  # the Moderation group's field for the setting moderation_bad_words
CENSOR_WORD = "bleep"  # what a bad word is replaced with by default
SCAM = {"type": "chat", "username": "viewer", "message": "!tts this is a scam"}
LONG = {"type": "tts", "text": (  # about 13 s of speech: it plays through the whole edit
    "This long announcement keeps playing while the streamer edits the moderation settings, "
    "and it must play to its very end: a setting that changes never cuts the clip on the air. "
    "Only the messages that arrive after the change are read with the new rules.")}
APPLIED = re.compile(r"\bsettings applied\b")  # the queue logs one per settings change it applied
NOT_APPLIED = "settings not applied"


class AppliedLines:
    """Counts the "settings applied" lines of the script in the OBS log (the control thread
    logs one after each change it applied, once ``reconfigure`` has returned)."""

    def __init__(self, obs: ObsHarness) -> None:
        self.obs = obs
        self.seen = self.count()

    def count(self) -> int:
        return len(APPLIED.findall(self.obs.read_log()))

    def wait_next(self, text: str, timeout: float = 15.0) -> None:
        """Wait for the line of the edit that left the field holding ``text``."""
        assert wait_until(lambda: self.count() > self.seen, timeout), \
            f"the panel edit to {text!r} was never applied; log: {self.obs.script_log_lines()[-5:]}"
        self.seen = self.count()
        refused = [line for line in self.obs.script_log_lines() if NOT_APPLIED in line]
        assert not refused, refused


def _speak(client: ListenerClient, frame: dict[str, Any]) -> dict[str, Any]:
    """Send ``frame``; its ``queued`` event (the text the queue will speak)."""
    message_id = client.queue(frame)
    return client.wait_event("queued", message_id, timeout=10)


def test_bad_word_typed_in_the_panel_censors_the_next_chat_line(tmp_path: Path) -> None:
    if missing := missing_for_panel():
        skip_or_fail(f"not installed: {missing} (`make system-deps` installs them)",
                     required=os.environ.get("OBS_TTS_REQUIRE_E2E") == "1")
    port = find_free_port()
    setup = script_setup(tmp_path, port, rate_limit_per_minute=0)
    with AccessibilityBus(tmp_path / "a11y") as bus:
        setup.extra_env = {**setup.extra_env, **bus.env()}
        with ObsHarness(setup, workdir=tmp_path / "obs") as obs:
            obs.wait_for_log(r"listener on ws://", timeout=20)
            client = ListenerClient(port)
            client.subscribe()
            before = _speak(client, SCAM)
            assert "scam" in before["text"], before
            client.wait_event("playback_finished", before["message_id"], timeout=20)

            a11y = bus.connect()
            panel = ScriptPanel(ObsUi(obs), a11y)
            panel.open(SCRIPT.name, BAD_WORDS_LABEL)
            field = panel.focus_field(BAD_WORDS_LABEL)
            assert field.text() == "", field.text()

            long_id = client.queue(LONG)
            client.wait_event("playback_started", long_id, timeout=20)
            applied = AppliedLines(obs)
            # Each key is applied before the next is pressed, so the last "settings applied"
            # line is the whole word's: the next event meets the new rule.
            panel.type_into(field, "scam", settled=applied.wait_next)
            ended = [e for e in client.named("playback_finished", "skipped", "failed")
                     if e.get("message_id") == long_id]
            assert not ended, f"the long clip ended before the change applied: this proves nothing {ended}"
            panel.screenshot("panel-after-edit")  # kept in the working folder: what the streamer sees

            after = _speak(client, SCAM)
            assert "scam" not in after["text"] and CENSOR_WORD in after["text"], after
            client.wait_event("playback_finished", after["message_id"], timeout=40)

            long_events = [e["event"] for e in client.events if e.get("message_id") == long_id]
            assert long_events == ["queued", "playback_started", "playback_finished"], long_events
            lines = obs.script_log_lines(SCRIPT.name)
            assert sum("OBS TTS Queue loaded" in line for line in lines) == 1, "the script was reloaded"
            assert sum("TTS queue started" in line for line in lines) == 1, "the queue was restarted"
            assert not [line for line in lines if "Traceback" in line or " ERROR " in line]
            client.close()
            a11y.close()
