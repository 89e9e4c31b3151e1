"""TTSQueueManager.reconfigure (issue 7 item 4): settings apply live, without cutting the
clip that plays or restarting the queue; a failed apply keeps the previous settings."""

from __future__ import annotations

import copy
import sqlite3

import pytest
from doubles import EventLog, RecordingSink, ToneEngine, assert_accounting, wait_until

from tts_core import StorageError, TTSConfig
from tts_core.config import EngineConfig
from tts_core.engines.base import PermanentEngineError, Voice
from tts_core.storage.journal_store import JOURNAL_FILE


class VoicedEngine(ToneEngine):
    def list_voices(self):
        return [Voice("en-us", "English (America)"), Voice("de", "German")]


def _running(make_manager, config: TTSConfig, duration_ms: int = 300):
    log, sink = EventLog(), RecordingSink(speed=1.0)  # real time: a clip takes its length
    engine = VoicedEngine(duration_ms, durations={"message 0": 3000})  # long: the change lands mid-clip
    manager = make_manager(config, engine=engine, sink=sink)
    manager.subscribe(log)
    manager.start()
    return manager, log, sink


def test_workers_rate_and_size_change_mid_playback_without_cutting_the_clip(make_manager):
    config = TTSConfig(max_concurrent_workers=3, rate_limit_per_minute=0, max_queue_size=20)
    manager, log, sink = _running(make_manager, config)
    ids = [manager.add_message(f"message {i}", "NORMAL") for i in range(6)]
    first = log.wait_for("playback_started", ids[0])
    assert first and manager.now_playing is not None

    changed = copy.deepcopy(manager.config)
    changed.max_concurrent_workers, changed.rate_limit_per_minute, changed.rate_limit_burst = 1, 600, 2
    changed.max_queue_size, changed.max_retries = 8, 1
    manager.reconfigure(changed)
    assert manager.get_stats()["now_playing"] == ids[0], "still the same clip"

    assert wait_until(lambda: manager.get_stats()["active_workers"] == 1)
    assert manager.wait_until_idle(30)
    assert sink.ids() == ids
    assert not any(p.skipped for p in sink.played), "no clip was cut"
    log.wait_for("playback_finished", ids[-1])  # events arrive on their own thread
    finished = [e["message_id"] for e in log.named("playback_finished")]
    assert finished == ids and log.named("skipped") == []
    assert [e["message_id"] for e in log.named("playback_started")].count(ids[0]) == 1
    stats = assert_accounting(manager)
    assert stats["played"] == 6 and stats["failed"] == stats["dropped"] == 0
    assert manager.queue.max_size == 8 and manager.config.max_retries == 1

    more = copy.deepcopy(manager.config)
    more.max_concurrent_workers = 3
    manager.reconfigure(more)
    assert wait_until(lambda: manager.get_stats()["active_workers"] == 3)


def test_unknown_voice_keeps_the_previous_settings(make_manager):
    manager, log, _sink = _running(make_manager, TTSConfig(rate_limit_per_minute=0), duration_ms=20)
    bad = copy.deepcopy(manager.config)
    bad.max_concurrent_workers, bad.engine = 1, EngineConfig(name="espeak", voice="en-uss")
    with pytest.raises(ValueError, match=r"engine\.voice: unknown voice 'en-uss'.*en-us"):
        manager.reconfigure(bad)
    assert manager.config.max_concurrent_workers == 3 and manager.config.engine.voice is None
    msg = manager.add_message("still speaking", "NORMAL")
    log.wait_for("playback_finished", msg)
    assert manager.get_stats()["active_workers"] == 3

    good = copy.deepcopy(manager.config)
    good.engine.voice = "de"
    manager.reconfigure(good)
    assert manager.config.engine.voice == "de"


def test_unusable_data_folder_keeps_the_previous_journal(make_manager, tmp_path):
    config = TTSConfig(rate_limit_per_minute=0, persist=True, data_dir=str(tmp_path / "a"))
    manager, _log, _sink = _running(make_manager, config, duration_ms=20)
    manager.pause()
    kept = manager.add_message("kept", "NORMAL")
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    bad = copy.deepcopy(manager.config)
    bad.data_dir, bad.max_queue_size = str(a_file), 5
    with pytest.raises(StorageError, match="journal folder"):
        manager.reconfigure(bad)
    assert manager.config.data_dir == str(tmp_path / "a") and manager.queue.max_size == 1000
    later = manager.add_message("later", "NORMAL")
    assert _ids(tmp_path / "a") == {kept, later}


def _ids(folder) -> set[str]:
    db = sqlite3.connect(str(folder / JOURNAL_FILE))
    try:
        return {row[0] for row in db.execute("SELECT id FROM messages")}
    finally:
        db.close()


def test_the_journal_moves_with_data_dir_and_persist(make_manager, tmp_path):
    manager, _log, _sink = _running(make_manager, TTSConfig(rate_limit_per_minute=0), duration_ms=20)
    manager.pause()
    ids = [manager.add_message(f"m{i}", "NORMAL") for i in range(3)]
    on = copy.deepcopy(manager.config)
    on.persist, on.data_dir = True, str(tmp_path / "a")
    manager.reconfigure(on)
    assert _ids(tmp_path / "a") == set(ids)

    moved = copy.deepcopy(manager.config)
    moved.data_dir = str(tmp_path / "b")
    manager.reconfigure(moved)
    ids.append(manager.add_message("after the move", "NORMAL"))
    assert _ids(tmp_path / "b") == set(ids) and _ids(tmp_path / "a") == set()

    off = copy.deepcopy(manager.config)
    off.persist = False
    manager.reconfigure(off)
    assert _ids(tmp_path / "b") == set()
    assert [m["message_id"] for m in manager.get_queue()] == ids
    manager.resume()
    assert manager.wait_until_idle(20)
    assert assert_accounting(manager)["played"] == 4


def test_priority_order_can_be_switched_off_live(make_manager):
    manager, _log, _sink = _running(make_manager, TTSConfig(rate_limit_per_minute=0), duration_ms=20)
    manager.pause()
    low = manager.add_message("low", "LOW")
    urgent = manager.add_message("urgent", "URGENT")
    assert [m["message_id"] for m in manager.get_queue()] == [urgent, low]
    fifo = copy.deepcopy(manager.config)
    fifo.enable_priority_queue = False
    manager.reconfigure(fifo)
    assert [m["message_id"] for m in manager.get_queue()] == [low, urgent]
    manager.resume()
    assert manager.wait_until_idle(20)
    assert assert_accounting(manager)["played"] == 2


def test_a_higher_rate_limit_frees_messages_already_waiting_for_a_token(make_manager):
    config = TTSConfig(rate_limit_per_minute=1, rate_limit_burst=1)  # the 2nd token is a minute away
    manager, log, _sink = _running(make_manager, config, duration_ms=20)
    ids = [manager.add_message(f"waiting {i}", "NORMAL") for i in range(3)]
    log.wait_for("playback_finished", ids[0])
    faster = copy.deepcopy(manager.config)
    faster.rate_limit_per_minute = 0
    manager.reconfigure(faster)
    log.wait_for("playback_finished", ids[-1], timeout=20)
    assert assert_accounting(manager)["played"] == 3


def test_a_new_config_replaces_the_old_one_which_stays_as_it_was(make_manager):
    manager, _log, _sink = _running(make_manager, TTSConfig(rate_limit_per_minute=0, max_text_length=500))
    before = manager.config
    untouched = copy.deepcopy(before)
    changed = copy.deepcopy(before)
    changed.max_queue_size, changed.replay_keep, changed.max_text_length = 7, 1, 10
    changed.pause_between_clips_ms = 5
    manager.reconfigure(changed)
    assert manager.config is changed, "readers of manager.config see the latest config"
    assert before == untouched, "nothing is copied into the previous config objects"
    assert manager.queue.max_size == 7 and manager.retention.keep == 1
    shortened = manager.add_message("a text that is longer than ten characters")
    assert len(manager.get_message(shortened)["text"]) <= 10, "max_text_length applies to the next message"


def test_the_last_event_is_delivered_by_flush_after_wait_until_idle(make_manager):
    class Refusing(ToneEngine):
        def synthesize(self, text, voice=None, rate=None, volume=None):
            raise PermanentEngineError("no such voice")

    log = EventLog()
    manager = make_manager(TTSConfig(rate_limit_per_minute=0), engine=Refusing(1), sink=RecordingSink())
    manager.subscribe(log)
    manager.start()
    for _ in range(20):  # each ends on a worker thread: the wait covers its event too
        msg_id = manager.add_message("hello")
        assert manager.wait_until_idle(5)
        assert manager.events.flush()
        assert log.events[-1]["event"] == "failed" and log.events[-1]["message_id"] == msg_id
