"""A small obs-websocket v5 client on the ``websockets`` sync client.

Protocol (obs-websocket 5.x, RPC version 1; its docs/generated/protocol.md upstream,
https://github.com/obsproject/obs-websocket): the server sends Hello (op 0, with
``authentication: {challenge, salt}`` when a password is set), the client answers
Identify (op 1, ``rpcVersion``, ``authentication``, ``eventSubscriptions``), the server
confirms with Identified (op 2). Then requests (op 6, ``requestId``) get RequestResponse
(op 7) and events arrive as op 5. A wrong password closes the connection with code 4009.

One receive thread per connection answers waiting requests and hands events to
``on_event``; requests may come from any other thread. ``on_event`` and ``on_close``
run on the receive thread: they must not send requests (they would wait for the very
thread that has to deliver the answer).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

log = logging.getLogger(__name__)

RPC_VERSION = 1
SUBPROTOCOL = Subprotocol("obswebsocket.json")
OP_HELLO, OP_IDENTIFY, OP_IDENTIFIED, OP_EVENT, OP_REQUEST, OP_RESPONSE = 0, 1, 2, 5, 6, 7
CLOSE_AUTHENTICATION_FAILED = 4009
CLOSE_UNSUPPORTED_RPC_VERSION = 4010
# eventSubscriptions bits (obs-websocket protocol, EventSubscription)
EVENTS_GENERAL, EVENTS_CONFIG, EVENTS_SCENES, EVENTS_INPUTS = 1 << 0, 1 << 1, 1 << 2, 1 << 3
EVENTS_MEDIA_INPUTS = 1 << 8

EventHandler = Callable[[str, dict[str, Any]], None]
CloseHandler = Callable[[str], None]


class ObsConnectionError(RuntimeError):
    """OBS cannot be reached, or the connection was lost. ``kind`` is a short, stable
    description ("connection refused", "no answer", "connection lost", ...)."""

    def __init__(self, message: str, kind: str = "connection lost") -> None:
        super().__init__(message)
        self.kind = kind


class ObsAuthError(ObsConnectionError):
    """obs-websocket refused the password (or wants one and none is set)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "wrong password")


class ObsRequestFailed(RuntimeError):
    """OBS answered a request with an error (requestStatus.result false)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


def authentication_string(password: str, salt: str, challenge: str) -> str:
    """base64(sha256(base64(sha256(password + salt)) + challenge)), as obs-websocket asks."""
    secret = base64.b64encode(hashlib.sha256((password + salt).encode()).digest()).decode()
    return base64.b64encode(hashlib.sha256((secret + challenge).encode()).digest()).decode()


class ObsWebSocketClient:
    """Parameters: ``host``, ``port``, ``password`` ("" for none), ``timeout`` (seconds
    for the handshake and per request), ``event_subscriptions`` (bit mask),
    ``on_event(event_type, event_data)``, ``on_close(reason)`` (both on the receive
    thread; on_close once per connection that was identified)."""

    def __init__(self, host: str, port: int, password: str = "", timeout: float = 5.0,
                 event_subscriptions: int = EVENTS_GENERAL | EVENTS_MEDIA_INPUTS,
                 on_event: EventHandler | None = None, on_close: CloseHandler | None = None) -> None:
        self.host, self.port, self.password, self.timeout = host, port, password, timeout
        self.event_subscriptions = event_subscriptions
        self.on_event = on_event
        self.on_close = on_close
        self.server_version = ""
        self._ws: ClientConnection | None = None
        self._receiver: threading.Thread | None = None
        self._pending: dict[str, Future[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closed_reason: str | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._closed_reason is None

    # -- connection -----------------------------------------------------------------

    def connect(self) -> None:
        """Open and identify; raises ObsAuthError, ObsConnectionError."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        stack = contextlib.ExitStack()  # connect() as a context manager: websockets 14 to 17
        try:
            ws = stack.enter_context(connect(f"ws://{host}:{self.port}", subprotocols=[SUBPROTOCOL],
                                             open_timeout=self.timeout, close_timeout=1.0, max_size=None,
                                             compression=None))
        except ConnectionRefusedError:
            raise ObsConnectionError(f"{self.address}: connection refused", "connection refused") from None
        except TimeoutError:
            raise ObsConnectionError(f"{self.address}: no answer within {self.timeout:g} s", "no answer") \
                from None
        except (OSError, InvalidHandshake, InvalidURI, ConnectionClosed) as exc:
            raise ObsConnectionError(f"{self.address}: {exc or type(exc).__name__}", "not obs-websocket") \
                from None
        try:
            self._identify(ws)
        except BaseException:
            stack.close()
            raise
        self._closed_reason = None
        self._ws = ws
        self._receiver = threading.Thread(target=self._receive, args=(ws, stack), name="tts-obs-websocket",
                                          daemon=True)
        self._receiver.start()

    def _identify(self, ws: ClientConnection) -> None:
        try:
            hello = self._expect(ws, OP_HELLO)
            identify: dict[str, Any] = {"rpcVersion": RPC_VERSION,
                                        "eventSubscriptions": self.event_subscriptions}
            auth = hello.get("authentication")
            if auth:
                if not self.password:
                    raise ObsAuthError(f"obs-websocket at {self.address} asks for a password and none is set")
                identify["authentication"] = authentication_string(self.password, auth["salt"],
                                                                   auth["challenge"])
            ws.send(json.dumps({"op": OP_IDENTIFY, "d": identify}))
            self._expect(ws, OP_IDENTIFIED)
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            if code == CLOSE_AUTHENTICATION_FAILED:
                raise ObsAuthError(f"obs-websocket at {self.address} refused the password") from None
            if code == CLOSE_UNSUPPORTED_RPC_VERSION:
                raise ObsConnectionError(f"obs-websocket at {self.address} does not speak protocol v5 "
                                         "(OBS 28 or newer needed)", "not obs-websocket v5") from None
            raise ObsConnectionError(f"{self.address}: closed during the handshake ({exc})",
                                     "closed the connection") from None
        except TimeoutError:
            raise ObsConnectionError(f"{self.address}: no Hello/Identified within {self.timeout:g} s",
                                     "no answer") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ObsConnectionError(f"{self.address}: not an obs-websocket v5 server ({exc})",
                                     "not obs-websocket v5") from None
        self.server_version = str(hello.get("obsWebSocketVersion", ""))

    def _expect(self, ws: ClientConnection, op: int) -> dict[str, Any]:
        frame = json.loads(ws.recv(timeout=self.timeout))
        if frame.get("op") != op:
            raise ValueError(f"expected op {op}, got {frame.get('op')}")
        data: dict[str, Any] = frame.get("d") or {}
        return data

    def close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.close()
        receiver, self._receiver = self._receiver, None
        if receiver is not None and receiver is not threading.current_thread():
            receiver.join(2.0)

    # -- requests ---------------------------------------------------------------------

    def call(self, request_type: str, data: dict[str, Any] | None = None,
             timeout: float | None = None) -> dict[str, Any]:
        """One request; returns its responseData. Raises ObsRequestFailed (OBS said no,
        with its comment) or ObsConnectionError (not connected, lost, no answer)."""
        answer = self.call_all([(request_type, data or {})], timeout)[0]
        if isinstance(answer, ObsRequestFailed):
            raise answer
        return answer

    def call_all(self, requests: list[tuple[str, dict[str, Any]]],
                 timeout: float | None = None) -> list[dict[str, Any] | ObsRequestFailed]:
        """Several requests sent at once (one round trip); for each, its responseData or
        the ObsRequestFailed OBS answered. Raises ObsConnectionError."""
        ws = self._ws
        names = ", ".join(kind for kind, _ in requests)
        if ws is None or self._closed_reason is not None:
            raise ObsConnectionError(f"{names}: not connected to OBS")
        waiting: list[tuple[str, Future[dict[str, Any]]]] = []
        with self._lock:
            for _ in requests:
                request_id = str(next(self._ids))
                self._pending[request_id] = Future()
                waiting.append((request_id, self._pending[request_id]))
        limit = self.timeout if timeout is None else timeout
        try:
            for (request_id, _), (kind, data) in zip(waiting, requests, strict=True):
                ws.send(json.dumps({"op": OP_REQUEST, "d": {"requestType": kind, "requestId": request_id,
                                                            "requestData": data}}))
            responses = [answer.result(limit) for _, answer in waiting]
        except FutureTimeout:
            raise ObsConnectionError(f"{names}: no answer from OBS within {limit:g} s", "no answer") from None
        except ConnectionClosed as exc:
            raise ObsConnectionError(f"{names}: lost the connection to OBS ({exc})") from None
        finally:
            with self._lock:
                for request_id, _ in waiting:
                    self._pending.pop(request_id, None)
        return [_response_data(kind, response)
                for (kind, _), response in zip(requests, responses, strict=True)]

    # -- the receive thread -------------------------------------------------------------

    def _receive(self, ws: ClientConnection, stack: contextlib.ExitStack) -> None:
        reason = "closed"
        with stack:
            try:
                for text in ws:
                    self._dispatch(text)
            except ConnectionClosed as exc:
                reason = _close_reason(exc)
            except Exception as exc:  # noqa: BLE001 - whatever breaks, the connection is over
                reason = f"{type(exc).__name__}: {exc}"
            else:
                received = ws.close_code
                reason = f"closed by OBS (code {received})" if received is not None else "closed"
        self._closed_reason = reason
        with self._lock:
            pending, self._pending = list(self._pending.values()), {}
        for answer in pending:
            answer.set_exception(ObsConnectionError(f"lost the connection to OBS ({reason})"))
        if self.on_close is not None:
            try:
                self.on_close(reason)
            except Exception:
                log.exception("obs-websocket close handler failed")

    def _dispatch(self, text: str | bytes) -> None:
        try:
            frame = json.loads(text)
            op, data = frame["op"], frame.get("d") or {}
        except (ValueError, KeyError, TypeError):
            log.warning("obs-websocket sent a frame that is not JSON with op/d; ignored")
            return
        if op == OP_RESPONSE:
            with self._lock:
                answer = self._pending.get(str(data.get("requestId")))
            if answer is not None and not answer.done():
                answer.set_result(data)
        elif op == OP_EVENT and self.on_event is not None:
            try:
                self.on_event(str(data.get("eventType", "")), dict(data.get("eventData") or {}))
            except Exception:
                log.exception("obs-websocket event handler failed on %s", data.get("eventType"))


def _response_data(request_type: str, response: dict[str, Any]) -> dict[str, Any] | ObsRequestFailed:
    status = response.get("requestStatus") or {}
    if not status.get("result"):
        reason = status.get("comment") or f"code {status.get('code')}"
        return ObsRequestFailed(f"{request_type} failed: {reason}", status.get("code"))
    return dict(response.get("responseData") or {})


def _close_reason(exc: ConnectionClosed) -> str:
    """Why the connection ended, in words: OBS's close reason, or a broken connection."""
    if exc.rcvd is None:
        return "the connection broke: OBS quit, crashed or the network dropped"
    return f"closed by OBS: {exc.rcvd.reason or 'no reason given'} (code {exc.rcvd.code})"
