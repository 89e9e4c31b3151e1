"""The OBS sink's decisions, with a fake obspython (tests/obs_fake.py), a hand-cranked pump
and a fake clock.

Each ``step`` is one OBS frame: the pump's timer callback (tick hooks, queued jobs),
then what OBS does after it (deferred source updates and media actions). Time moves only
when a test calls ``later``.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from obs_fake import FakeClock, FakeItem, FakeObs, FakeSource

from tts_core.domain.audio import Clip, silent_wav
from tts_core.domain.message import MessagePriority, TTSMessage
from tts_core.obs.clip_state import ClipTimeouts
from tts_core.obs.script import sink as sink_module
from tts_core.obs.script.api import TTS_OUTPUT_CHANNEL, ObsApi
from tts_core.obs.script.media_source import CHECK_SETUP_SECONDS, MediaSourceKeeper
from tts_core.obs.script.pump import Job, Pump
from tts_core.obs.script.sink import ObsMediaSink
from tts_core.sinks.base import Cue, SinkUnavailable

MEDIA = "TTS Audio"
WAIT_SECONDS = 5.0  # only ever waited this long when a test fails


class WatchedPump(Pump):
    """A Pump that lets the test wait until another thread has posted a job."""

    def __init__(self) -> None:
        super().__init__()
        self.posts = 0
        self._posted = threading.Condition()

    def post(self, job: Job) -> None:
        super().post(job)
        with self._posted:
            self.posts += 1
            self._posted.notify_all()

    def wait_posts(self, count: int) -> bool:
        with self._posted:
            return self._posted.wait_for(lambda: self.posts >= count, WAIT_SECONDS)


class Rig:
    def __init__(self, tmp_path: Path, loaded: bool = True, saved_state: str | None = None,
                 check_every_s: float = CHECK_SETUP_SECONDS, **options: object) -> None:
        self.tmp_path = tmp_path
        self.obs = FakeObs(loaded)
        self.pump = WatchedPump()
        self.clock = FakeClock()
        api = ObsApi(self.obs)
        self.keeper = MediaSourceKeeper(api, MEDIA, saved_state, check_every_s)
        self.sink = ObsMediaSink(api, self.pump, self.keeper, clock=self.clock,
                                 **options)  # type: ignore[arg-type]
        if loaded:
            self.keeper.frontend_ready()

    def step(self, frames: int = 1) -> None:
        for _ in range(frames):
            self.pump.run()
            self.obs.frame()

    def later(self, seconds: float) -> None:
        """Time passes (no frame runs)."""
        self.clock.advance(seconds)

    def clip(self, name: str, ms: int = 1000, suffix: str = ".wav") -> Clip:
        path = self.tmp_path / f"{name}{suffix}"
        data = silent_wav(ms, 8000)
        path.write_bytes(data)
        return Clip(data, "wav", ms, path)

    def source(self) -> FakeSource:
        return self.obs.sources[MEDIA]

    def end(self, name: str = MEDIA) -> None:
        """The clip on ``name`` plays (a frame sees it playing) and ends (the next one sees that)."""
        self.step()
        self.obs.finish(name)
        self.step()


class Play:
    """``sink.play`` on its own thread, as the manager's player calls it; returns once
    that thread has handed the clip to the pump."""

    def __init__(self, rig: Rig, clip: Clip, username: str | None = None,
                 message: TTSMessage | None = None) -> None:
        self.stop = threading.Event()
        self.done = threading.Event()
        self.error: BaseException | None = None
        stem = clip.path.stem if clip.path else ""
        playing = message or TTSMessage(f"text of {stem}", MessagePriority.NORMAL, 1, username=username)
        posted = rig.pump.posts + 1
        self.thread = threading.Thread(target=self._run, args=(rig.sink, clip, playing), daemon=True)
        self.thread.start()
        if message is None:  # (a cued clip the sink started posts nothing)
            assert rig.pump.wait_posts(posted) or self.done.is_set()

    def _run(self, sink: ObsMediaSink, clip: Clip, message: TTSMessage) -> None:
        try:
            sink.play(clip, message, self.stop)
        except BaseException as exc:  # noqa: BLE001 - checked by the test
            self.error = exc
        finally:
            self.done.set()

    def finished(self, timeout: float = WAIT_SECONDS) -> bool:
        return self.done.wait(timeout)


def test_clip_starts_on_the_next_frame_and_play_returns_when_obs_says_ended(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    a = rig.clip("a")
    play = Play(rig, a)
    rig.step()
    assert rig.source().plays == [str(a.path)]
    assert rig.obs.channels[TTS_OUTPUT_CHANNEL].name == MEDIA  # in the mix whatever scene is live
    rig.step(3)
    assert not play.done.is_set()
    rig.end()
    assert play.finished() and play.error is None
    rig.keeper.forget()
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
    rig.end()
    assert second.finished() and second.error is None


def test_a_stopped_clip_whose_end_never_comes_frees_the_source_after_a_grace(tmp_path: Path) -> None:
    rig = Rig(tmp_path, timeouts=ClipTimeouts(stop_grace_s=0.05))
    first = Play(rig, rig.clip("a"))
    rig.step(2)
    first.stop.set()
    assert first.finished()
    Play(rig, rig.clip("b"))
    rig.step(2)
    rig.later(0.06)
    rig.step(2)
    rig.later(0.06)
    rig.step(2)
    assert len(rig.source().plays) == 2


def test_waits_for_obs_to_finish_loading_then_creates_the_source(tmp_path: Path) -> None:
    rig = Rig(tmp_path, loaded=False)
    assert rig.sink.unavailable_reason() == "OBS is still loading the scene collection"  # the player waits
    play = Play(rig, rig.clip("a"))
    rig.step(5)
    assert MEDIA not in rig.obs.sources, "created before the scene collection's sources exist"
    rig.obs.current_scene = FakeSource("Scene", "scene")
    rig.keeper.frontend_ready()  # OBS_FRONTEND_EVENT_FINISHED_LOADING
    assert rig.sink.unavailable_reason() is None
    rig.step()
    assert rig.source().plays
    rig.end()
    assert play.finished()


def test_recreates_its_source_with_the_saved_mixer_state(tmp_path: Path) -> None:
    saved = json.dumps({"name": MEDIA, "id": "ffmpeg_source", "settings": {}, "volume": 0.5})
    rig = Rig(tmp_path, saved_state=saved)
    rig.step()
    assert ("load", MEDIA) in rig.obs.log and rig.source().volume == 0.5
    assert json.loads(rig.keeper.save_state() or "{}")["volume"] == 0.5


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
    rig.end()
    assert play.finished() and caption.settings["text"] == ""


def test_a_clip_obs_cannot_play_is_set_once_more_then_fails_saying_why(tmp_path: Path) -> None:
    rig = Rig(tmp_path, timeouts=ClipTimeouts(start_s=0.05))
    play = Play(rig, rig.clip("broken", suffix=".bad"))
    rig.step(2)
    rig.later(0.06)
    rig.step(2)
    assert len(rig.source().plays) == 2, "not set once more"
    rig.later(0.06)
    rig.step(2)
    assert play.finished() and isinstance(play.error, RuntimeError)
    assert "media source 'TTS Audio' did not start the clip" in str(play.error)
    assert "could not open the clip file" in str(play.error)
    assert rig.sink.failures_in_a_row == 1 and rig.sink.last_failure == str(play.error)


def test_a_clip_it_did_not_start_is_stopped_before_its_own_starts(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.step()  # set up: the source exists, on the channel
    foreign = rig.source()
    foreign.settings["local_file"], foreign.state, foreign.duration_ms = "/old.wav", "playing", 5000
    play = Play(rig, rig.clip("a"))  # e.g. the clip an earlier load left playing
    rig.step(2)
    assert foreign.plays == [] and ("stop", MEDIA) in rig.obs.log
    rig.end()
    assert foreign.plays == [str(tmp_path / "a.wav")]
    rig.end()
    assert play.finished() and play.error is None


def test_the_frame_that_sees_the_end_starts_the_next_clip(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sink_module, "HANDOFF_WAIT_SECONDS", 1.0)  # returns as soon as the player posts
    rig = Rig(tmp_path, has_next=lambda: True)
    a, b = rig.clip("a"), rig.clip("b")
    done = threading.Event()

    def player() -> None:  # like tts_core.runtime.player: the next play() right after this one
        rig.sink.play(a, TTSMessage("a", MessagePriority.NORMAL, 1), threading.Event())
        rig.sink.play(b, TTSMessage("b", MessagePriority.NORMAL, 2), threading.Event())
        done.set()

    threading.Thread(target=player, daemon=True).start()
    assert rig.pump.wait_posts(1)
    rig.step(2)
    rig.end()  # one frame: a ends, b starts
    assert rig.source().plays == [str(a.path), str(b.path)]
    assert rig.sink.handoffs and rig.sink.handoffs[-1] < 0.5


class CuePlayer:
    """The player's side of a cue: ``next_up`` hands over ``clip`` (once) as the next message."""

    def __init__(self, rig: Rig, clip: Clip) -> None:
        self.cue = Cue(clip, TTSMessage("text of next", MessagePriority.NORMAL, 2), threading.Event())
        self.asked = threading.Event()
        rig.sink.next_up = self.next_up

    def next_up(self) -> Cue | None:
        if self.asked.is_set():
            return None
        self.asked.set()
        return self.cue


def test_the_next_clip_is_cued_before_the_end_and_starts_on_the_frame_that_sees_the_end(
        tmp_path: Path) -> None:
    rig = Rig(tmp_path)  # has_next says nothing is ready: no hand-off wait can help here
    a, b = rig.clip("a", ms=1000), rig.clip("b")
    player = CuePlayer(rig, b)
    first = Play(rig, a)
    rig.step(2)  # a is posted, then seen playing
    rig.later(1.0 - 2 * sink_module.CUE_AHEAD_SECONDS)
    rig.step()
    assert not player.asked.is_set()  # too early to ask
    rig.later(sink_module.CUE_AHEAD_SECONDS + 0.01)
    posts = rig.pump.posts
    rig.step()
    assert player.asked.wait(WAIT_SECONDS) and rig.pump.wait_posts(posts + 1)  # the cue is posted
    rig.step(2)
    assert not first.done.is_set()  # play() returns at the end, not before
    assert rig.source().plays == [str(a.path)]  # a is not cut
    rig.obs.finish(MEDIA)
    rig.step()  # the frame that sees a's end sets b
    assert rig.source().plays == [str(a.path), str(b.path)]
    assert player.cue.decision.started and not rig.sink.handoffs  # no waiting on OBS's graphics thread
    assert first.finished() and first.error is None
    second = Play(rig, b, message=player.cue.message)  # the player records a's end, then plays b: adopted
    rig.end()
    assert second.finished() and second.error is None
    assert rig.source().plays == [str(a.path), str(b.path)]  # b was set once


def test_a_skip_before_the_end_cuts_only_the_clip_playing_and_the_cued_one_follows(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    a, b = rig.clip("a", ms=1000), rig.clip("b")
    player = CuePlayer(rig, b)
    first = Play(rig, a)
    rig.step(2)
    rig.later(1.0 - sink_module.CUE_AHEAD_SECONDS / 2)
    posts = rig.pump.posts
    rig.step()
    assert player.asked.wait(WAIT_SECONDS) and rig.pump.wait_posts(posts + 1)
    rig.step()  # the cue waits beside a
    first.stop.set()  # Skip in a's last frames
    assert first.finished()
    rig.step(2)  # the stop is carried out; OBS says "stopped", then "ended"
    assert ("stop", MEDIA) in rig.obs.log and rig.source().plays == [str(a.path)]
    rig.obs.finish(MEDIA)
    rig.step()  # the frame that sees a's end starts b
    assert rig.source().plays == [str(a.path), str(b.path)] and rig.source().state == "playing"
    second = Play(rig, b, message=player.cue.message)
    rig.step(2)
    assert not second.done.is_set()  # b is not cut: it plays to its end
    rig.obs.finish(MEDIA)
    rig.step()
    assert second.finished() and second.error is None


def test_a_withdrawn_cue_never_starts(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    a, b = rig.clip("a", ms=1000), rig.clip("b")
    player = CuePlayer(rig, b)
    first = Play(rig, a)
    rig.step(2)
    rig.later(1.0)
    posts = rig.pump.posts
    rig.step()
    assert player.asked.wait(WAIT_SECONDS) and rig.pump.wait_posts(posts + 1)
    rig.step()
    assert player.cue.decision.withdraw()  # e.g. the streamer pauses the queue in a's last frames
    rig.obs.finish(MEDIA)
    rig.step(2)
    assert first.finished() and rig.source().plays == [str(a.path)]  # b did not start
    assert not player.cue.decision.claim()


def test_a_clip_paused_in_obs_is_not_released_early(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    play = Play(rig, rig.clip("a", ms=1000))
    rig.step(2)
    rig.obs.finish(MEDIA, "paused")  # the streamer pauses it in OBS
    rig.later(5.0)
    rig.step(2)
    assert not play.done.is_set()
    rig.obs.finish(MEDIA, "playing")
    rig.step()
    rig.later(0.5)
    rig.step()
    assert not play.done.is_set()  # its length is counted without the pause
    rig.later(0.4)
    rig.step()
    assert play.finished()


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


# -- the streamer's own media source, in every setup ------------------------------------------

def own_source(rig: Rig, **settings: object) -> FakeSource:
    src = rig.obs.add(MEDIA, **settings)
    src.state = "playing"  # OBS 29: an active ffmpeg_source with no file reports PLAYING, duration 0
    return src


def test_playing_with_no_file_is_idle_and_the_clip_plays(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    own = own_source(rig, local_file="")
    rig.obs.current_scene.items.append(FakeItem(own))  # type: ignore[union-attr]
    play = Play(rig, rig.clip("a"))
    rig.step(2)
    assert own.plays == [str(tmp_path / "a.wav")]
    assert not [e for e in rig.obs.log if e[0] == "stop"], "took 'PLAYING, no file' for a clip"
    rig.end()
    assert play.finished() and play.error is None


@pytest.mark.parametrize("where", ["live scene", "other scene", "nested scene", "group", "hidden"])
def test_own_source_in_any_scene_is_on_the_channel_and_hidden_there(tmp_path: Path, where: str) -> None:
    rig = Rig(tmp_path)
    own = own_source(rig)
    item = FakeItem(own, visible=where != "hidden")
    live = rig.obs.current_scene
    assert live is not None
    if where in ("live scene", "hidden"):
        live.items.append(item)
    elif where == "other scene":
        rig.obs.add_scene("Other", item)
    elif where == "nested scene":
        nested = rig.obs.add_scene("Nested", item)
        live.items.append(FakeItem(nested))
    else:
        live.items.append(FakeItem(rig.obs.add_scene("Group 1", item, kind="group")))
    rig.keeper.scenes_changed()  # OBS's UI thread reads the Scenes list
    play = Play(rig, rig.clip("a"))
    rig.step(2)
    assert rig.obs.channels[TTS_OUTPUT_CHANNEL] is own and not item.visible
    assert own.plays == [str(tmp_path / "a.wav")]
    notes = [note for note in rig.keeper.setup_notes() if "hid it there" in note]
    if where == "hidden":
        assert not notes
    else:
        assert len(notes) == 1 and "heard twice" in notes[0], rig.keeper.setup_notes()
    rig.end()
    assert play.finished() and play.error is None


def test_shown_again_later_it_is_hidden_again(tmp_path: Path) -> None:
    rig = Rig(tmp_path, check_every_s=0.0)
    own = own_source(rig)
    item = FakeItem(own, visible=False)
    rig.obs.current_scene.items.append(item)  # type: ignore[union-attr]
    rig.step()
    item.visible = True  # the streamer clicks the eye
    rig.step()
    assert not item.visible


def test_loop_restart_close_and_a_playing_leftover_are_turned_off_with_a_note(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    own = own_source(rig, local_file="/music/old.mp3", looping=True, restart_on_activate=True,
                     close_when_inactive=True, is_local_file=True)
    own.duration_ms = 180_000  # the leftover loops
    rig.step(2)
    assert own.state == "stopped", "a playing file is stopped (OBS then ends it), never replaced"
    assert own.plays == [], "an update restarts the file: none while it plays"
    rig.obs.finish(MEDIA)
    rig.later(CHECK_SETUP_SECONDS)  # the next look at the setup
    rig.step()
    assert own.settings["looping"] is False and own.settings["restart_on_activate"] is False
    assert own.settings["close_when_inactive"] is False and own.settings["local_file"] == ""
    notes = " ".join(rig.keeper.setup_notes())
    for words in ("turned off 'Loop'", "'Restart playback when source becomes active'",
                  "'Close file when inactive'", "stopped the file '/music/old.mp3' it was playing"):
        assert words in notes, notes
    play = Play(rig, rig.clip("a"))
    rig.step(2)
    assert own.plays == [str(tmp_path / "a.wav")]
    rig.end()
    assert play.finished() and play.error is None


def test_a_leftover_file_that_does_not_play_is_cleared_quietly_at_setup(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    own = rig.obs.add(MEDIA, local_file="/tmp/clips/from-the-last-load.wav", restart_on_activate=False)
    own.state = "ended"
    rig.step(2)
    assert own.settings["local_file"] == "" and not rig.keeper.setup_notes()


# -- the media source deleted or renamed mid-queue ---------------------------------------------

def test_deleted_mid_clip_the_clip_waits_then_plays_again_on_the_recreated_source(
        tmp_path: Path) -> None:
    rig = Rig(tmp_path, check_every_s=0.0)
    own = own_source(rig)
    own.volume = 0.5
    rig.obs.current_scene.items.append(FakeItem(own))  # type: ignore[union-attr]
    play = Play(rig, rig.clip("a"))
    rig.step(2)
    assert own.plays
    rig.obs.remove(MEDIA)  # still held by the script's channel
    rig.step()
    assert play.finished() and isinstance(play.error, SinkUnavailable), play.error
    assert "deleted in OBS" in str(play.error)
    rig.step(2)  # the deleted source is released, then re-created
    assert rig.sink.unavailable_reason() is None
    again = rig.source()
    assert again is not own and again.volume == 0.5, "not re-created with its mixer state"
    assert rig.obs.channels[TTS_OUTPUT_CHANNEL] is again
    assert any("re-created it" in note for note in rig.keeper.setup_notes())
    replay = Play(rig, rig.clip("a"))
    rig.step(2)
    assert again.plays == [str(tmp_path / "a.wav")]
    rig.end()
    assert replay.finished() and replay.error is None


def test_deleted_while_idle_it_is_recreated_before_the_next_clip(
        tmp_path: Path) -> None:
    rig = Rig(tmp_path, check_every_s=0.0)
    rig.step()
    first = rig.source()
    rig.obs.remove(MEDIA)
    rig.step(3)
    assert rig.source() is not first and rig.sink.unavailable_reason() is None
    play = Play(rig, rig.clip("a"))
    rig.step(2)
    rig.end()
    assert play.finished() and play.error is None


def test_renamed_the_queue_waits_saying_so_until_the_new_name_is_picked(
        tmp_path: Path) -> None:
    rig = Rig(tmp_path, check_every_s=0.0)
    rig.step()
    rig.obs.rename(MEDIA, "Voice")
    rig.step()
    reason = rig.sink.unavailable_reason()
    assert reason is not None and "renamed to 'Voice'" in reason and "script's properties" in reason
    with pytest.raises(SinkUnavailable, match="renamed"):
        rig.sink.play(rig.clip("a"), TTSMessage("a", MessagePriority.NORMAL, 1), threading.Event())
    assert MEDIA not in rig.obs.sources, "created a second source instead of waiting"
    rig.sink.set_sources("Voice", "")  # the streamer picks it
    rig.step()
    assert rig.sink.unavailable_reason() is None
    play = Play(rig, rig.clip("a"))
    rig.step(2)
    assert rig.obs.sources["Voice"].plays
    rig.end("Voice")
    assert play.finished() and play.error is None
