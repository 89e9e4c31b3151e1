"""Runs the sessions' commands against the queue, on a thread of its own.

``Dispatcher`` turns a command (a validated Frame) into a call: events go through the
event translator (``StreamerBotIntegration``), requests to the manager. ``CommandThread``
runs it off the event loop, because accepting a message writes the SQLite journal: one
thread, first in first out, so the replies of one connection and the messages of one
client keep the order they were sent in; results go back to the loop in batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from tts_core.ingest.translator import EventResult, StreamerBotIntegration
from tts_core.listener.history import HISTORY_SIZE, History
from tts_core.listener.protocol import REMOVAL_SCHEMAS, ErrorCode, Frame, ProtocolError
from tts_core.listener.session import Result
from tts_core.runtime.manager import TTSQueueManager
from tts_core.runtime.message_queue import QueueFull
from tts_core.storage.journal_store import StorageError

log = logging.getLogger(__name__)

MAX_QUEUE_LIMIT = 1000
STOP_SECONDS = 0.5  # what stop() waits for the command being run to end
TOGETHER_MAX = 64  # commands journaled with one write (the other threads' journal writes wait meanwhile)


class Dispatcher:
    """Runs commands against the queue: events through the integration, requests on the
    manager. Parameters: ``manager``, ``integration`` (whose ``submit`` queues events),
    ``history`` (how the last messages ended, for ``GetHistory``; default: a new one).

    ``requests`` maps each request name to its handler. ``run`` returns the event's
    result or the request's reply fields, or the ProtocolError to answer with; it never
    raises (an unexpected error becomes ``internal_error``, logged).
    """

    def __init__(self, manager: TTSQueueManager, integration: StreamerBotIntegration,
                 history: History | None = None) -> None:
        self.manager = manager
        self.integration = integration
        self.history = history if history is not None else History(manager)
        self.requests: dict[str, Callable[[dict[str, Any]], Result]] = {
            "Speak": self._speak, "Stop": self._skip, "Skip": self._skip, "Pause": self._pause,
            "Resume": self._resume, "Clear": self._clear, "Enable": self._enable,
            "Disable": self._disable, "Replay": self._replay, "GetQueue": self._get_queue,
            "GetStats": self._get_stats, "GetHistory": self._get_history, "Approve": self._approve,
            "Reject": self._reject, "Remove": self._remove,
        }

    def run(self, command: Frame) -> Result:
        try:
            if command.kind == "event":
                return self._event(command)
            return self.requests[command.name](command.fields)
        except ProtocolError as exc:
            exc.frame_id = command.id
            return exc
        except QueueFull as exc:
            return ProtocolError(ErrorCode.QUEUE_FULL, str(exc), command.id)
        except StorageError as exc:  # exc.code is "storage_full" or "storage_error"
            return ProtocolError(exc.code, str(exc), command.id)
        except (ValueError, TypeError) as exc:
            return ProtocolError(ErrorCode.INVALID_FIELD, str(exc), command.id)
        except LookupError as exc:
            return ProtocolError(ErrorCode.NOT_FOUND, str(exc).strip("'\""), command.id)
        except Exception:
            log.exception("listener: %s %s failed", command.kind, command.name)
            return _internal_error(command)

    def run_together(self, commands: list[Frame]) -> list[Result]:
        """``run`` each command, journaling the messages they queue with one write. A
        message the journal could not write after all is answered as refused (its
        storage error), like a single message the journal refuses."""
        with self.manager.adding_together() as refused:
            results = [self.run(command) for command in commands]
        if refused:
            results = [_refused(cmd, result, refused) for cmd, result in zip(commands, results, strict=True)]
        return results

    def _event(self, command: Frame) -> Result:
        if command.name in REMOVAL_SCHEMAS:
            return self.integration.remove(command.name, command.fields)
        return self.integration.submit(command.name, command.fields)

    def _speak(self, fields: dict[str, Any]) -> Result:
        # badWordFilter is accepted for Speaker.bot compatibility; moderation always applies.
        return self.integration.submit("tts", {"text": fields["message"], "voice": fields.get("voice"),
                                               "priority": fields.get("priority")})

    def _skip(self, fields: dict[str, Any]) -> Result:
        return {"skipped": self.manager.skip()}

    def _pause(self, fields: dict[str, Any]) -> Result:
        self.manager.pause()
        return {"paused": True}

    def _resume(self, fields: dict[str, Any]) -> Result:
        self.manager.resume()
        return {"paused": False}

    def _clear(self, fields: dict[str, Any]) -> Result:
        return {"cleared": self.manager.clear()}

    def _enable(self, fields: dict[str, Any]) -> Result:
        self.manager.enable()
        return {"enabled": True}

    def _disable(self, fields: dict[str, Any]) -> Result:
        self.manager.disable()
        return {"enabled": False}

    def _replay(self, fields: dict[str, Any]) -> Result:
        return {"message_id": self.manager.replay(fields.get("message_id"))}

    def _get_queue(self, fields: dict[str, Any]) -> Result:
        limit = min(fields.get("limit", 100), MAX_QUEUE_LIMIT)
        return {"queue": self.manager.get_queue(limit), "now_playing": self.manager.now_playing,
                "pending": len(self.manager.queue)}

    def _get_stats(self, fields: dict[str, Any]) -> Result:
        return {"stats": self.manager.get_stats()}

    def _get_history(self, fields: dict[str, Any]) -> Result:
        limit = min(fields.get("limit", HISTORY_SIZE), self.history.size)
        return {"history": self.history.recent(limit)}

    def _approve(self, fields: dict[str, Any]) -> Result:
        return self._moderate(self.manager.approve, fields["message_id"], "approved", "held")

    def _reject(self, fields: dict[str, Any]) -> Result:
        return self._moderate(self.manager.reject, fields["message_id"], "rejected", "pending")

    def _remove(self, fields: dict[str, Any]) -> Result:
        if set(fields) <= {"message_id"} and "message_id" in fields:
            return self._moderate(self.manager.remove, fields["message_id"], "removed", "pending")
        if not set(fields) - {"skip_playing"}:
            raise ProtocolError(ErrorCode.MISSING_FIELD, "Remove needs message_id, chat_message_id, "
                                "username or user_id")
        return self.integration.remove("remove", fields)

    @staticmethod
    def _moderate(action: Callable[[str], bool], message_id: str, done: str, state: str) -> Result:
        if not action(message_id):
            raise LookupError(f"message {message_id} is not {state}")
        return {done: message_id}


Done = Callable[[Result], None]


class CommandThread:
    """Runs ``dispatcher``'s commands on one thread ("tts-listener-commands"), first in
    first out, and calls each command's ``done`` with its result on the event loop.

    Commands go over in batches: those submitted during one turn of the loop (every
    frame that had arrived) leave together when the turn ends, and their results come
    back together. The two threads then take turns instead of contending for the GIL
    at every system call. The messages a batch queues are journaled with one SQLite
    commit (up to TOGETHER_MAX commands per commit) instead of one each.

    Parameters: ``dispatcher``. ``start(loop)`` and ``stop()`` bracket the loop's life;
    ``submit`` and ``run`` are called on the loop.
    """

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._inbox: queue.SimpleQueue[list[tuple[Frame, Done]] | None] = queue.SimpleQueue()
        self._batch: list[tuple[Frame, Done]] = []
        self._open = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._open = True
        self._thread = threading.Thread(target=self._work, name="tts-listener-commands", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Let the running command end; commands not started yet are dropped (nobody waits
        for their replies any more)."""
        thread = self._thread
        if thread is None:
            return
        self._open = False
        self._inbox.put(None)
        thread.join(timeout)
        if thread.is_alive():
            log.warning("listener: a command was still running %.1f s after stop", timeout)
        self._thread = None

    def submit(self, command: Frame, done: Done) -> None:
        """Run ``command``; ``done(result)`` is called on the loop when it has run."""
        assert self._loop is not None, "start() first"
        if not self._batch:
            self._loop.call_soon(self._hand_over)  # after the frames that arrived with this one
        self._batch.append((command, done))

    async def run(self, command: Frame) -> Result:
        """Run ``command`` and wait for its result."""
        assert self._loop is not None, "start() first"
        future: asyncio.Future[Result] = self._loop.create_future()

        def done(result: Result) -> None:
            if not future.done():
                future.set_result(result)

        self.submit(command, done)
        return await future

    def _hand_over(self) -> None:  # the loop thread
        batch, self._batch = self._batch, []
        self._inbox.put(batch)

    def _run(self, part: list[tuple[Frame, Done]]) -> list[Result]:  # the command thread
        commands = [command for command, _ in part]
        try:
            return self.dispatcher.run_together(commands)
        except Exception:  # the thread must live on: every later client would wait for ever
            log.exception("listener: %d command(s) failed", len(commands))
            return [_internal_error(command) for command in commands]

    def _work(self) -> None:  # the command thread
        loop = self._loop
        assert loop is not None
        while (batch := self._inbox.get()) is not None:
            for start in range(0, len(batch), TOGETHER_MAX):
                if not self._open:
                    break
                part = batch[start:start + TOGETHER_MAX]
                results = self._run(part)
                with contextlib.suppress(RuntimeError):  # the loop has closed: the listener is stopping
                    answered = [(done, result) for (_, done), result in zip(part, results, strict=True)]
                    loop.call_soon_threadsafe(_deliver, answered)


def _internal_error(command: Frame) -> ProtocolError:
    return ProtocolError(ErrorCode.INTERNAL_ERROR, f"{command.name} failed; see the log", command.id)


def _refused(command: Frame, result: Result, refused: dict[str, StorageError]) -> Result:
    error = refused.get(result.message_id or "") if isinstance(result, EventResult) else None
    return result if error is None else ProtocolError(error.code, str(error), command.id)


def _deliver(results: list[tuple[Done, Result]]) -> None:  # the loop thread
    for done, result in results:
        done(result)
