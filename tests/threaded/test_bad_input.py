"""Bad input gets a clear error or a documented clean-up; never a crash or a stuck queue."""

from __future__ import annotations

import pytest
from doubles import RecordingSink, ToneEngine, assert_accounting

from tts_core import MessagePriority, TTSConfig, TTSQueueManager


@pytest.fixture
def manager(make_manager):
    m = make_manager(TTSConfig(rate_limit_per_minute=0), engine=ToneEngine(1), sink=RecordingSink(speed=0))
    m.start()
    return m


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\x00\x01\x1b"])
def test_empty_text_is_refused(manager, text):
    with pytest.raises(ValueError, match="empty"):
        manager.add_message(text)
    assert manager.get_stats()["accepted"] == 0


@pytest.mark.parametrize("priority", ["MEGA", 7, None, 2.5, True])
def test_invalid_priority_names_the_accepted_values(manager, priority):
    with pytest.raises(ValueError, match="URGENT, HIGH, NORMAL, LOW"):
        manager.add_message("hi", priority)


@pytest.mark.parametrize("priority", ["urgent", " High ", 1, MessagePriority.NORMAL])
def test_priority_accepts_names_any_case_and_values(manager, priority):
    assert manager.add_message("hi", priority)


def test_non_string_text_is_a_type_error(manager):
    with pytest.raises(TypeError, match="text must be a string"):
        manager.add_message(b"bytes")  # type: ignore[arg-type]


def test_100_kb_text_is_cut_at_a_word_boundary(manager):
    msg_id = manager.add_message("spam " * 20_000)
    text = manager.get_message(msg_id)["text"]
    assert len(text) <= 500 and text.endswith("spam")
    assert manager.wait_until_idle(5)
    assert_accounting(manager)


def test_control_characters_are_removed(manager):
    msg_id = manager.add_message("hello\x00\x1b[31m wor\u200bld\r\nbye")
    assert manager.get_message(msg_id)["text"] == "hello [31m wor ld bye"


def test_non_callable_engine_is_refused_with_a_clear_error():
    manager = TTSQueueManager()
    with pytest.raises(TypeError, match="must be callable"):
        manager.set_tts_engine("espeak")
    with pytest.raises(TypeError, match="must be callable"):
        TTSQueueManager(engine=42)


def test_engine_returning_garbage_types_fails_the_message_only(make_manager):
    sink = RecordingSink(speed=0)
    outputs = iter([None, "a string", 12])

    def engine(text, **kw):
        return next(outputs, None) if text.startswith("bad") else ToneEngine(1).synthesize(text)

    m = make_manager(TTSConfig(max_retries=0), engine=engine, sink=sink)
    m.start()
    bad = [m.add_message(f"bad {i}") for i in range(3)]
    good = m.add_message("good")
    assert m.wait_until_idle(5)
    assert sink.ids() == [good]
    stats = assert_accounting(m)
    assert stats["failed"] == len(bad)


def test_bad_sink_is_refused():
    with pytest.raises(TypeError, match="play"):
        TTSQueueManager().set_audio_sink(object())  # type: ignore[arg-type]


def test_failing_subscriber_does_not_break_the_queue(make_manager):
    sink = RecordingSink(speed=0)
    m = make_manager(TTSConfig(), engine=ToneEngine(1), sink=sink)
    m.subscribe(lambda event: 1 / 0)
    m.start()
    ids = [m.add_message(f"m{i}") for i in range(5)]
    assert m.wait_until_idle(5)
    assert sink.ids() == ids
