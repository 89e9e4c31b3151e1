"""The media source never keeps a temporary clip path for OBS to save (no "Missing Files")."""

from __future__ import annotations

from pathlib import Path

from obs_fake import FakeObs

from tts_core.obs.script.api import ObsApi
from tts_core.obs.script.media_source import MediaSourceKeeper, SavedClipFile

MEDIA = "TTS Audio"


def keeper_with_clip(state: str) -> tuple[FakeObs, MediaSourceKeeper]:
    obs = FakeObs()
    keeper = MediaSourceKeeper(ObsApi(obs), MEDIA)
    keeper.frontend_ready()
    keeper.set_up_if_asked(busy=False)
    keeper.play_file("/tmp/obs-tts-clips-x/a.wav")
    obs.frame()  # OBS applies the update on its next frame
    source = obs.sources[MEDIA]
    source.state, source.duration_ms = state, 1000
    return obs, keeper


def test_an_ended_clip_is_cleared_a_playing_one_only_when_forced() -> None:
    obs, keeper = keeper_with_clip("playing")
    assert keeper.clear_clip() is None and obs.sources[MEDIA].settings["local_file"].endswith("a.wav")
    assert keeper.clear_clip(force=True) == "/tmp/obs-tts-clips-x/a.wav"
    source = obs.sources[MEDIA]
    assert source.settings["local_file"] == "", "still saved with the path"
    assert source.pending_update is None, "the playing clip was re-opened"
    obs, keeper = keeper_with_clip("stopped")  # skipped: OBS's "ended" comes in a moment, then it is cleared
    assert keeper.clear_clip() is None
    obs, keeper = keeper_with_clip("ended")
    assert keeper.clear_clip() == "/tmp/obs-tts-clips-x/a.wav"
    assert keeper.clear_clip() is None  # nothing of ours left


def test_a_file_someone_else_set_is_not_ours_to_clear() -> None:
    obs, keeper = keeper_with_clip("ended")
    obs.sources[MEDIA].settings["local_file"] = "/streamer/song.mp3"
    assert keeper.clear_clip(force=True) is None
    assert obs.sources[MEDIA].settings["local_file"] == "/streamer/song.mp3"


def test_a_saved_clip_file_is_written_back_after_its_folder_was_deleted(tmp_path: Path) -> None:
    clip = tmp_path / "obs-tts-clips-x" / "a.wav"
    clip.parent.mkdir()
    clip.write_bytes(b"RIFF....WAVE")
    kept = SavedClipFile(str(clip))
    clip.unlink()
    clip.parent.rmdir()  # the queue removed its clip folder at stop
    kept.restore()
    assert clip.read_bytes() == b"RIFF....WAVE"
