"""What the WebSocket connectors share (Streamer.bot, Twitch, StreamElements): frames read
as JSON objects, replies awaited within a deadline, and a service's move to a new
connection (Twitch's ``session_reconnect``, StreamElements' ``reconnect``).

A move is followed the way both services document it: open the new connection and wait
for its welcome while the old socket is still read, then close the old one. The socket a
session reads is a ``MovableSocket``: ``async with`` it, and whichever socket is current
when the session ends (on an error, a lost connection or a stop) is closed, so nothing is
left open behind a followed move.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

DRAIN_SECONDS = 2.0  # after the new welcome, the old socket's last frames are read this long at most

Welcome = TypeVar("Welcome")


def json_object(frame: object) -> dict[str, Any] | None:
    """A text or binary frame as a JSON object; None for anything else."""
    try:
        data = json.loads(frame) if isinstance(frame, (str, bytes)) else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def close_reason(exc: Any) -> str:
    """The close code and reason a ``ConnectionClosed`` received, for the streamer."""
    rcvd = getattr(exc, "rcvd", None)
    if rcvd is None:
        return "no close frame"
    return f"code {rcvd.code}{': ' + rcvd.reason if rcvd.reason else ''}"


async def frame_before(ws: Any, deadline: float, too_late: Callable[[], Exception]) -> dict[str, Any] | None:
    """The next frame ``ws`` receives before ``deadline`` (the running loop's time), as a
    JSON object (None for a frame that is not one); past the deadline, ``too_late()`` is raised."""
    loop = asyncio.get_running_loop()
    while True:
        left = deadline - loop.time()
        if left <= 0:
            raise too_late()
        try:
            return json_object(await asyncio.wait_for(ws.recv(), left))
        except (TimeoutError, asyncio.TimeoutError):  # one class from Python 3.11
            continue


class MovableSocket(Generic[Welcome]):
    """The socket a session reads (``current``): the one it opened, then the one each
    followed move led to. Leaving ``async with`` closes the current one.

    Parameters: ``opened``, the socket the session connected (its own ``async with``
    closes it too; closing twice is harmless).
    """

    def __init__(self, opened: Any) -> None:
        self.current = opened

    async def __aenter__(self) -> MovableSocket[Welcome]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.current.close()

    async def move(self, connect: Callable[[], Awaitable[Any]], welcome: Callable[[Any], Awaitable[Welcome]],
                   drain: Callable[[Any], Awaitable[None]]) -> Welcome:
        """Follow a move: ``connect()`` the new socket and await ``welcome(new)`` while
        ``drain(old)`` reads the old one on; then close the old one (its last frames are
        read for at most ``DRAIN_SECONDS``). The new socket becomes ``current``; on any
        failure it is closed and the error raised. Returns what ``welcome`` returned."""
        old = self.current
        draining = asyncio.ensure_future(drain(old))
        new: Any = None
        try:
            new = await connect()
            greeting = await welcome(new)
            await asyncio.wait({draining}, timeout=DRAIN_SECONDS)
        except BaseException:
            if new is not None:
                await new.close()
            raise
        finally:
            if not draining.done():
                draining.cancel()
            with contextlib.suppress(BaseException):
                await draining  # its error, if any, was the old socket's: it is closed now
            await old.close()
        self.current = new
        return greeting
