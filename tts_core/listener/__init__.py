"""The local listener: WebSocket and HTTP on one port (default ws://127.0.0.1:8765/).

``protocol`` is the wire format (frames, validation, replies, error codes) and
``session`` one client's conversation with the queue (auth, rate limit, dispatch); both
are pure, no sockets; so is ``guard`` (Host/Origin checks, wrong-token limits). ``server``
runs them on WebSocket and HTTP (aiohttp) in a background thread, ``overlay`` is the
captions page it serves; ``cli`` adds ``obs-tts serve`` and ``obs-tts send``.
"""

from tts_core.listener.protocol import ErrorCode, ProtocolError
from tts_core.listener.server import ListenerServer
from tts_core.listener.session import Session

__all__ = ["ErrorCode", "ListenerServer", "ProtocolError", "Session"]
