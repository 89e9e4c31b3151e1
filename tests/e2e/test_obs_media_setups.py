"""The streamer's own Media Source, in every setup streamers have, in real OBS.

One OBS runs the script with ``media_source`` = "TTS Audio", a Media Source the
streamer made (in the live scene, as a new streamer does first). Between the tests the
streamer reshapes it through obs-websocket, as they would in OBS's UI: moves it to a
scene that is not live, hides it, puts it in two scenes, nests it, turns on "Restart
playback when source becomes active", "Close file when inactive" or Loop, leaves a file
on it, deletes it. For every setup: the clips play in order, OBS says
MediaInputPlaybackStarted once per clip, a scene switch mid-queue cuts nothing, and the
voiced level in OBS's recording is the clip's own level (within 3 dB: heard once at the
source's mixer volume, never doubled or silent). See docs/obs.md.
"""

from __future__ import annotations

import logging
import math
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from audio_analysis import Segment, sound_segments
from obs_harness import ObsHarness, SourceSpec
from tts_stack import MEDIA, SCRIPT, ListenerClient, poll, script_in_obs

log = logging.getLogger(__name__)

LIVE, OTHER, NESTED = "Scene", "Other", "Nested"
LEVEL_TOLERANCE_DB = 3.0
TEXTS = ("the first clip of this setup", "then the second one plays", "and a third closes the queue")


@dataclass(frozen=True)
class MediaSetup:
    """Where the streamer's "TTS Audio" is and how it is set."""

    name: str
    shown_in: tuple[str, ...] = ()  # scenes with a visible item of it
    hidden_in: tuple[str, ...] = ()  # scenes with a hidden item of it
    settings: dict[str, Any] = field(default_factory=dict)
    leftover: bool = False  # an old file is set on it (and plays)
    delete: bool = False  # the streamer deletes it: the script's own source from then on


OWN_SETUPS = [
    MediaSetup("visible in the live scene", shown_in=(LIVE,)),
    MediaSetup("only in a scene that is not live, restart on activate and close when inactive on",
               shown_in=(OTHER,), settings={"restart_on_activate": True, "close_when_inactive": True}),
    MediaSetup("hidden in the live scene", hidden_in=(LIVE,)),
    MediaSetup("in two scenes, looping, with an old file", shown_in=(LIVE, OTHER), settings={"looping": True},
               leftover=True),
    MediaSetup("inside a nested scene", shown_in=(NESTED,)),
]
# Last: OBS keeps a deleted source (and its name) while the mixer holds it, so nothing
# may be renamed to "TTS Audio" after this.
SCRIPT_CREATED = MediaSetup("created by the script (the streamer deleted theirs)", delete=True)


@dataclass
class Rig:
    obs: ObsHarness
    client: ListenerClient
    folder: Path

    def call(self, request: str, **data: Any) -> dict[str, Any]:
        return self.obs.client.call(request, **data)

    def items_of_media(self) -> dict[str, list[dict[str, Any]]]:
        """Scene name -> the items of MEDIA in it."""
        scenes = [s["sceneName"] for s in self.call("GetSceneList")["scenes"]]
        return {scene: [i for i in self.call("GetSceneItemList", sceneName=scene)["sceneItems"]
                        if i["sourceName"] == MEDIA] for scene in scenes}

    def media_events(self, after: float) -> list[str]:
        names = ("MediaInputPlaybackStarted", "MediaInputPlaybackEnded")
        return [e.name[18:] for e in self.obs.client.events_named(*names, after=after)
                if e.data.get("inputName") == MEDIA]

    def media_times(self, name: str, after: float) -> list[float]:
        return [e.t for e in self.obs.client.events_named(f"MediaInputPlayback{name}", after=after)
                if e.data.get("inputName") == MEDIA]


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    workdir = tmp_path_factory.mktemp("media-setups")
    own = SourceSpec(MEDIA, "ffmpeg_source", {"local_file": ""}, scene=LIVE)  # OBS's defaults otherwise
    with script_in_obs(workdir, sources=[own], subscribe_timeout=20, media_source=MEDIA,
                       rate_limit_per_minute=0) as stack:
        yield Rig(stack.obs, stack.client, workdir)


# -- the streamer reshapes the setup ------------------------------------------------------------

def reshape(rig: Rig, setup: MediaSetup) -> None:
    """Put MEDIA where ``setup`` says, as the streamer would (obs-websocket)."""
    if setup.delete:
        rig.call("RemoveInput", inputName=MEDIA)
        return
    scenes = [s["sceneName"] for s in rig.call("GetSceneList")["scenes"]]
    if NESTED in setup.shown_in and NESTED not in scenes:
        rig.call("CreateScene", sceneName=NESTED)
        rig.call("CreateSceneItem", sceneName=LIVE, sourceName=NESTED)
        rig.call("SetCurrentProgramScene", sceneName=LIVE)  # CreateScene may make it current
    for scene, items in rig.items_of_media().items():
        for item in items:
            rig.call("RemoveSceneItem", sceneName=scene, sceneItemId=item["sceneItemId"])
    for scene, visible in [*((s, True) for s in setup.shown_in), *((s, False) for s in setup.hidden_in)]:
        rig.call("CreateSceneItem", sceneName=scene, sourceName=MEDIA, sceneItemEnabled=visible)
    file = str(leftover_file(rig.folder)) if setup.leftover else ""
    rig.call("SetInputSettings", inputName=MEDIA, inputSettings={**setup.settings, "local_file": file})


def leftover_file(folder: Path) -> Path:
    path = folder / "leftover.wav"
    if not path.exists():
        speak("an old sound the streamer left on the media source", path)
    return path


def adapted(rig: Rig) -> bool:
    """The script has made the setup play each clip once: no item of MEDIA shown in any
    scene, nothing that loops or restarts, no leftover file."""
    inputs = {i["inputName"] for i in rig.call("GetInputList")["inputs"]}
    if MEDIA not in inputs:
        return False
    if any(item["sceneItemEnabled"] for items in rig.items_of_media().values() for item in items):
        return False
    settings = rig.call("GetInputSettings", inputName=MEDIA)["inputSettings"]
    if any(settings.get(key, default) for key, default in
           (("looping", False), ("close_when_inactive", False), ("restart_on_activate", True))):
        return False
    status = rig.call("GetMediaInputStatus", inputName=MEDIA)
    playing = status["mediaState"] == "OBS_MEDIA_STATE_PLAYING" and (status["mediaDuration"] or 0) > 0
    return not settings.get("local_file") and not playing


# -- measuring ------------------------------------------------------------------------------------

def speak(text: str, path: Path) -> Path:
    subprocess.run(["espeak-ng", "-w", str(path), "--", text], check=True, timeout=30)
    return path


def voiced_db(segments: list[Segment]) -> float:
    """RMS level (dBFS) over the sound segments, weighted by their lengths."""
    total = math.fsum(s.duration for s in segments)
    energy = math.fsum(s.duration * 10 ** (s.rms_db / 10) for s in segments) / total
    return 10 * math.log10(energy)


def recording_start(rig: Rig, after: float) -> float:
    return rig.obs.client.wait_for_event(
        "RecordStateChanged", lambda d: d.get("outputState") == "OBS_WEBSOCKET_OUTPUT_STARTED", after=after).t


def switch_scene_mid_clip(rig: Rig, clip: int, scene: str, after: float) -> None:
    assert poll(lambda: len(rig.media_times("Started", after)) >= clip, 30), f"clip {clip} never started"
    time.sleep(0.5)  # well inside the clip (each lasts over a second)
    rig.call("SetCurrentProgramScene", sceneName=scene)


# -- the tests ------------------------------------------------------------------------------------

@pytest.mark.parametrize("setup", OWN_SETUPS, ids=[s.name for s in OWN_SETUPS])
def test_each_clip_plays_once_in_order_at_its_own_level(rig: Rig, setup: MediaSetup) -> None:
    plays_each_clip_once(rig, setup)


def plays_each_clip_once(rig: Rig, setup: MediaSetup) -> None:
    """Reshape, then 3 clips with two scene switches mid-clip, recorded and measured."""
    c = rig.client
    reshape(rig, setup)
    assert poll(lambda: adapted(rig), 15), f"the script did not adapt the setup: {rig.items_of_media()}"
    stats_before = c.wait_idle()
    t0 = time.monotonic()
    rig.obs.start_recording()
    rec_t = recording_start(rig, t0)
    ids = [c.queue({"type": "tts", "text": text}) for text in TEXTS]
    switch_scene_mid_clip(rig, 1, OTHER, t0)
    switch_scene_mid_clip(rig, 2, LIVE, t0)
    c.wait_event("playback_finished", ids[-1], timeout=40, after=t0)
    stats = c.wait_idle()
    time.sleep(0.5)  # the last clip's tail into the recording
    recording = rig.obs.stop_recording()

    started = [e["message_id"] for e in c.named("playback_started", after=t0)]
    assert started == ids, "not in order, or a clip was started again"
    assert stats["failed"] == stats_before["failed"], stats
    assert rig.media_events(t0) == ["Started", "Ended"] * len(ids), "a clip cut, restarted or doubled"
    begins, ends = rig.media_times("Started", t0), rig.media_times("Ended", t0)
    segments = sound_segments(recording)
    log.info("%s: recording segments %s", setup.name, segments)
    assert len(segments) == len(ids), f"expected one sound per clip: {segments}"
    for n, (text, begin, end, segment) in enumerate(zip(TEXTS, begins, ends, segments, strict=True)):
        reference = sound_segments(speak(text, rig.folder / f"ref-{n}.wav"))
        length = reference[-1].end - reference[0].start
        assert end - begin > length - 0.4, f"clip {n} cut: played {end - begin:.2f} s of {length:.2f} s"
        assert abs(segment.start - (begin - rec_t)) < 0.6, (segment, begin - rec_t)
        assert abs(segment.duration - length) < 0.3, f"clip {n}: {segment} vs {reference}"
        level, own = voiced_db([segment]), voiced_db(reference)
        log.info("%s: clip %d voiced at %.1f dBFS in the recording, %.1f dBFS in the clip", setup.name, n,
                 level, own)
        assert abs(level - own) <= LEVEL_TOLERANCE_DB, f"clip {n}: {level:.1f} dB in OBS, {own:.1f} dB alone"
    if setup.shown_in:
        assert any("hid it there" in line for line in rig.obs.script_log_lines(SCRIPT.name)), \
            "no warning about the setup the script changed"


def inputs(rig: Rig) -> set[str]:
    return {i["inputName"] for i in rig.call("GetInputList")["inputs"]}


def test_renamed_media_source_waits_with_a_status_that_says_why(rig: Rig) -> None:
    c = rig.client
    assert poll(lambda: MEDIA in inputs(rig), 15)
    c.wait_idle()
    rig.call("SetInputName", inputName=MEDIA, newInputName="Voice")
    assert poll(lambda: "renamed to 'Voice'" in str(c.stats().get("waiting_for_sink") or ""), 10), c.stats()
    assert c.stats()["player_state"] == "waiting for OBS"
    t0 = time.monotonic()
    message_id = c.queue({"type": "tts", "text": "this one waits for the media source"})
    time.sleep(1.0)  # long enough for a player that does not wait to have failed it
    assert c.stats()["pending"] == 1 and not c.named("failed", after=t0)
    assert MEDIA not in inputs(rig), "the script made a second source instead of waiting"
    rig.call("SetInputName", inputName="Voice", newInputName=MEDIA)  # the streamer renames it back
    c.wait_event("playback_finished", message_id, timeout=30, after=t0)
    assert not c.named("failed", after=t0) and c.stats()["waiting_for_sink"] is None


def test_script_created_source_plays_each_clip_once(rig: Rig) -> None:
    plays_each_clip_once(rig, SCRIPT_CREATED)


def test_media_source_deleted_mid_queue_the_queue_goes_on(rig: Rig) -> None:
    c = rig.client
    assert poll(lambda: MEDIA in inputs(rig), 15)
    before = c.wait_idle()
    t0 = time.monotonic()
    ids = [c.queue({"type": "tts", "text": text}) for text in TEXTS]
    assert poll(lambda: len(rig.media_times("Started", t0)) >= 1, 30)
    time.sleep(0.5)
    rig.call("RemoveInput", inputName=MEDIA)  # the streamer deletes it while the first clip plays
    for message_id in ids:
        c.wait_event("playback_finished", message_id, timeout=40, after=t0)
    stats = c.wait_idle()
    finished = [e["message_id"] for e in c.named("playback_finished", after=t0)]
    assert finished == ids, "not all played, or not in order"
    assert not c.named("failed", after=t0), "a message failed because its media source was deleted"
    assert stats["failed"] == before["failed"] and stats["pending"] == 0, stats
    assert MEDIA in inputs(rig), "not re-created"
    lines = rig.obs.script_log_lines(SCRIPT.name)
    assert any("deleted in OBS" in line for line in lines), "nothing in the log says why it waited"
