"""The local listener: WebSocket and HTTP on one port (default ws://127.0.0.1:8765/).

Pure, no sockets: ``protocol`` is the wire format (frames, validation, replies, error
codes), ``session`` one client's conversation (it says what to do with each frame and
makes the replies), ``guard`` the defences (the Gate: Host, Origin, token; wrong-token
limits). Around them: ``dispatcher`` runs commands against the queue on a thread of its
own, ``conversation`` holds the WebSocket conversations, ``routes`` the HTTP ones,
``push`` sends the queue's events to subscribers, ``server`` owns the thread and the
event loop (aiohttp), ``overlay`` is the captions page; ``cli`` adds ``obs-tts serve``
and ``obs-tts send``.
"""

from tts_core.listener.protocol import ErrorCode, ProtocolError
from tts_core.listener.server import ListenerServer
from tts_core.listener.session import Session

__all__ = ["ErrorCode", "ListenerServer", "ProtocolError", "Session"]
