"""The command thread: commands run off the event loop, first in first out, in batches,
and their results come back on the loop in the order they were submitted."""

from __future__ import annotations

import asyncio
import threading

from tts_core.listener.dispatcher import CommandThread
from tts_core.listener.protocol import ErrorCode, Frame, ProtocolError


class RecordingDispatcher:
    """Stands in for Dispatcher: records where and in which order commands ran."""

    def __init__(self) -> None:
        self.ran: list[tuple[str, str]] = []

    def run(self, command: Frame) -> dict | ProtocolError:
        self.ran.append((command.name, threading.current_thread().name))
        if command.name == "Approve":
            return ProtocolError(ErrorCode.NOT_FOUND, "not held", command.id)
        return {"ran": command.name}

    def run_together(self, commands: list[Frame]) -> list[dict | ProtocolError]:
        if any(command.name == "Explode" for command in commands):
            raise RuntimeError("a bug in a command")
        return [self.run(command) for command in commands]


def _command(name: str, n: int) -> Frame:
    return Frame(n, "request", name, {})


def test_commands_run_on_their_own_thread_in_order_and_results_come_back_on_the_loop():
    dispatcher = RecordingDispatcher()

    async def main() -> list[tuple[int, object, str]]:
        loop = asyncio.get_running_loop()
        commands = CommandThread(dispatcher)  # type: ignore[arg-type]
        commands.start(loop)
        done: list[tuple[int, object, str]] = []
        finished = loop.create_future()
        names = ["Pause", "Approve", "GetStats", "Resume"] * 25
        for n, name in enumerate(names):
            def record(result: object, n: int = n) -> None:
                done.append((n, result, threading.current_thread().name))
                if len(done) == len(names) and not finished.done():
                    finished.set_result(None)
            commands.submit(_command(name, n), record)
        awaited = await commands.run(_command("GetQueue", 100))  # after all of them
        await finished
        commands.stop()
        assert awaited == {"ran": "GetQueue"}
        return done

    done = asyncio.run(main())
    assert [n for n, _, _ in done] == list(range(100))
    assert {thread for _, _, thread in done} == {threading.current_thread().name}  # the loop's thread
    assert [name for name, _ in dispatcher.ran][:4] == ["Pause", "Approve", "GetStats", "Resume"]
    assert {thread for _, thread in dispatcher.ran} == {"tts-listener-commands"}
    assert isinstance(done[1][1], ProtocolError) and done[1][1].code == ErrorCode.NOT_FOUND


def test_stop_ends_the_thread_and_nothing_runs_after_it():
    dispatcher = RecordingDispatcher()

    async def main() -> None:
        commands = CommandThread(dispatcher)  # type: ignore[arg-type]
        commands.start(asyncio.get_running_loop())
        commands.stop()
        commands.submit(_command("Pause", 1), lambda result: None)
        await asyncio.sleep(0)  # the loop turn that hands the batch over

    asyncio.run(main())
    assert dispatcher.ran == []
    assert not any(t.name == "tts-listener-commands" for t in threading.enumerate())


def test_a_failing_batch_is_answered_and_the_thread_lives_on():
    """A bug that escapes the dispatcher answers that batch with internal_error; the
    commands after it still run (a dead command thread would leave every client waiting)."""
    dispatcher = RecordingDispatcher()

    async def main() -> tuple[object, object]:
        commands = CommandThread(dispatcher)  # type: ignore[arg-type]
        commands.start(asyncio.get_running_loop())
        failed = await commands.run(_command("Explode", 1))
        later = await commands.run(_command("Pause", 2))
        commands.stop()
        return failed, later

    failed, later = asyncio.run(main())
    assert isinstance(failed, ProtocolError) and failed.code == ErrorCode.INTERNAL_ERROR
    assert failed.frame_id == 1
    assert later == {"ran": "Pause"}
