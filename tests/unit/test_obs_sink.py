"""The OBS sink's decisions, with a fake obspython (tests/obs_fake.py) and a hand-cranked pump.

Each ``step`` is one OBS frame: the pump's timer callback (tick hooks, queued jobs),
then what OBS does after it (deferred source updates and media actions).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from obs_fake import FakeObs, FakeSource

from tts_core.audio import Clip, silent_wav
from tts_core.message import MessagePriority, TTSMessage
from tts_core.obs import sink as sink_module
from tts_core.obs.api import TTS_OUTPUT_CHANNEL, ObsApi
from tts_core.obs.pump import Pump
from tts_core.obs.sink import ObsMediaSink

MEDIA = "TTS Audio"


class Rig:
    def __init__(self, tmp_path: Path, loaded: bool = True, **options: object) -> None:
        self.tmp_path = tmp_path
        self.obs = FakeObs(loaded)
        self.pump = Pump()
        self.sink = ObsMediaSink(ObsApi(self.obs), self.pump, MEDIA, **options)  # type: ignore[arg-type]
        if loaded:
            self.sink.frontend_ready()

    def step(self, frames: int = 1) -> None:
        for _ in range(frames):
            self.pump.run()
            self.obs.frame()

    def clip(self, name: str, ms: int = 1000, suffix: str = ".wav") -> Clip:
        path = self.tmp_path / f"{name}{suffix}"
        data = silent_wav(ms, 8000)
        path.write_bytes(data)
        return Clip(data, "wav", ms, path)

    def source(self) -> FakeSource:
        return self.obs.sources[MEDIA]


class Play:
    """``sink.play`` on its own thread, as the manager's player calls it."""

    def __init__(self, rig: Rig, clip: Clip, username: str | None = None) -> None:
        self.stop = threading.Event()
        self.done = threading.Event()
        self.error: BaseException | None = None
        stem = clip.path.stem if clip.path else ""
        message = TTSMessage(f"text of {stem}", MessagePriority.NORMAL, 1, username=username)
        self.thread = threading.Thread(target=self._run, args=(rig.sink, clip, message), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 2
        while rig.pump.pending == 0 and time.monotonic() < deadline:
            time.sleep(0.001)

    def _run(self, sink: ObsMediaSink, clip: Clip, message: TTSMessage) -> None:
        try:
            sink.play(clip, message, self.stop)
        except BaseException as exc:  # noqa: BLE001 - checked by the test
            self.error = exc
        finally:
            self.done.set()

    def finished(self, timeout: float = 1.0) -> bool:
        return self.done.wait(timeout)


def test_clip_starts_on_the_next_frame_and_play_returns_when_obs_says_ended(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    a = rig.clip("a")
    play = Play(rig, a)
    rig.step()
    assert rig.source().plays == [str(a.path)]
    assert rig.obs.channels[TTS_OUTPUT_CHANNEL].name == MEDIA  # in the mix whatever scene is live
    rig.step(3)
    assert not play.finished(0.05)
    rig.obs.finish(MEDIA)
    rig.step()
    assert play.finished() and play.error is None
    rig.sink.forget()
    assert rig.obs.outstanding_refs() == 0


def test_skip_cuts_the_clip_and_the_next_waits_until_obs_has_ended_it(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    a, b = rig.clip("a"), rig.clip("b")
    first = Play(rig, a)
    rig.step(2)
    first.stop.set()  # the player's skip
    assert first.finished()
    second = Play(rig, b)
    rig.step()  # the stop reaches OBS; b waits
    assert rig.source().state == "stopped"
    rig.step(3)
    assert rig.source().plays == [str(a.path)], "started while the skipped clip was still stopping"
    rig.obs.finish(MEDIA)  # OBS's media thread reports the end of the stopped clip
    rig.step()
    assert rig.source().plays == [str(a.path), str(b.path)]
    rig.obs.finish(MEDIA)
    rig.step()
    assert second.finished() and second.error is None


def test_a_stopped_clip_whose_end_never_comes_frees_the_source_after_a_grace(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sink_module, "STOPPED_GRACE_SECONDS", 0.05)
    rig = Rig(tmp_path)
    first = Play(rig, rig.clip("a"))
    rig.step(2)
    first.stop.set()
    assert first.finished()
    Play(rig, rig.clip("b"))
    rig.step(2)
    time.sleep(0.06)
    rig.step(2)
    assert len(rig.source().plays) == 2


def test_waits_for_obs_to_finish_loading_then_creates_the_source(tmp_path: Path) -> None:
    rig = Rig(tmp_path, loaded=False)
    play = Play(rig, rig.clip("a"))
    rig.step(5)
    assert MEDIA not in rig.obs.sources, "created before the scene collection's sources exist"
    rig.obs.current_scene = FakeSource("Scene", "scene")
    rig.sink.frontend_ready()  # OBS_FRONTEND_EVENT_FINISHED_LOADING
    rig.step()
    assert rig.source().plays
    rig.obs.finish(MEDIA)
    rig.step()
    assert play.finished()


def test_recreates_its_source_with_the_saved_mixer_state(tmp_path: Path) -> None:
    saved = json.dumps({"name": MEDIA, "id": "ffmpeg_source", "settings": {}, "volume": 0.5})
    rig = Rig(tmp_path, saved_state=saved)
    rig.step()
    assert ("load", MEDIA) in rig.obs.log and rig.source().volume == 0.5
    assert json.loads(rig.sink.save_state() or "{}")["volume"] == 0.5


def test_an_existing_source_is_used_as_is(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.obs.add(MEDIA, volume_hint=1)
    Play(rig, rig.clip("a"))
    rig.step()
    assert not [entry for entry in rig.obs.log if entry[0] in ("create", "load")]
    assert rig.source().plays


def test_caption_shows_who_and_what_while_the_clip_plays(tmp_path: Path) -> None:
    rig = Rig(tmp_path, caption_source="Caption")
    caption = rig.obs.add("Caption", "text_ft2_source_v2", text="")
    play = Play(rig, rig.clip("a"), username="JohnDoe")
    rig.step()
    assert caption.settings["text"] == "JohnDoe: text of a"
    rig.obs.finish(MEDIA)
    rig.step()
    assert play.finished() and caption.settings["text"] == ""


def test_a_clip_obs_cannot_play_fails(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    play = Play(rig, rig.clip("broken", suffix=".bad"))
    rig.step(2)
    assert play.finished() and isinstance(play.error, RuntimeError)
    assert "did not play" in str(play.error)


def test_waits_for_a_clip_it_did_not_start_before_starting_its_own(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    leftover = rig.obs.add(MEDIA, local_file="/old.wav")
    leftover.state = "playing"  # what the script's previous load left (Reload)
    play = Play(rig, rig.clip("a"))
    rig.step(2)
    assert leftover.plays == [] and ("stop", MEDIA) in rig.obs.log
    rig.obs.finish(MEDIA)
    rig.step()
    assert leftover.plays == [str(tmp_path / "a.wav")]
    rig.obs.finish(MEDIA)
    rig.step()
    assert play.finished()


def test_the_frame_that_sees_the_end_starts_the_next_clip(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sink_module, "HANDOFF_WAIT_SECONDS", 1.0)  # returns as soon as the player posts
    rig = Rig(tmp_path)
    rig.sink.has_next = lambda: True
    a, b = rig.clip("a"), rig.clip("b")
    done = threading.Event()

    def player() -> None:  # like tts_core.player: the next play() right after this one
        rig.sink.play(a, TTSMessage("a", MessagePriority.NORMAL, 1), threading.Event())
        rig.sink.play(b, TTSMessage("b", MessagePriority.NORMAL, 2), threading.Event())
        done.set()

    threading.Thread(target=player, daemon=True).start()
    time.sleep(0.05)
    rig.step(2)
    rig.obs.finish(MEDIA)
    rig.step()  # one frame: a ends, b starts
    assert rig.source().plays == [str(a.path), str(b.path)]
    assert rig.sink.handoffs and rig.sink.handoffs[-1] < 0.5


def test_no_waiting_on_the_graphics_thread_when_nothing_is_next(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    play = Play(rig, rig.clip("a"))
    rig.step(2)
    rig.obs.finish(MEDIA)
    started = time.perf_counter()
    rig.step()
    assert time.perf_counter() - started < 0.001 * 50  # generous on a loaded machine; no 2 ms wait
    assert play.finished() and not rig.sink.handoffs


def test_shutdown_returns_at_once_and_the_cut_clip_is_stopped_at_unload(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    play = Play(rig, rig.clip("a"))
    rig.step(2)
    rig.sink.detach()  # script_unload: the timer is gone
    play.stop.set()  # manager.stop()
    assert play.finished()
    rig.pump.run_all()  # script_unload runs what is left on OBS's UI thread
    assert ("stop", MEDIA) in rig.obs.log


def test_media_source_can_change_between_clips(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    other = rig.obs.add("Other Audio")
    rig.sink.set_sources("Other Audio", "")
    rig.step()
    assert rig.obs.channels[TTS_OUTPUT_CHANNEL] is other
    Play(rig, rig.clip("a"))
    rig.step()
    assert other.plays and MEDIA not in rig.obs.sources
