"""Alert sounds in real OBS: a donation with an alert sound is, in OBS's own recording,
the sound immediately followed by the donation's speech, with no other clip between them,
even when an URGENT message arrives while the sound plays (it plays after the speech).

Runs for the OBS script (the alert set in the panel's "Alert sounds" keys) and for the
remote sink (``obs-tts serve --sink obs``: the ``alerts`` config section), through the
same media source as the speech. The alert is a 1 kHz tone made with sox; the recording
is decoded with ffmpeg and every 20 ms window is tested for that tone.
"""

from __future__ import annotations

import contextlib
import logging
import math
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from audio_analysis import Audio, decode_audio, sound_segments, window_levels
from doubles import skip_or_fail
from obs_harness import HarnessError, ObsHarness, ObsSetup, find_free_port
from tts_stack import (
    MEDIA,
    PASSWORD,
    PAUSE_MS,
    ListenerClient,
    Stack,
    caption_spec,
    poll,
    script_setup,
)

from tts_core import TTSConfig, TTSQueueManager
from tts_core.ingest.translator import StreamerBotIntegration
from tts_core.listener import ListenerServer
from tts_core.obs.remote.sink import RemoteObsSink

log = logging.getLogger(__name__)

TONE_S = 1.0  # long enough that the URGENT message surely arrives while it plays
TONE_HZ = 1000
RATE = 16000
WINDOW_S = 0.02
DONATION_TEXT = "Thank you for the wonderful stream tonight"
URGENT_TEXT = "urgent message from the moderators"


def make_tone(folder: Path, kind: str = "wav") -> Path:
    """The alert tone as a WAV (sox), or as Ogg Vorbis / FLAC made from it (ffmpeg): the
    formats of streamers' alert packs, played as a WAV copy."""
    if shutil.which("sox") is None:
        skip_or_fail("sox is not installed (apt-get install sox)", required=True)
    path = folder / "alert-tone.wav"
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "1", "-b", "16", str(path), "synth", str(TONE_S),
                    "sine", str(TONE_HZ), "vol", "0.5"], check=True, timeout=30)
    if kind == "wav":
        return path
    if shutil.which("ffmpeg") is None:
        skip_or_fail("ffmpeg is not installed (apt-get install ffmpeg)", required=True)
    packed = path.with_suffix(f".{kind}")
    codec = ["-c:a", "libvorbis"] if kind == "ogg" else []
    subprocess.run(["ffmpeg", "-y", "-loglevel", "error", "-i", str(path), *codec, str(packed)],
                   check=True, timeout=30)
    return packed


@contextlib.contextmanager
def alert_stack(mode: str, workdir: Path, tone: Path) -> Iterator[Stack]:
    """OBS plus the queue with a donation alert sound (``mode``: script, remote-local or remote-http)."""
    manager = listener = sink = None
    if mode == "script":
        port = find_free_port()
        setup = script_setup(workdir, port, pause_between_clips_ms=PAUSE_MS, rate_limit_per_minute=0,
                             alert_donation_file=str(tone), alert_donation_volume=100)
        obs = ObsHarness(setup, workdir=workdir / "obs")
        obs.start()
        obs.wait_for_log(r"TTS queue started", timeout=15)
        if not poll(lambda: MEDIA in {i["inputName"] for i in obs.client.call("GetInputList")["inputs"]}, 10):
            raise HarnessError(f"the script did not create {MEDIA!r}")
        client = ListenerClient(port)
    else:
        obs = ObsHarness(ObsSetup(password=PASSWORD, extra_scenes=["Other"], sources=[caption_spec()]),
                         workdir=workdir / "obs")
        obs.start()
        config = TTSConfig.from_dict({
            "tts_queue": {"persist": False, "pause_between_clips_ms": PAUSE_MS, "rate_limit_per_minute": 0},
            "listener": {"port": 0},
            "alerts": {"donation": [{"min_amount": 0, "file": str(tone)}]}})
        sink = RemoteObsSink.from_options(port=obs.port or 0, password=PASSWORD, media_source=MEDIA,
                                          mode=mode.removeprefix("remote-"), clip_host="127.0.0.1")
        sink.source.ensure()
        manager = TTSQueueManager(config, sink=sink)
        listener = ListenerServer(manager, StreamerBotIntegration(manager))
        manager.start()
        listener.start()
        client = ListenerClient(listener.port)
    stack = Stack(mode, obs, client, manager, listener, sink)
    ok = False
    try:
        client.subscribe()
        yield stack
        ok = True
    finally:
        client.close()
        if listener is not None:
            listener.stop()
        if manager is not None:
            manager.stop()
        if sink is not None:
            sink.close()
        obs.stop(check=ok)


def tone_share(chunk: list[int] | object, rate: int = RATE, freq: int = TONE_HZ) -> float:
    """How much of a window's energy is the alert's tone (1.0: nothing else)."""
    samples = list(chunk)  # type: ignore[call-overload]
    total = math.fsum(x * x for x in samples)
    if total <= 0:
        return 0.0
    step = 2 * math.pi * freq / rate
    re = math.fsum(x * math.cos(step * i) for i, x in enumerate(samples))
    im = math.fsum(x * math.sin(step * i) for i, x in enumerate(samples))
    return min(1.0, 2 * (re * re + im * im) / len(samples) / total)


def fine_speech_start(audio: Audio, tone_end: float, step: float = 0.005) -> float:
    """Where sound that is not the tone begins after ``tone_end`` (5 ms steps from the
    last 20 ms tone window on; a step that is pure tone, or silent, is not speech)."""
    n = round(audio.sample_rate * step)
    threshold = 32768 * 10 ** (-45 / 20)
    i = max(0, round((tone_end - 2 * WINDOW_S) / step))
    while (i + 1) * n <= len(audio.samples):
        chunk = audio.samples[i * n:(i + 1) * n]
        rms = math.sqrt(math.fsum(x * x for x in chunk) / n)
        if rms > threshold and tone_share(chunk, audio.sample_rate) < 0.5:
            return i * step
        i += 1
    raise AssertionError("no speech after the tone")


def espeak_lead_and_length(text: str, folder: Path) -> tuple[float, float]:
    """Where espeak-ng's clip for ``text`` starts to sound, and how long it sounds."""
    path = folder / f"ref-{abs(hash(text))}.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "--", text], check=True, timeout=30)
    segments = sound_segments(path)
    return segments[0].start, segments[-1].end - segments[0].start


@pytest.mark.parametrize(("mode", "kind"), [
    ("script", "wav"), ("remote-local", "wav"), ("remote-http", "wav"),
    ("script", "ogg"), ("remote-http", "flac")])
def test_alert_then_speech_with_nothing_between_even_with_an_urgent_message(
        mode: str, kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=__name__)  # the measured gap, for the report
    tone = make_tone(tmp_path, kind)
    with alert_stack(mode, tmp_path / mode, tone) as stack:
        c = stack.client
        t0 = time.monotonic()
        stack.obs.start_recording()
        stack.obs.client.wait_for_event(
            "RecordStateChanged", lambda d: d.get("outputState") == "OBS_WEBSOCKET_OUTPUT_STARTED", after=t0)
        donation = c.queue({"type": "donation", "donor_name": "Alice", "amount": 5, "message": DONATION_TEXT})
        started = c.wait_event("playback_started", donation, after=t0)
        assert started["alert_ms"] == round(TONE_S * 1000), started
        alert_began = stack.wait_media("Started", t0)
        urgent = c.queue({"type": "tts", "text": URGENT_TEXT, "priority": "URGENT"})
        urgent_queued = c.wait_event("queued", urgent, after=t0)
        c.wait_event("playback_finished", urgent, timeout=40, after=t0)
        time.sleep(0.5)
        recording = stack.obs.stop_recording()
        c.wait_idle()

        # The URGENT message arrived while the alert played, and still came after the speech.
        media = stack.media_events(after=t0)
        assert [e.name[18:] for e in media] == ["Started", "Ended"] * 3, [e.name for e in media]
        alert_ended = media[1]
        assert alert_began.t < urgent_queued["t"] < alert_ended.t, "the URGENT message came after the alert"
        plays = [e["message_id"] for e in c.named("playback_started", after=t0)]
        assert plays == [donation, urgent]
        finished = c.wait_event("playback_finished", donation, after=t0)
        assert finished["duration_ms"] >= (TONE_S - 0.1) * 1000 + 1000

        # The recording: the tone, right after it the donation's speech, then the URGENT one.
        audio = decode_audio(recording, RATE)
        n = round(RATE * WINDOW_S)
        levels = window_levels(audio, WINDOW_S)
        loud = [rms > 32768 * 10 ** (-45 / 20) for rms, _ in levels]
        toned = [loud[i] and tone_share(audio.samples[i * n:(i + 1) * n]) > 0.8 for i in range(len(levels))]
        tone_windows = [i for i, t in enumerate(toned) if t]
        assert tone_windows, "no alert tone in the recording"
        first, last = tone_windows[0], tone_windows[-1]
        tone_start, tone_end = first * WINDOW_S, (last + 1) * WINDOW_S
        assert abs((tone_end - tone_start) - TONE_S) < 0.1, (tone_start, tone_end)
        assert sum(toned[first:last + 1]) >= 0.9 * (last + 1 - first), "the tone was interrupted"
        # (the window where the tone begins holds silence too, so it may not count as tone)
        before = [(round(i * WINDOW_S, 2), round(20 * math.log10(levels[i][0] / 32768), 1))
                  for i in range(max(0, first - 1)) if loud[i]]
        assert not before, f"something played before the alert (tone from {first * WINDOW_S:.2f} s): {before}"
        speech_start = fine_speech_start(audio, tone_end)
        lead, donation_length = espeak_lead_and_length(f"Alice donated 5 dollars: {DONATION_TEXT}", tmp_path)
        gap = speech_start - tone_end - lead
        log.info("%s: tone %.3f-%.3f s, speech from %.3f s: gap between the clips %.0f ms "
                 "(espeak lead %.0f ms)", mode, tone_start, tone_end, speech_start, gap * 1000, lead * 1000)
        assert gap < 0.2, f"{gap * 1000:.0f} ms of silence between the alert and its speech"
        assert not any(toned[last + 1:]), "the tone played again"

        segments = sound_segments(audio)
        spans = [round(b.t - a.t, 3) for a, b in zip(media[::2], media[1::2], strict=True)]
        log.info("%s: segments %s; media spans %s", mode, segments, spans)
        assert len(segments) == 2, segments  # alert + donation speech, then the URGENT speech
        assert abs(segments[0].start - tone_start) < WINDOW_S * 2
        # Each speech once, and nothing else in its segment: another clip would add seconds
        # (a loaded machine has stretched a clip in OBS's recording by 0.3 s once).
        _, urgent_length = espeak_lead_and_length(URGENT_TEXT, tmp_path)
        spoken = segments[0].end - speech_start
        assert abs(spoken - donation_length) < 0.5, (segments, donation_length, spans)
        assert abs(segments[1].duration - urgent_length) < 0.5, (segments, urgent_length, spans)
