"""The TTS queue plays through real OBS: order, one clip at a time, in the recording,
through scene switches, and under Skip/Pause/Resume/Clear and the mixer's volume/mute.

Each test runs for the OBS script and for the remote sink (obs-websocket, clip files
or HTTP); see tts_stack.py. Proof comes from OBS itself: obs-websocket media events
and OBS's own recording, measured with ffmpeg.
"""

from __future__ import annotations

import logging
import subprocess
import time
import wave
from pathlib import Path

import pytest
from audio_analysis import Segment, sound_segments, total_sound_duration
from tts_stack import MEDIA, MODES, Stack, poll

log = logging.getLogger(__name__)

pytestmark = pytest.mark.parametrize("stack", MODES, indirect=True)

LONG_TEXT = "This sentence keeps the voice talking while the streamer changes the scene twice"


def reference(text: str, folder: Path) -> tuple[float, list[Segment]]:
    """The clip espeak-ng makes for ``text`` here (the engine the queue uses): length and sound."""
    path = folder / f"ref-{abs(hash(text))}.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "--", text], check=True, timeout=30)
    with wave.open(str(path)) as w:
        length = w.getnframes() / w.getframerate()
    return length, sound_segments(path)


def recording_start(stack: Stack, after: float) -> float:
    return stack.obs.client.wait_for_event(
        "RecordStateChanged", lambda d: d.get("outputState") == "OBS_WEBSOCKET_OUTPUT_STARTED", after=after).t


def test_priority_order_one_at_a_time_and_in_the_recording(stack: Stack, tmp_path: Path) -> None:
    c = stack.client
    t0 = time.monotonic()
    stack.obs.start_recording()
    rec_t = recording_start(stack, t0)
    c.request("Pause")
    frames = [
        {"type": "tts", "text": "first low message", "priority": "LOW"},
        {"type": "follow", "username": "alice"},
        {"type": "tts", "text": "a normal one", "priority": "NORMAL"},
        {"type": "donation", "donor_name": "Big Spender", "amount": 500, "message": "Wow"},
        {"type": "tts", "text": "the second low message is the longest of all", "priority": "LOW"},
    ]
    ids = [c.queue(frame) for frame in frames]
    expected = [ids[3], ids[1], ids[2], ids[0], ids[4]]  # URGENT donation, HIGH follow, NORMAL, LOW, LOW
    c.request("Resume")
    started = c.wait_event("playback_started", expected[0], after=t0)
    assert poll(lambda: "Big Spender" in stack.caption(), 2.0), stack.caption()
    c.wait_event("playback_finished", expected[-1], timeout=40, after=t0)
    assert poll(lambda: stack.caption() == "", 2.0), "caption not cleared after the last clip"
    time.sleep(0.5)
    recording = stack.obs.stop_recording()

    plays = [e for e in c.named("playback_started", after=t0)]
    assert [e["message_id"] for e in plays] == expected
    assert started["priority"] == "URGENT"

    media = stack.media_events(after=t0)
    assert [e.name[18:] for e in media] == ["Started", "Ended"] * len(expected), "two clips at once?"
    spans = [(a.t, b.t) for a, b in zip(media[::2], media[1::2], strict=True)]
    for (start, end), play in zip(spans, plays, strict=True):
        assert abs((end - start) - play["duration_ms"] / 1000) < 0.4, (end - start, play)

    segments = sound_segments(recording)
    log.info("%s: recording segments %s", stack.mode, segments)
    assert len(segments) == len(expected), segments
    for segment, play, (start, _) in zip(segments, plays, spans, strict=True):
        _, ref = reference(play["text"], tmp_path)
        assert abs(segment.duration - (ref[-1].end - ref[0].start)) < 0.2, (segment, ref, play)
        assert abs(segment.start - (start - rec_t)) < 0.5, (segment, start - rec_t)
        assert segment.peak_db > -25
    for previous_end, segment in zip([end for _, end in spans], segments[1:], strict=False):
        assert segment.start > previous_end - rec_t - 0.15, "a clip started before the previous one ended"


def test_scene_switch_mid_clip_neither_cuts_nor_restarts(stack: Stack, tmp_path: Path) -> None:
    c = stack.client
    t0 = time.monotonic()
    stack.obs.start_recording()
    rec_t = recording_start(stack, t0)
    message_id = c.queue({"type": "tts", "text": LONG_TEXT})
    begin = stack.wait_media("Started", t0)
    time.sleep(1.0)
    stack.obs_call("SetCurrentProgramScene", sceneName="Other")
    time.sleep(1.0)
    stack.obs_call("SetCurrentProgramScene", sceneName="Scene")
    played = c.wait_event("playback_finished", message_id, after=t0)
    end = stack.wait_media("Ended", begin.t)
    time.sleep(0.5)
    recording = stack.obs.stop_recording()

    assert [e.name[18:] for e in stack.media_events(after=t0)] == ["Started", "Ended"], "cut or restarted"
    length, ref = reference(LONG_TEXT, tmp_path)
    assert abs((end.t - begin.t) - length) < 0.4
    assert played["duration_ms"] >= (length - 0.4) * 1000
    segments = sound_segments(recording)
    log.info("%s: scene switch: segments %s, reference %s", stack.mode, segments, ref)
    assert len(segments) == len(ref), (segments, ref)
    assert abs(total_sound_duration(segments) - total_sound_duration(ref)) < 0.3
    assert abs(segments[0].start - (begin.t - rec_t)) < 0.5


def test_skip_pause_resume_clear(stack: Stack) -> None:
    c = stack.client
    t0 = time.monotonic()
    a, b, d = (c.queue({"type": "tts", "text": text}) for text in (LONG_TEXT, "the second message", "third"))
    first = stack.wait_media("Started", t0)
    long_s = c.wait_event("playback_started", a, after=t0)["duration_ms"] / 1000
    time.sleep(0.5)
    assert c.request("Skip")["skipped"] == a
    cut = stack.wait_media("Ended", first.t, timeout=long_s + 10)
    # cut, not played out: OBS's media source ended it well before the clip's own end
    assert cut.t - first.t < long_s - 1.5, (round(cut.t - first.t, 2), long_s)
    c.wait_event("skipped", a, after=t0)
    second = c.wait_event("playback_started", b, after=t0)

    c.request("Pause")  # the clip playing finishes; nothing new starts
    finished = c.wait_event("playback_finished", b, after=second["t"])
    time.sleep(1.5)
    assert not c.named("playback_started", after=finished["t"]), "played while paused"
    assert not [e for e in stack.media_events(after=finished["t"] + 0.1) if e.name.endswith("Started")]
    resumed_at = time.monotonic()
    c.request("Resume")
    c.wait_event("playback_started", d, after=resumed_at, timeout=5)
    c.wait_event("playback_finished", d, after=resumed_at)

    c.request("Pause")
    pending = [c.queue({"type": "tts", "text": f"never spoken {n}"}) for n in range(3)]
    assert c.request("Clear")["cleared"] == 3
    for message_id in pending:
        c.wait_event("dropped", message_id, after=resumed_at)
    cleared_at = time.monotonic()
    c.request("Resume")
    time.sleep(1.5)
    assert not c.named("playback_started", after=cleared_at)
    stats = c.stats()
    assert stats["pending"] == 0 and stats["paused"] is False, stats


def test_mixer_volume_and_mute_apply(stack: Stack) -> None:
    c = stack.client
    text = "volume check one two"
    t0 = time.monotonic()
    stack.obs.start_recording()
    recording_start(stack, t0)
    try:
        for volume_db, muted in ((0.0, False), (-20.0, False), (0.0, True)):
            stack.obs_call("SetInputVolume", inputName=MEDIA, inputVolumeDb=volume_db)
            stack.obs_call("SetInputMute", inputName=MEDIA, inputMuted=muted)
            c.wait_event("playback_finished", c.queue({"type": "tts", "text": text}), after=t0)
    finally:
        stack.obs_call("SetInputVolume", inputName=MEDIA, inputVolumeDb=0.0)
        stack.obs_call("SetInputMute", inputName=MEDIA, inputMuted=False)
    time.sleep(0.5)
    segments = sound_segments(stack.obs.stop_recording(), threshold_db=-60)
    log.info("%s: volume segments %s", stack.mode, segments)
    assert len(segments) == 2, f"the muted clip was heard, or a clip was lost: {segments}"
    assert abs((segments[0].peak_db - segments[1].peak_db) - 20) < 3, segments
