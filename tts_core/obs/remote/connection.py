"""The remote sink's connection to obs-websocket: connect, reconnect with back-off, calls, events.

OBS away (not running, restarting, obs-websocket off, wrong password) is a state, not an
error to give up on: ``away`` says why in the streamer's words, ``reason()`` tries again
when the back-off (``Reconnect``) allows, and a call connects by itself. Each new
connection counts up ``generation``, so what was set up in OBS is checked again.

Events and the loss of the connection are handed to the handlers registered with
``on_event``/``on_lost``, on the client's receive thread: they must not send requests.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tts_core.obs.remote.client import (
    EVENTS_CONFIG,
    EVENTS_GENERAL,
    EVENTS_INPUTS,
    EVENTS_MEDIA_INPUTS,
    EVENTS_SCENES,
    CloseHandler,
    EventHandler,
    ObsAuthError,
    ObsConnectionError,
    ObsRequestFailed,
    ObsWebSocketClient,
)

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4455
DEFAULT_TIMEOUT_SECONDS = 5.0
HOST_ENV, PORT_ENV, PASSWORD_ENV = "OBS_WEBSOCKET_HOST", "OBS_WEBSOCKET_PORT", "OBS_WEBSOCKET_PASSWORD"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
EVENT_SUBSCRIPTIONS = EVENTS_GENERAL | EVENTS_CONFIG | EVENTS_SCENES | EVENTS_INPUTS | EVENTS_MEDIA_INPUTS
RECONNECT_FIRST_SECONDS = 0.5  # OBS away: try again after this, doubling ...
RECONNECT_MAX_SECONDS = 5.0  # ... up to this
RECONNECT_AUTH_SECONDS = 10.0  # a refused password: try again this often (it may be fixed in OBS)


@dataclass(frozen=True)
class ObsConnectionSettings:
    """Where obs-websocket is (OBS: Tools > WebSocket Server Settings): ``host``,
    ``port``, ``password`` ("" for none), ``timeout`` (seconds per request)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    password: str = ""
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    @classmethod
    def from_environment(cls, host: str | None = None, port: int | None = None, password: str | None = None,
                         timeout: float = DEFAULT_TIMEOUT_SECONDS,
                         environ: Mapping[str, str] | None = None) -> ObsConnectionSettings:
        """The values given; the missing ones from $OBS_WEBSOCKET_HOST, $OBS_WEBSOCKET_PORT,
        $OBS_WEBSOCKET_PASSWORD (``environ``, default os.environ), else the defaults."""
        env = os.environ if environ is None else environ
        return cls(host or env.get(HOST_ENV) or DEFAULT_HOST, port or int(env.get(PORT_ENV) or DEFAULT_PORT),
                   env.get(PASSWORD_ENV, "") if password is None else password, timeout)

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def is_local(self) -> bool:
        """Whether OBS runs on this computer (and so can read the clip files itself)."""
        return self.host in LOCAL_HOSTS


class Reconnect:
    """When to try connecting again: first at once, then after RECONNECT_FIRST_SECONDS,
    doubling up to RECONNECT_MAX_SECONDS (RECONNECT_AUTH_SECONDS after a refused
    password); reset by a success. Pure (time passed in)."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.next_at = 0.0

    def due(self, now: float) -> bool:
        return now >= self.next_at

    def failed(self, now: float, auth: bool = False) -> float:
        """Record a failed attempt; returns the seconds until the next one."""
        if auth:
            self.delay = RECONNECT_AUTH_SECONDS
        else:
            self.delay = min(max(self.delay * 2, RECONNECT_FIRST_SECONDS), RECONNECT_MAX_SECONDS)
        self.next_at = now + self.delay
        return self.delay

    def succeeded(self) -> None:
        self.delay = self.next_at = 0.0


def what_to_check(settings: ObsConnectionSettings, error: ObsConnectionError) -> str:
    """Why OBS is away, and what the streamer should check, in one stable sentence."""
    address = settings.address
    if isinstance(error, ObsAuthError):
        return (f"obs-websocket at {address} refused the password ({error}): set the password shown in "
                f"OBS under Tools > WebSocket Server Settings > Show Connect Info in ${PASSWORD_ENV}")
    return (f"OBS is not reachable at {address} ({error.kind}): check that OBS is running, that Tools > "
            f"WebSocket Server Settings has \"Enable WebSocket server\" on with port {settings.port}, "
            "and the password")


ClientFactory = Callable[[ObsConnectionSettings, EventHandler, CloseHandler], ObsWebSocketClient]
LostHandler = Callable[[str], None]


def websocket_client(settings: ObsConnectionSettings, on_event: EventHandler,
                     on_close: CloseHandler) -> ObsWebSocketClient:
    return ObsWebSocketClient(settings.host, settings.port, settings.password, settings.timeout,
                              EVENT_SUBSCRIPTIONS, on_event=on_event, on_close=on_close)


class ObsConnection:
    """One obs-websocket connection at a time, made again whenever it is needed.

    Parameters: ``settings`` (ObsConnectionSettings), ``client_factory`` (builds the
    client from the settings and the event and close handlers; tests), ``clock``
    (monotonic seconds, for the back-off).
    """

    def __init__(self, settings: ObsConnectionSettings, client_factory: ClientFactory = websocket_client,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self.away: str | None = None  # why OBS is away (None: connected, or never tried)
        self.generation = 0  # counts the connections made
        self._client_factory = client_factory
        self._client: ObsWebSocketClient | None = None
        self._lock = threading.Lock()
        self._reconnect = Reconnect()
        self._event_handlers: list[EventHandler] = []
        self._lost_handlers: list[LostHandler] = []

    @property
    def address(self) -> str:
        return self.settings.address

    def on_event(self, handler: EventHandler) -> None:
        """Call ``handler(event_type, event_data)`` for every event (receive thread)."""
        self._event_handlers.append(handler)

    def on_lost(self, handler: LostHandler) -> None:
        """Call ``handler(reason)`` when OBS closes or drops the connection (receive thread)."""
        self._lost_handlers.append(handler)

    # -- connecting ----------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        client = self._client
        return client is not None and client.connected

    def connect(self) -> None:
        """Connect now unless connected; raises ObsConnectionError (ObsAuthError for a
        refused password)."""
        with self._lock:
            if self.connected:
                return
            self._drop_client()
            client = self._client_factory(self.settings, self._event, self._closed)
            try:
                client.connect()
            except ObsConnectionError as exc:
                self._reconnect.failed(self.clock(), auth=isinstance(exc, ObsAuthError))
                self._set_away(what_to_check(self.settings, exc))
                raise
            self._client = client
            self._reconnect.succeeded()
            self.generation += 1
        self.away = None
        log.info("connected to obs-websocket %s at %s", client.server_version or "?", self.address)

    def reason(self) -> str | None:
        """None when connected; else why not, after one more attempt if the back-off
        allows it now."""
        if self.connected:
            return None
        if not self._reconnect.due(self.clock()):
            return self.away or f"waiting to reconnect to OBS at {self.address}"
        try:
            self.connect()
        except ObsConnectionError as exc:
            return self.away or str(exc)
        return None

    def close(self) -> None:
        with self._lock:
            self._drop_client()

    # -- requests ----------------------------------------------------------------------------

    def call(self, request_type: str, **data: Any) -> dict[str, Any]:
        """One request; returns its responseData. Connects if needed.

        Raises ObsRequestFailed (OBS said no) or ObsConnectionError (OBS away).
        """
        answer = self.call_all([(request_type, data)])[0]
        if isinstance(answer, ObsRequestFailed):
            raise answer
        return answer

    def call_all(self, requests: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any] | ObsRequestFailed]:
        """Several requests in one round trip; each answer is its responseData or the
        ObsRequestFailed OBS answered. Connects if needed; raises ObsConnectionError."""
        self.connect()
        client = self._client
        if client is None:
            raise ObsConnectionError("not connected to OBS")
        try:
            return client.call_all(requests)
        except ObsConnectionError as exc:
            if exc.kind == "no answer":  # OBS hangs (or the network): start over with a new connection
                with self._lock:
                    if self._client is client:
                        self._drop_client()
                self._reconnect.failed(self.clock())
                self._set_away(what_to_check(self.settings, exc))
            raise

    # -- the client's receive thread ----------------------------------------------------------

    def _event(self, name: str, data: dict[str, Any]) -> None:
        for handler in self._event_handlers:
            handler(name, data)

    def _closed(self, reason: str) -> None:
        if self._client is None:
            return  # closed by us
        self.away = f"lost the connection to obs-websocket at {self.address} ({reason}); reconnecting"
        log.info("OBS sink: %s", self.away)  # the player warns, as "waiting for OBS: ..."
        for handler in self._lost_handlers:
            handler(reason)

    # -- helpers --------------------------------------------------------------------------------

    def _set_away(self, reason: str) -> None:
        if reason != self.away:  # the player logs it, as "waiting for OBS: <reason>"
            log.debug("OBS sink: %s", reason)
        self.away = reason

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
