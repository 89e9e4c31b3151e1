"""The listener's defences, sans-I/O: the one ``Gate`` every request passes (Host,
Origin, token), how many wrong tokens one client address may try, how many connections
the process can afford, and a log filter that keeps a flood from writing thousands of
lines.

No sockets here; ``server`` asks the gate before it serves anything, and a ``Session``
checks an ``Authenticate`` frame's token with the same ``TokenCheck``.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tts_core.config import ListenerConfig
from tts_core.listener.protocol import ErrorCode, ProtocolError, error_reply

log = logging.getLogger(__name__)

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
NULL_ORIGIN = "null"
MAX_FAILED_TOKENS = 5  # wrong tokens from one address within FAILED_TOKEN_WINDOW ...
FAILED_TOKEN_WINDOW = 60.0
TOKEN_LOCKOUT_SECONDS = 60.0  # ... refuse its token attempts this long
MAX_TRACKED_ADDRESSES = 10_000
FD_SHARE_FOR_CONNECTIONS = 0.5  # leave the other half of the descriptor limit to the queue and engines


# -- Host and Origin ----------------------------------------------------------------------


_HOST_HEADER = re.compile(r"(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::[0-9]{1,5})?")


def host_name(host_header: str) -> str:
    """The name of a ``Host`` header without its port, lower-case ("[::1]:8765" -> "::1")."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HostAllowList:
    """The Host names a request may carry (against DNS rebinding: a web page whose own
    domain was re-pointed at 127.0.0.1 sends that domain as Host).

    Allowed: no Host at all (programs; every browser sends one), IP addresses (a
    rebinding page always has a domain name), ``localhost``, the configured listener
    host and the ``extra`` names (``listener.allowed_hosts``).
    """

    names: frozenset[str]

    @classmethod
    def build(cls, listener_host: str, extra: Iterable[str] = ()) -> HostAllowList:
        names = {*LOOPBACK_NAMES, host_name(listener_host), *(host_name(x) for x in extra)}
        return cls(frozenset(n for n in names if n))

    def allows(self, host_header: str | None) -> bool:
        if host_header is None:
            return True
        if not _HOST_HEADER.fullmatch(host_header):
            return False
        name = host_name(host_header)
        return name in self.names or _is_ip(name)


def usable_origins(allowed_origins: Iterable[str]) -> list[str]:
    """``listener.allowed_origins`` without ``"null"``: every website can send Origin null
    (from a sandboxed iframe), so allowing it would let any page make the stream speak."""
    usable = []
    for origin in allowed_origins:
        if origin.strip().lower() == NULL_ORIGIN:
            log.warning('listener.allowed_origins: "null" is ignored (any website\'s sandboxed iframe '
                        "sends it); load the overlay from the listener itself: GET /overlay")
            continue
        usable.append(origin)
    return usable


def same_origin(origin: str, host_header: str | None) -> bool:
    """True if ``origin`` is the listener's own (a page it served itself, e.g. /overlay)."""
    if host_header is None:
        return False
    return origin.strip().rstrip("/").lower() == f"http://{host_header.strip().lower()}"


def origin_allowed(origin: str | None, allowed: Iterable[str]) -> bool:
    """Requests without an Origin header come from programs (bots, curl) and are allowed;
    a browser page always sends one, and only allow-listed origins get in (so a web page
    the streamer visits cannot make the stream speak)."""
    if origin is None:
        return True
    wanted = origin.strip().rstrip("/").lower()
    return any(wanted == item.strip().rstrip("/").lower() for item in allowed)


# -- wrong tokens -----------------------------------------------------------------------------


@dataclass
class _Attempts:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class TokenAttempts:
    """Counts wrong tokens per client address: after ``max_failures`` within ``window``
    seconds, that address's token attempts are refused for ``lockout`` seconds (a
    right token included, so guessing gains nothing). ``now``: monotonic seconds.
    """

    def __init__(self, max_failures: int = MAX_FAILED_TOKENS, window: float = FAILED_TOKEN_WINDOW,
                 lockout: float = TOKEN_LOCKOUT_SECONDS) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self._clients: dict[str, _Attempts] = {}

    def locked(self, client: str, now: float) -> float:
        """Seconds until ``client`` may try a token again (0: now)."""
        entry = self._clients.get(client)
        return max(0.0, entry.locked_until - now) if entry else 0.0

    def record(self, client: str, ok: bool, now: float) -> None:
        """Note one token attempt; logs wrong ones (never the token) and the lock-out."""
        if ok:  # failures still count: a guesser sharing the address with a bot gains nothing
            return
        if len(self._clients) >= MAX_TRACKED_ADDRESSES:
            self._forget_old(now)
        entry = self._clients.setdefault(client, _Attempts())
        entry.failures = [t for t in entry.failures if now - t < self.window] + [now]
        if len(entry.failures) >= self.max_failures:
            entry.failures.clear()
            entry.locked_until = now + self.lockout
            log.warning("listener: %d wrong tokens from %s within %g s; refusing its token attempts for %g s",
                        self.max_failures, client, self.window, self.lockout)
        else:
            log.warning("listener: wrong token from %s (%d of %d before a %g s lock-out)", client,
                        len(entry.failures), self.max_failures, self.lockout)

    def _forget_old(self, now: float) -> None:
        for client, entry in list(self._clients.items()):
            if entry.locked_until <= now and all(now - t >= self.window for t in entry.failures):
                del self._clients[client]
        while len(self._clients) >= MAX_TRACKED_ADDRESSES:  # all recent: drop the oldest entries
            del self._clients[next(iter(self._clients))]


class TokenCheck:
    """The listener's token and the wrong-token lock-out in one place: every token a
    client offers (an ``Authorization: Bearer`` header, ``?token=`` in the URL, an
    ``Authenticate`` frame) is checked here, so all of them count toward the lock-out.

    Parameters: ``token`` (the secret; "" = none required), ``attempts`` (wrong tokens
    per client address; default: a new TokenAttempts), ``clock`` (monotonic seconds).
    """

    def __init__(self, token: str = "", attempts: TokenAttempts | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.token = token
        self.attempts = attempts if attempts is not None else TokenAttempts()
        self.clock = clock

    @property
    def required(self) -> bool:
        return bool(self.token)

    def check(self, given: str, address: str, frame_id: object = None) -> None:
        """Raise ProtocolError (too_many_attempts while ``address`` is locked out, unauthorized
        for a wrong token) unless ``given`` is the token; no token required: always passes."""
        if not self.token:
            return
        now = self.clock()
        wait = self.attempts.locked(address, now)
        if wait > 0:
            raise ProtocolError(ErrorCode.TOO_MANY_ATTEMPTS, "too many wrong tokens from this address; "
                                f"try again in {wait:.0f} s", frame_id)
        ok = hmac.compare_digest(given.encode("utf-8", "replace"), self.token.encode("utf-8"))
        self.attempts.record(address, ok, now)
        if not ok:
            raise ProtocolError(ErrorCode.UNAUTHORIZED, "wrong token", frame_id)


# -- the gate ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visitor:
    """What the gate looks at in a request: its ``host`` and ``origin`` headers, the
    ``token`` it carries (header or URL; None: none), and the client's ``address``."""

    host: str | None
    origin: str | None
    token: str | None
    address: str


class Gate:
    """The one gate of HTTP and WebSocket alike: ``admit`` checks the Host (against DNS
    rebinding) and the Origin (against browser pages) of every request; ``check_token``
    the token a request carries, where one is needed (a WebSocket handshake, ``POST
    /event``). Each returns None (pass) or the error reply to answer with.

    Parameters: ``hosts``, ``origins`` (allow-listed, without "null"), ``tokens``.
    """

    def __init__(self, hosts: HostAllowList, origins: Iterable[str], tokens: TokenCheck) -> None:
        self.hosts = hosts
        self.origins = list(origins)
        self.tokens = tokens

    @classmethod
    def build(cls, config: ListenerConfig, attempts: TokenAttempts,
              clock: Callable[[], float] = time.monotonic) -> Gate:
        """The gate ``config`` asks for; ``attempts`` outlives it (a new config keeps the lock-outs)."""
        hosts = HostAllowList.build(config.host, config.allowed_hosts)
        return cls(hosts, usable_origins(config.allowed_origins), TokenCheck(config.token, attempts, clock))

    def admit(self, visitor: Visitor, what: str) -> dict[str, Any] | None:
        """Host, then Origin; ``what`` names the request in the log ("GET /health")."""
        host, origin = visitor.host, visitor.origin
        if not self.hosts.allows(host):
            log.warning("listener: refused %s for Host %r (not in listener.allowed_hosts)", what, host)
            hint = f"Host {host} is not served here (add it to listener.allowed_hosts if it is this machine)"
            return error_reply(None, ErrorCode.FORBIDDEN_HOST, hint)
        if origin is not None and not origin_allowed(origin, self.origins) and not same_origin(origin, host):
            log.warning("listener: refused %s from origin %s (not in listener.allowed_origins)", what, origin)
            hint = f"origin {origin} is not in listener.allowed_origins"
            return error_reply(None, ErrorCode.FORBIDDEN_ORIGIN, hint)
        return None

    def check_token(self, visitor: Visitor) -> dict[str, Any] | None:
        """A token the request carries must be right (a request without one authenticates
        later, with an ``Authenticate`` frame, or is refused by its session)."""
        if visitor.token is None:
            return None
        try:
            self.tokens.check(visitor.token, visitor.address)
        except ProtocolError as exc:
            return error_reply(None, exc.code, exc.message)
        return None

# -- resources -------------------------------------------------------------------------------


def affordable_connections(configured: int) -> int:
    """``listener.max_connections``, lowered to half of this process's open-file limit so
    that the journal, clip files and engine subprocesses keep descriptors even when
    clients take every connection the listener allows."""
    try:
        import resource
    except ImportError:  # Windows: no descriptor limit of this kind
        return configured
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return configured
    return max(1, min(configured, int(soft * FD_SHARE_FOR_CONNECTIONS)))


class RateLimitedLog(logging.Filter):
    """Lets at most ``burst`` records with the same logger and message template through
    per ``interval`` seconds; the first one after a quiet spell says how many were
    dropped. Keeps a flood (bad requests, descriptor exhaustion) to a few lines."""

    def __init__(self, burst: int = 5, interval: float = 10.0) -> None:
        super().__init__()
        self.burst = burst
        self.interval = interval
        self._windows: dict[tuple[str, str], list[float]] = {}  # key -> [window start, count, suppressed]

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg))
        now = time.monotonic()
        window = self._windows.get(key)
        if window is None or now - window[0] >= self.interval:
            suppressed = int(window[2]) if window else 0
            if len(self._windows) > 1000:
                self._windows.clear()
            self._windows[key] = [now, 1, 0]
            if suppressed:
                record.msg = f"{record.getMessage()} ({suppressed} more like this in the last " \
                             f"{self.interval:g} s were not logged)"
                record.args = None
            return True
        window[1] += 1
        if window[1] <= self.burst:
            return True
        window[2] += 1
        return False

    def forget(self) -> None:
        """Start counting afresh (a new listener in the same process, e.g. in tests)."""
        self._windows.clear()


_SECRETS = re.compile(r"(token=|bearer\s+)[^\s&'\"\\]+", re.IGNORECASE)


class OneLine(logging.Filter):
    """Turns a record's traceback into one line ("...: the error"): for aiohttp's reports
    of malformed requests, which are the client's mistake, not a bug to debug."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            text = _SECRETS.sub(r"\1***", " ".join(str(error).split()))  # it may quote the request
            record.msg = f"{record.getMessage()}: {type(error).__name__}: {text[:200]}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def install_log_limits(names: Iterable[str], flt: logging.Filter) -> None:
    """Attach ``flt`` to these loggers (once per filter type; idempotent)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, type(flt)) for f in logger.filters):
            logger.addFilter(flt)
