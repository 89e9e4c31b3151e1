"""A loopback Streamer.bot WebSocket Server, written from its documented shapes.

``FakeStreamerBot(password=..., hello=..., lower_sources=...)``: on connect it sends
``Hello`` (with ``authentication`` {salt, challenge} when a password is set), or
nothing (``hello=False``, as servers before 0.2.5: then it answers ``GetInfo``). It
answers ``Authenticate`` (refusing a wrong answer, and every other request before a
right one when a password is set), ``GetEvents`` (PascalCase sources, or lowerCamel
with ``lower_sources``) and ``Subscribe`` (per connection). ``send_event`` pushes an
event in Streamer.bot's envelope to every connection subscribed to it. ``restart()``
drops every connection and listens again on the same port. Test infrastructure only.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
import time
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from tts_core.config import STREAMERBOT_EVENTS

OFFERED = {source: [*kinds, "SomethingNew"] for source, kinds in STREAMERBOT_EVENTS.items()}
OFFERED["Twitch"] = [*OFFERED["Twitch"], "PresentViewers"]


def expected_auth(password: str, salt: str, challenge: str) -> str:
    secret = base64.b64encode(hashlib.sha256((password + salt).encode()).digest()).decode()
    return base64.b64encode(hashlib.sha256((secret + challenge).encode()).digest()).decode()


class FakeStreamerBot:
    def __init__(self, password: str = "", hello: bool = True, lower_sources: bool = False) -> None:
        self.password = password
        self.hello = hello
        self.lower_sources = lower_sources
        self.port = 0
        self.requests: list[dict[str, Any]] = []
        self.subscribes = 0  # successful Subscribe requests, over all connections
        self.connections_made = 0
        self._subscribed: dict[ServerConnection, set[tuple[str, str]]] = {}
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._salts = itertools.count(1)

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def start(self) -> FakeStreamerBot:
        self._server = serve(self._handle, "127.0.0.1", self.port)
        self.port = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-streamerbot",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        with self._lock:
            connections = list(self._subscribed)
        for conn in connections:
            conn.close(1001, "Streamer.bot is closing")
        if thread is not None:
            thread.join(5)
        self._server = None

    def restart(self) -> None:
        """Streamer.bot closed and opened again: every connection dropped, same port."""
        self.stop()
        with self._lock:
            self._subscribed.clear()
        self.start()

    def __enter__(self) -> FakeStreamerBot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the tests look at ----------------------------------------------------------------

    def wait_subscribed(self, count: int = 1, timeout: float = 20.0) -> bool:
        """Until ``count`` Subscribe requests were answered (over all connections)."""
        with self._cond:
            return self._cond.wait_for(lambda: self.subscribes >= count, timeout)

    def subscriptions(self) -> list[set[tuple[str, str]]]:
        with self._lock:
            return [set(events) for events in self._subscribed.values()]

    def send_event(self, source: str, kind: str, data: Any, timestamp: str | None = None) -> int:
        """Push one event to every connection subscribed to it; how many got it."""
        frame = json.dumps({"timeStamp": timestamp or _now(), "event": {"source": source, "type": kind},
                            "data": data})
        with self._lock:
            targets = [c for c, events in self._subscribed.items() if (source.lower(), kind) in events]
        for conn in targets:
            conn.send(frame)
        return len(targets)

    # -- the server side ----------------------------------------------------------------------

    def _handle(self, conn: ServerConnection) -> None:
        with self._lock:
            self.connections_made += 1
        authenticated = not self.password
        salt, challenge = f"salt{next(self._salts)}", f"challenge{next(self._salts)}"
        if self.hello:
            hello: dict[str, Any] = {"timestamp": _now(), "session": "s1", "request": "Hello",
                                     "info": _info()}
            if self.password:
                hello["authentication"] = {"salt": salt, "challenge": challenge}
            conn.send(json.dumps(hello))
        try:
            for raw in conn:
                request = json.loads(raw)
                with self._lock:
                    self.requests.append(request)
                name, frame_id = request.get("request"), request.get("id")
                if name == "Authenticate":
                    right = expected_auth(self.password, salt, challenge)
                    authenticated = request.get("authentication") == right
                    reply = {"status": "ok", "id": frame_id} if authenticated else \
                        {"status": "error", "id": frame_id, "error": "Authentication failed"}
                elif name == "GetInfo":
                    reply = {"status": "ok", "id": frame_id, "info": _info()}
                elif not authenticated:
                    reply = {"status": "error", "id": frame_id, "error": "Authentication required"}
                elif name == "GetEvents":
                    events = {(k[:1].lower() + k[1:]) if self.lower_sources else k: v
                              for k, v in OFFERED.items()}
                    reply = {"status": "ok", "id": frame_id, "events": events}
                elif name == "Subscribe":
                    wanted = {(source.lower(), kind) for source, kinds in request.get("events", {}).items()
                              for kind in kinds}
                    with self._cond:
                        self._subscribed[conn] = wanted
                        self.subscribes += 1
                        self._cond.notify_all()
                    reply = {"status": "ok", "id": frame_id, "events": request.get("events", {})}
                else:
                    reply = {"status": "error", "id": frame_id, "error": f"unknown request {name}"}
                conn.send(json.dumps(reply))
        except ConnectionClosed:
            pass  # the connector went away (closing, or reconnecting)
        finally:
            with self._lock:
                self._subscribed.pop(conn, None)


def _info() -> dict[str, Any]:
    return {"instanceId": "test", "name": "Streamer.bot", "version": "0.2.6", "os": "windows",
            "osVersion": "10", "mode": "standalone", "darkMode": True, "source": "websocketServer"}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{time.monotonic_ns() % 10**7:07d}+00:00"
