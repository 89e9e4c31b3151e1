"""Streamer.bot's events reach real OBS with no scripting: the script's Connections group
has the Streamer.bot connector on, a loopback Streamer.bot server (tests/fakes) sends a
follow, a cheer, a resub and `!tts` chat, deletes a held line and bans a viewer who has
one waiting; OBS's own recording holds exactly the clips that should play, in priority
order."""

from __future__ import annotations

import itertools
import logging
import subprocess
import time
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from audio_analysis import sound_segments
from fakes.streamerbot import FakeStreamerBot
from tts_stack import PAUSE_MS, Stack, script_in_obs

log = logging.getLogger(__name__)

HOLD_SECONDS = 2.0  # every message waits this long, so moderators (and this test) can remove it


def script_with_streamerbot(workdir: Path, server: FakeStreamerBot) -> AbstractContextManager[Stack]:
    return script_in_obs(workdir, rate_limit_per_minute=0, hold_seconds=HOLD_SECONDS,
                         streamerbot_enabled=True, streamerbot_url=server.url,
                         streamerbot_password="sb-secret")


def clip_length(text: str, folder: Path) -> float:
    """The sound in the clip espeak-ng makes for ``text`` here (the script's engine)."""
    path = folder / f"ref-{abs(hash(text))}.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "--", text], check=True, timeout=30)
    segments = sound_segments(path)
    return segments[-1].end - segments[0].start


def test_streamerbot_events_play_in_obs_deleted_and_banned_ones_never(tmp_path: Path) -> None:
    with FakeStreamerBot(password="sb-secret") as server, script_with_streamerbot(tmp_path, server) as stack:
        assert server.wait_subscribed(timeout=30), "the script's connector never subscribed"
        c = stack.client
        t0 = time.monotonic()
        stack.obs.start_recording()
        c.request("Pause")

        def chat(name: str, uid: str, text: str, message_id: str) -> None:
            user = {"id": uid, "login": name.lower(), "name": name, "role": 1}
            server.send_event("Twitch", "ChatMessage", {"user": user, "text": text, "messageId": message_id})

        chat("Viewer", "1", "!tts hello from chat", "m-1")  # NORMAL, arrives first
        chat("Viewer", "1", "!tts delete this line", "m-2")
        chat("Troll", "666", "!tts troll words", "m-3")
        server.send_event("Twitch", "Follow", {"user": {"id": "2", "login": "fan", "name": "Fan"}})
        server.send_event("Twitch", "Cheer", {"user": {"id": "3", "name": "BitLord"}, "bits": 100,
                                              "text": "Cheer100 great stream", "messageId": "c-1"})
        server.send_event("Twitch", "ReSub", {"user": {"id": "4", "name": "Loyal"}, "cumulativeMonths": 12,
                                              "text": "a year already"})
        deadline = time.monotonic() + 20
        while c.stats()["accepted"] < 6:
            assert time.monotonic() < deadline, c.stats()
            time.sleep(0.05)
        server.send_event("Twitch", "ChatMessageDeleted", {"targetMessageId": "m-2", "message": "delete"})
        server.send_event("Twitch", "UserBanned", {"target_user_login": "troll", "target_user_id": "666"})
        while c.stats()["dropped"] < 2:
            assert time.monotonic() < deadline, c.stats()
            time.sleep(0.05)
        time.sleep(max(0.0, HOLD_SECONDS - (time.monotonic() - t0)))  # every kept message is due
        c.request("Resume")
        stats = c.wait_idle(60)
        time.sleep(0.5)
        recording = stack.obs.stop_recording()

        expected = ["Fan just followed", "BitLord cheered 100 bits: great stream",
                    "Loyal subscribed for 12 months: a year already", "Viewer says: hello from chat"]
        played = [e["text"] for e in c.named("playback_started", after=t0)]
        assert played == expected
        assert stats["played"] == 4 and stats["dropped"] == 2, stats
        state = stats["connectors"]["streamerbot"]
        assert state["state"] == "connected" and state["events"] == 8, state

        segments = sound_segments(recording)
        log.info("recording segments %s", segments)
        assert len(segments) == len(expected), segments
        for segment, text in zip(segments, expected, strict=True):
            assert abs(segment.duration - clip_length(text, tmp_path)) < 0.2, (segment, text)
        gaps = [b.start - a.end for a, b in itertools.pairwise(segments)]
        assert all(gap >= PAUSE_MS / 1000 * 0.8 for gap in gaps), gaps  # one clip at a time


pytestmark = pytest.mark.e2e
