"""Which of the script's log lines open OBS's Script Log window (warnings) and which do not."""

from __future__ import annotations

import logging

from tts_core.obs.script.logs import QueuedLogHandler, WarnOnce, obs_level


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def record(msg: str, *args: object, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord("tts_core.x", level, __file__, 1, msg, args, None)


def written(policy: WarnOnce, *records: logging.LogRecord) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    handler = QueuedLogHandler(lambda level, line: lines.append((level, line)), policy=policy)
    for r in records:
        handler.emit(r)
    handler.flush_to_obs()
    return lines


def test_a_repeated_warning_warns_once_then_counts_at_info() -> None:
    clock = Clock()
    lines = written(WarnOnce(600, clock), *(record("message %s failed: %s", n, "HTTP 500") for n in range(3)))
    assert [level for level, _ in lines] == [obs_level(logging.WARNING)] + [obs_level(logging.INFO)] * 2
    assert lines[0][1] == "WARNING tts_core.x: message 0 failed: HTTP 500"
    again = "(again: 2 more like this since the warning)"
    assert lines[2][1] == f"INFO tts_core.x: {again} message 2 failed: HTTP 500"


def test_another_kind_warns_and_a_quiet_spell_warns_again() -> None:
    clock = Clock()
    policy = WarnOnce(600, clock)
    assert written(policy, record("a %s", 1), record("b %s", 1))[1][0] == obs_level(logging.WARNING)
    clock.now += 599
    assert written(policy, record("a %s", 2))[0][0] == obs_level(logging.INFO)
    clock.now += 600
    assert written(policy, record("a %s", 3))[0][0] == obs_level(logging.WARNING)


def test_waiting_for_obs_to_load_is_info_and_info_passes_untouched() -> None:
    lines = written(WarnOnce(), record("player: waiting for %s: %s%s", "OBS",
                                       "OBS is still loading the scene collection", ""),
                    record("loaded", level=logging.INFO), record("boom", level=logging.ERROR))
    assert [level for level, _ in lines] == [obs_level(logging.INFO), obs_level(logging.INFO),
                                             obs_level(logging.ERROR)]
    assert lines[0][1].startswith("INFO tts_core.x: player: waiting for OBS")
