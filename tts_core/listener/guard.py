"""The listener's defences, sans-I/O: which Host names and browser Origins are let in,
how many wrong tokens one client address may try, how many connections the process
can afford, and a log filter that keeps a flood from writing thousands of lines.

No sockets here; ``server`` asks these before it serves anything.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

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


# -- wrong tokens -----------------------------------------------------------------------------


@dataclass
class _Attempts:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class TokenAttempts:
    """Counts wrong tokens per client address: after ``max_failures`` within ``window``
    seconds, that address's token attempts are refused for ``lockout`` seconds (a
    right token included, so guessing gains nothing). Clock: monotonic seconds.
    """

    def __init__(self, max_failures: int = MAX_FAILED_TOKENS, window: float = FAILED_TOKEN_WINDOW,
                 lockout: float = TOKEN_LOCKOUT_SECONDS) -> None:
        self.max_failures = max_failures
        self.window = window
        self.lockout = lockout
        self._clients: dict[str, _Attempts] = {}

    def locked(self, client: str, now: float | None = None) -> float:
        """Seconds until ``client`` may try a token again (0: now)."""
        now = time.monotonic() if now is None else now
        entry = self._clients.get(client)
        return max(0.0, entry.locked_until - now) if entry else 0.0

    def record(self, client: str, ok: bool, now: float | None = None) -> None:
        """Note one token attempt; logs wrong ones (never the token) and the lock-out."""
        now = time.monotonic() if now is None else now
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

    def for_client(self, client: str) -> ClientAttempts:
        return ClientAttempts(self, client)

    def _forget_old(self, now: float) -> None:
        for client, entry in list(self._clients.items()):
            if entry.locked_until <= now and all(now - t >= self.window for t in entry.failures):
                del self._clients[client]
        while len(self._clients) >= MAX_TRACKED_ADDRESSES:  # all recent: drop the oldest entries
            del self._clients[next(iter(self._clients))]


@dataclass(frozen=True)
class ClientAttempts:
    """One client address's view of TokenAttempts (what a Session needs)."""

    attempts: TokenAttempts
    client: str

    def locked(self, now: float | None = None) -> float:
        return self.attempts.locked(self.client, now)

    def record(self, ok: bool, now: float | None = None) -> None:
        self.attempts.record(self.client, ok, now)


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
