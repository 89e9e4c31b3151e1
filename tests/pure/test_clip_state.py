"""Every phase and transition of one clip on a media source (tts_core/obs/clip_state.py)."""

from __future__ import annotations

import pytest

from tts_core.obs.clip_state import (
    START_ATTEMPTS,
    TIMEOUTS,
    ClipOnSource,
    ClipTimeouts,
    Finish,
    Phase,
    Post,
    SourceStatus,
    Stop,
)

FILE = "/tmp/clips/m1.wav"
SOURCE = "TTS Audio"

IDLE_EMPTY = SourceStatus("playing", file="", duration_ms=0, active=True)  # OBS 29: active, no file
ENDED = SourceStatus("ended", file="/tmp/clips/m0.wav", duration_ms=1500, active=True)
OURS_OPENING = SourceStatus("playing", file=FILE, duration_ms=0, active=True)
OURS = SourceStatus("playing", file=FILE, duration_ms=2500, active=True)
OURS_ENDED = SourceStatus("ended", file=FILE, duration_ms=2500, active=True)
OURS_STOPPED = SourceStatus("stopped", file=FILE, duration_ms=2500, active=True)
FOREIGN = SourceStatus("playing", file="/home/me/old song.mp3", duration_ms=180_000, active=True)
MISSING = SourceStatus(None)


def clip(**timeouts: float) -> ClipOnSource:
    return ClipOnSource(SOURCE, FILE, 2.5, ClipTimeouts(**timeouts) if timeouts else TIMEOUTS)


def posted(at: float = 0.0) -> ClipOnSource:
    c = clip()
    assert c.observe(ENDED, at) == [Post(FILE, 1)]
    return c


def started(at: float = 0.1) -> ClipOnSource:
    c = posted()
    assert c.observe(OURS, at) == []
    assert c.phase is Phase.STARTED
    return c


# -- NEW: the first look decides -------------------------------------------------------------

@pytest.mark.parametrize("status", [
    ENDED,
    SourceStatus("none"),
    SourceStatus("error", file="/gone.wav"),
    IDLE_EMPTY,  # PLAYING with no file is idle, NOT a foreign clip
    SourceStatus("playing", file=None, duration_ms=0),  # file not known (obs-websocket): idle
    SourceStatus("ended", file=FILE, duration_ms=2500),  # Replay: the same file again
], ids=["ended", "none", "error", "playing-no-file", "playing-file-unknown", "replay"])
def test_an_idle_source_gets_the_clip_at_once(status: SourceStatus) -> None:
    c = clip()
    assert c.observe(status, 0.0) == [Post(FILE, 1)]
    assert c.phase is Phase.POSTED and c.attempts == 1


def test_playing_with_no_file_never_counts_as_our_clip_playing() -> None:
    c = posted()
    for t in (0.1, 1.0, 4.9):
        assert c.observe(IDLE_EMPTY, t) == []
        assert c.phase is Phase.POSTED
    assert c.observe(IDLE_EMPTY, 5.0) == [Post(FILE, 2)]  # not started within start_s: once more


def test_a_foreign_clip_is_stopped_then_ours_posted_once_it_is_gone() -> None:
    c = clip()
    assert c.observe(FOREIGN, 0.0) == [Stop()]
    assert c.phase is Phase.CLEARING
    assert c.observe(FOREIGN, 0.2) == []
    assert c.observe(SourceStatus("stopped", file=FOREIGN.file, duration_ms=180_000), 0.3) == []
    assert c.observe(SourceStatus("ended", file=FOREIGN.file, duration_ms=180_000), 0.4) == [Post(FILE, 1)]


@pytest.mark.parametrize("state", ["opening", "buffering", "paused"])
def test_a_foreign_clip_in_any_busy_state_is_stopped(state: str) -> None:
    c = clip()
    assert c.observe(SourceStatus(state, file="/x.mp3", duration_ms=5000), 0.0) == [Stop()]


def test_a_foreign_clip_being_opened_playing_with_no_duration_yet_is_stopped_too() -> None:
    c = clip()  # e.g. the clip an earlier load set a frame before a Reload
    opening = SourceStatus("playing", file="/tmp/clips/m0.wav", duration_ms=0, active=True)
    assert c.observe(opening, 0.0) == [Stop()]
    assert c.phase is Phase.CLEARING


def test_a_foreign_clip_that_will_not_stop_is_replaced_after_clear_s() -> None:
    c = clip()
    c.observe(FOREIGN, 0.0)
    assert c.observe(FOREIGN, TIMEOUTS.clear_s - 0.01) == []
    assert c.observe(FOREIGN, TIMEOUTS.clear_s) == [Post(FILE, 1)]


def test_a_stop_on_its_way_is_given_stop_grace_before_posting() -> None:
    c = clip()
    stopped = SourceStatus("stopped", file="/tmp/clips/m0.wav", duration_ms=1500)
    assert c.observe(stopped, 0.0) == []
    assert c.phase is Phase.NEW
    assert c.observe(stopped, TIMEOUTS.stop_grace_s / 2) == []
    assert c.observe(ENDED, TIMEOUTS.stop_grace_s * 0.75) == [Post(FILE, 1)]


def test_a_stop_that_never_ends_is_waited_for_only_stop_grace() -> None:
    c = clip()
    stopped = SourceStatus("stopped", duration_ms=1500)
    c.observe(stopped, 0.0)
    assert c.observe(stopped, TIMEOUTS.stop_grace_s) == [Post(FILE, 1)]


def test_no_source_is_unavailable_not_a_failure() -> None:
    c = clip()
    actions = c.observe(MISSING, 0.0)
    assert actions == [Finish(Phase.UNAVAILABLE, c.error)]
    assert c.done and "'TTS Audio' does not exist" in (c.error or "")


# -- POSTED -> STARTED -----------------------------------------------------------------------

def test_our_file_playing_with_a_duration_is_started() -> None:
    c = posted()
    assert c.observe(OURS_OPENING, 0.02) == []  # OBS has not opened it yet
    assert c.phase is Phase.POSTED
    assert c.observe(OURS, 0.05) == []
    assert c.phase is Phase.STARTED and c.started_at == 0.05


def test_ended_right_after_the_post_is_the_previous_clip_not_ours() -> None:
    c = posted()
    assert c.observe(OURS_ENDED, 0.02) == []  # settings say our file; OBS applies it a frame later
    assert c.phase is Phase.POSTED
    assert c.playback_ended(0.03) == []  # the previous clip's end event
    assert c.phase is Phase.POSTED


def test_the_started_event_starts_it() -> None:
    c = posted()
    assert c.playback_started(0.2) == []
    assert c.phase is Phase.STARTED and c.started_at == 0.2


def test_playing_while_not_in_the_mix_is_not_started() -> None:
    silent = SourceStatus("playing", file=FILE, duration_ms=2500, active=False)
    c = posted()
    assert c.observe(silent, 0.1) == []
    assert c.phase is Phase.POSTED
    c.observe(silent, 5.0)
    actions = c.observe(silent, 10.0)
    assert actions == [Finish(Phase.FAILED, c.error)]
    assert "not in OBS's mix" in (c.error or "")


def test_a_source_deleted_after_the_post_is_unavailable() -> None:
    c = posted()
    assert c.observe(MISSING, 0.1) == [Finish(Phase.UNAVAILABLE, c.error)]


# -- never started: retried once, then failed --------------------------------------------------

def test_never_started_is_posted_once_more_then_fails_naming_the_source_and_cause() -> None:
    c = posted(0.0)
    assert c.observe(ENDED, TIMEOUTS.start_s - 0.01) == []
    assert c.observe(ENDED, TIMEOUTS.start_s) == [Post(FILE, 2)]
    assert c.observe(ENDED, 2 * TIMEOUTS.start_s - 0.01) == []
    actions = c.observe(ENDED, 2 * TIMEOUTS.start_s)
    assert c.phase is Phase.FAILED and actions == [Finish(Phase.FAILED, c.error)]
    assert c.attempts == START_ATTEMPTS == 2
    assert c.error is not None and "'TTS Audio' did not start the clip" in c.error
    assert "2 tries" in c.error and "kept its own file '/tmp/clips/m0.wav'" in c.error


def test_the_second_try_can_succeed() -> None:
    c = posted(0.0)
    c.observe(ENDED, TIMEOUTS.start_s)
    c.observe(OURS, TIMEOUTS.start_s + 0.1)
    assert c.phase is Phase.STARTED


@pytest.mark.parametrize(("status", "cause"), [
    (SourceStatus("error", file=FILE), "could not open the clip file"),
    (SourceStatus("opening", file=FILE), "still opening"),
    (SourceStatus("playing", file="/other.mp3", duration_ms=0), "kept its own file '/other.mp3'"),
    (SourceStatus("stopped", file=FILE), "stayed stopped"),
    (SourceStatus("paused", file=FILE, duration_ms=0), "paused in OBS"),
    (IDLE_EMPTY, "still has no file"),
    (OURS_OPENING, "never opened the clip file"),
    (SourceStatus("ended", file=FILE, duration_ms=2500), "stayed 'ended'"),
])
def test_the_failure_says_why_in_the_streamers_words(status: SourceStatus, cause: str) -> None:
    c = clip(start_s=1.0)
    c.observe(ENDED, 0.0)
    c.observe(status, 1.0)
    c.observe(status, 2.0)
    assert c.phase is Phase.FAILED
    assert cause in (c.error or "")


# -- STARTED -> ENDED / TIMED_OUT --------------------------------------------------------------

@pytest.mark.parametrize("status", [
    OURS_ENDED, SourceStatus("none"), SourceStatus("error", file=FILE),
    SourceStatus("playing", file="", duration_ms=0),  # the file was cleared
    SourceStatus("playing", file="/someone/else.mp3", duration_ms=9000),  # replaced
])
def test_a_started_clip_ends(status: SourceStatus) -> None:
    c = started()
    assert c.observe(status, 2.0) == [Finish(Phase.ENDED)]
    assert c.done and c.error is None


def test_the_ended_event_ends_a_started_clip() -> None:
    c = started()
    assert c.playback_ended(2.6) == [Finish(Phase.ENDED)]
    assert c.observe(OURS_ENDED, 2.7) == []  # done: further looks do nothing


def test_still_playing_long_after_its_end_times_out_and_stops_the_source() -> None:
    c = started(0.0)
    limit = 2.5 + TIMEOUTS.end_slack_s
    assert c.observe(OURS, limit) == []
    actions = c.observe(OURS, limit + 0.01)
    assert c.phase is Phase.TIMED_OUT
    assert actions[0] == Stop() and actions[1] == Finish(Phase.TIMED_OUT, c.error)
    assert "still said 'playing'" in (c.error or "")


def test_a_pause_in_obs_holds_the_clock() -> None:
    c = started(0.0)
    paused = SourceStatus("paused", file=FILE, duration_ms=2500)
    assert c.observe(paused, 1.0) == []
    assert c.observe(paused, 60.0) == []
    assert c.observe(OURS, 61.0) == []  # paused 60 s: the clip still has 1.5 s to go
    assert c.observe(OURS, 61.0 + 1.5 + TIMEOUTS.end_slack_s - 0.01) == []
    assert c.phase is Phase.STARTED


def test_a_pause_longer_than_the_limit_stops_the_clip() -> None:
    c = clip(pause_limit_s=10.0)
    c.observe(ENDED, 0.0)
    c.observe(OURS, 0.1)
    paused = SourceStatus("paused", file=FILE, duration_ms=2500)
    c.observe(paused, 1.0)
    assert c.observe(paused, 11.0) == [Stop()]
    assert c.phase is Phase.STOPPING
    assert c.observe(OURS_ENDED, 11.1) == [Finish(Phase.STOPPED)]


def test_stopped_in_obs_by_the_streamer_counts_as_a_skip() -> None:
    c = started()
    assert c.observe(OURS_STOPPED, 1.0) == []
    assert c.phase is Phase.STOPPING
    assert c.observe(OURS_ENDED, 1.05) == [Finish(Phase.STOPPED)]


def test_a_source_deleted_mid_clip_is_unavailable() -> None:
    c = started()
    assert c.observe(MISSING, 1.0) == [Finish(Phase.UNAVAILABLE, c.error)]
    assert "deleted or renamed" in (c.error or "")


# -- stop (skip) -------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [posted, started], ids=["posted", "started"])
def test_stop_cuts_the_clip_and_waits_for_obs_to_end_it(make) -> None:  # type: ignore[no-untyped-def]
    c = make()
    assert c.stop(1.0) == [Stop()]
    assert c.phase is Phase.STOPPING
    assert c.observe(OURS_STOPPED, 1.01) == []
    assert c.observe(OURS_ENDED, 1.1) == [Finish(Phase.STOPPED)]


def test_stop_gives_up_waiting_after_stop_grace() -> None:
    c = started()
    c.stop(1.0)
    assert c.observe(OURS_STOPPED, 1.0 + TIMEOUTS.stop_grace_s) == [Finish(Phase.STOPPED)]


def test_the_ended_event_finishes_a_stop() -> None:
    c = started()
    c.stop(1.0)
    assert c.playback_ended(1.1) == [Finish(Phase.STOPPED)]


def test_a_source_deleted_while_stopping_just_finishes_the_stop() -> None:
    c = started()
    c.stop(1.0)
    assert c.observe(MISSING, 1.1) == [Finish(Phase.STOPPED)]


@pytest.mark.parametrize("first", [None, FOREIGN], ids=["new", "clearing"])
def test_stop_before_anything_was_posted_finishes_without_touching_the_source(first) -> None:  # type: ignore[no-untyped-def]
    c = clip()
    if first is not None:
        c.observe(first, 0.0)
    assert c.stop(0.1) == [Finish(Phase.STOPPED)]
    assert c.observe(ENDED, 0.2) == [] and c.stop(0.3) == []


def test_the_phase_follows_the_clip_and_done_is_its_end() -> None:
    c = clip()
    assert c.phase is Phase.NEW
    c.observe(FOREIGN, 0.0)
    assert c.phase is Phase.CLEARING
    c.observe(ENDED, 0.1)
    assert c.phase is Phase.POSTED
    c.observe(OURS, 0.2)
    assert c.phase is Phase.STARTED and not c.done
    c.playback_ended(3.0)
    assert c.phase is Phase.ENDED and c.done


@pytest.mark.parametrize(("answer", "expected"), [
    ({"mediaState": "OBS_MEDIA_STATE_PLAYING", "mediaDuration": None, "mediaCursor": None},
     SourceStatus("playing", FILE, 0, True)),
    ({"mediaState": "OBS_MEDIA_STATE_ENDED", "mediaDuration": 2500}, SourceStatus("ended", FILE, 2500, True)),
    ({}, SourceStatus("none", FILE, 0, True)),
    (None, SourceStatus(None)),
])
def test_obs_websocket_media_status_reads_as_a_source_status(answer, expected) -> None:  # type: ignore[no-untyped-def]
    status = SourceStatus.from_websocket(answer, FILE, True)
    assert status == expected
    if answer and answer.get("mediaState", "").endswith("PLAYING"):
        assert SourceStatus.from_websocket(answer).idle  # no duration, file not known: idle
        assert not status.idle  # with a file: a clip being opened
