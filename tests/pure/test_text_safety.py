"""Viewer text is safe for log lines and encoders (issue 19): loggable, text_problem, encode."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tts_core.domain.log_text import loggable
from tts_core.listener.protocol import encode, error_reply, parse_frame, text_problem

_any = st.text(st.characters(exclude_categories=()), max_size=50)


@settings(max_examples=200, derandomize=True)
@given(text=_any)
def test_loggable_is_one_printable_encodable_line(text):
    line = loggable(text)
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\x00" not in line
    line.encode("utf-8")  # no lone surrogate left
    assert all(c.isprintable() or c == " " for c in line), line


def test_loggable_shortens_long_text():
    assert loggable("x" * 1000, 10) == "x" * 10 + "... (1000 characters)"
    assert loggable("eve\n09:00 forged\x1b[2J") == "eve\\x0a09:00 forged\\x1b[2J"


def test_text_problem_names_nul_and_surrogates():
    assert text_problem("fine é 🎉") is None
    assert "NUL" in (text_problem("a\x00") or "")
    assert "U+D800" in (text_problem("a\ud800") or "")


@settings(max_examples=200, derandomize=True)
@given(text=_any)
def test_encode_always_gives_utf8_encodable_json(text):
    reply = error_reply(text, "invalid_field", text)
    encoded = encode(reply)
    encoded.encode("utf-8")
    assert json.loads(encoded) == reply


def test_nested_strings_and_field_names_are_checked():
    for frame in ('{"type":"chat","username":"a","message":"m","badges":["ok","\\ud800"]}',
                  '{"type":"tts","text":"x","\\udc00":1}'):
        try:
            parse_frame(frame)
        except Exception as exc:  # noqa: BLE001 - the code is what matters
            assert getattr(exc, "code", None) == "invalid_field", exc
        else:
            raise AssertionError(f"accepted: {frame}")


def test_the_journal_stores_a_lone_surrogate_from_the_python_api(tmp_path):
    from tts_core.domain.message import MessagePriority, TTSMessage
    from tts_core.storage.journal_store import MessageStore

    store = MessageStore(tmp_path / "journal.sqlite3")
    store.add(TTSMessage(text="a\ud800b", priority=MessagePriority.NORMAL, seq=1, username="\udfff"))
    store.close()
    (msg,) = MessageStore(tmp_path / "journal.sqlite3").recover()
    assert msg.text == "a\ufffdb" and msg.username == "\ufffd"
