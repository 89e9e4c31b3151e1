"""Twitch tokens: the device-code login, refresh, validation, and the file they live in.

Twitch's Device Code Grant needs no client secret (the streamer's application is a
public client): ``start_login`` asks ``<auth_url>/device`` for a code the streamer types
at the address shown; ``finish_login`` asks ``<auth_url>/token`` until they did. The
tokens are kept in ``twitch-tokens.json`` in the data folder, readable by the user only
(written as 0600, replaced atomically); ``refresh`` renews them before they expire.
Tokens are never logged, shown or put in an error message.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tts_core.config import default_data_dir

TOKEN_FILE = "twitch-tokens.json"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_AHEAD_SECONDS = 600.0  # renew a token that expires within 10 minutes
HTTP_TIMEOUT_SECONDS = 10.0


class LoginError(Exception):
    """The login or a refresh failed; the message says why (never with a token in it)."""


@dataclass
class Tokens:
    """A user's tokens for ``client_id``: ``expires_at`` in seconds since the epoch."""

    access_token: str
    refresh_token: str
    expires_at: float
    scopes: list[str] = field(default_factory=list)
    client_id: str = ""
    login: str = ""
    user_id: str = ""

    def __repr__(self) -> str:
        return (
            f"Tokens(client_id={self.client_id!r}, login={self.login!r}, scopes={self.scopes!r}, "
            f"expires_at={self.expires_at!r}, access_token='***', refresh_token='***')"
        )

    def expires_soon(self, now: float | None = None) -> bool:
        return self.expires_at - (time.time() if now is None else now) < REFRESH_AHEAD_SECONDS


def token_path(folder: Path | str | None = None) -> Path:
    """The token file in ``folder`` (a config's ``data_dir``; None: the data folder)."""
    return (Path(folder) if folder else default_data_dir()) / TOKEN_FILE


def load(path: Path | None = None) -> Tokens | None:
    """The stored tokens, or None when nobody logged in (or the file is unreadable)."""
    path = path or token_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Tokens(**{k: data[k] for k in Tokens.__dataclass_fields__ if k in data})
    except (OSError, ValueError, TypeError, KeyError):
        return None


def save(tokens: Tokens, path: Path | None = None) -> Path:
    """Write ``tokens`` readable by the user only (0600), replacing the file atomically."""
    path = path or token_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(tokens.__dict__, out)
        os.chmod(temporary, 0o600)  # an older file of that name kept its mode
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def forget(path: Path | None = None) -> bool:
    """Delete the stored tokens; True if there were any."""
    path = path or token_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


# -- Twitch's OAuth endpoints ---------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceCode:
    """What the streamer is shown (``user_code`` to type at ``verification_uri``) and what
    we poll with (``device_code``, every ``interval`` seconds, for ``expires_in``)."""

    device_code: str
    user_code: str
    verification_uri: str
    interval: float
    expires_in: float

    def __repr__(self) -> str:
        return f"DeviceCode(user_code={self.user_code!r}, verification_uri={self.verification_uri!r})"


async def _post(session: aiohttp.ClientSession, url: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
    async with session.post(url, data=form) as response:
        return response.status, await _body(response)


async def _body(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        data = await response.json(content_type=None)
    except (ValueError, aiohttp.ContentTypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_SECONDS))


async def start_login(auth_url: str, client_id: str, scopes: list[str]) -> DeviceCode:
    """Ask Twitch for a device code for ``scopes``."""
    async with _session() as session:
        status, data = await _post(
            session, f"{auth_url.rstrip('/')}/device", {"client_id": client_id, "scopes": " ".join(scopes)}
        )
    if status != 200 or not isinstance(data.get("device_code"), str):
        raise LoginError(
            f"Twitch refused the login (HTTP {status}: {_message(data)}); check "
            "connectors.twitch.client_id and that the application is a public client"
        )
    return DeviceCode(
        data["device_code"],
        str(data.get("user_code", "")),
        str(data.get("verification_uri", "")),
        float(data.get("interval", 5)),
        float(data.get("expires_in", 1800)),
    )


async def finish_login(auth_url: str, client_id: str, scopes: list[str], code: DeviceCode) -> Tokens:
    """Poll until the streamer has entered the code; the tokens (with their account)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + code.expires_in
    interval = max(0.05, code.interval)
    async with _session() as session:
        while True:
            status, data = await _post(
                session,
                f"{auth_url.rstrip('/')}/token",
                {
                    "client_id": client_id,
                    "scopes": " ".join(scopes),
                    "device_code": code.device_code,
                    "grant_type": DEVICE_GRANT,
                },
            )
            if status == 200 and isinstance(data.get("access_token"), str):
                tokens = _tokens(data, client_id)
                return await _with_account(session, auth_url, tokens)
            message = _message(data)
            if message == "slow_down":
                interval += 5
            elif message != "authorization_pending":
                raise LoginError(f"the login did not complete (HTTP {status}: {message})")
            if loop.time() + interval > deadline:
                raise LoginError("the code expired before it was entered; run the login again")
            await asyncio.sleep(interval)


async def refresh(auth_url: str, tokens: Tokens) -> Tokens:
    """New tokens for ``tokens`` (a public client sends no secret)."""
    async with _session() as session:
        status, data = await _post(
            session,
            f"{auth_url.rstrip('/')}/token",
            {
                "client_id": tokens.client_id,
                "grant_type": "refresh_token",
                "refresh_token": tokens.refresh_token,
            },
        )
        if status != 200 or not isinstance(data.get("access_token"), str):
            raise LoginError(
                f"Twitch refused to renew the login (HTTP {status}: {_message(data)}); "
                "run `obs-tts twitch login` again"
            )
        renewed = _tokens(data, tokens.client_id)
        renewed.login, renewed.user_id = tokens.login, tokens.user_id
        return await _with_account(session, auth_url, renewed)


async def validate(auth_url: str, access_token: str) -> dict[str, Any] | None:
    """Twitch's view of a token (``login``, ``user_id``, ``scopes``, ``expires_in``); None
    when it is no longer valid."""
    async with _session() as session:
        return await _validate(session, auth_url, access_token)


async def _validate(
    session: aiohttp.ClientSession, auth_url: str, access_token: str
) -> dict[str, Any] | None:
    async with session.get(
        f"{auth_url.rstrip('/')}/validate", headers={"Authorization": f"OAuth {access_token}"}
    ) as response:
        if response.status == 401:
            return None
        data = await _body(response)
        if response.status != 200:
            raise LoginError(f"Twitch could not check the login (HTTP {response.status}: {_message(data)})")
        return data


async def _with_account(session: aiohttp.ClientSession, auth_url: str, tokens: Tokens) -> Tokens:
    info = await _validate(session, auth_url, tokens.access_token)
    if info is None:
        raise LoginError("Twitch gave a token it does not accept; run the login again")
    tokens.login = str(info.get("login") or tokens.login)
    tokens.user_id = str(info.get("user_id") or tokens.user_id)
    if isinstance(info.get("scopes"), list):
        tokens.scopes = [str(s) for s in info["scopes"]]
    return tokens


def _tokens(data: dict[str, Any], client_id: str) -> Tokens:
    scope = data.get("scope")
    scopes = [str(s) for s in scope] if isinstance(scope, list) else str(scope or "").split()
    return Tokens(
        access_token=data["access_token"],
        refresh_token=str(data.get("refresh_token", "")),
        expires_at=time.time() + float(data.get("expires_in", 3600)),
        scopes=scopes,
        client_id=client_id,
    )


def _message(data: dict[str, Any]) -> str:
    message = data.get("message") or data.get("error") or "no reason given"
    return str(message)[:200]


def doctor_problem(
    auth_url: str, wanted_scopes: list[str], path: Path | None = None
) -> tuple[str | None, str]:
    """For ``obs-tts doctor``: (the problem or None, what the login is: account and scopes).
    Asks Twitch whether the stored token is valid; never shows the token."""
    stored = load(path)
    if stored is None:
        return "not logged in: run `obs-tts twitch login`", ""
    try:
        info = asyncio.run(validate(auth_url, stored.access_token))
    except (LoginError, aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
        return f"cannot check the login with Twitch: {exc.__class__.__name__}: {exc}", ""
    if info is None:
        if stored.refresh_token:
            return None, f"{stored.login}: the token expired; it is renewed at the next connection"
        return "the Twitch login expired: run `obs-tts twitch login` again", ""
    scopes = sorted(str(s) for s in info.get("scopes") or [])
    described = f"valid for {info.get('login') or stored.login}, scopes: {', '.join(scopes) or 'none'}"
    lacking = [s for s in wanted_scopes if s not in scopes]
    if lacking:
        return f"{described}; lacks {', '.join(lacking)}: run `obs-tts twitch login` again", described
    return None, described


class BackgroundLogin:
    """The device-code login on a thread of its own (for a button in OBS: the caller
    never waits). ``message`` says what to do or what happened, for the streamer: the
    address and the code, then the account logged in, or why not; ``on_done(tokens)``
    is called on that thread after the tokens are stored. Never a token in ``message``."""

    def __init__(
        self, auth_url: str, client_id: str, scopes: list[str], path: Path, on_done: Any = None
    ) -> None:
        self.auth_url, self.client_id, self.scopes, self.path = auth_url, client_id, scopes, path
        self.on_done = on_done
        self.message = "Twitch login: asking Twitch for a code..."
        self.finished = threading.Event()
        self.code_shown = threading.Event()  # set when ``message`` shows the code (or the login ended)
        self.succeeded = False
        self._thread = threading.Thread(target=self._run, name="tts-twitch-login", daemon=True)

    def start(self) -> BackgroundLogin:
        if not self.client_id.strip():
            self.message = "Twitch login: set the Client ID of your Twitch application first"
            self.finished.set()
            self.code_shown.set()
            return self
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            stored = asyncio.run(self._login())
            save(stored, self.path)
            self.succeeded = True
            self.message = f"Twitch login: logged in as {stored.login or 'your account'}"
            if self.on_done is not None:
                self.on_done(stored)
        except (LoginError, aiohttp.ClientError, OSError, asyncio.TimeoutError, ValueError) as exc:
            self.message = f"Twitch login failed: {exc}"
        finally:
            self.finished.set()
            self.code_shown.set()

    def code_ready(self, code: DeviceCode) -> None:
        """Twitch gave the code: ``message`` shows it (a subclass may also open a browser)."""
        self.message = f"Twitch login: open {code.verification_uri} and enter the code {code.user_code}"
        self.code_shown.set()

    async def _login(self) -> Tokens:
        code = await start_login(self.auth_url, self.client_id, self.scopes)
        self.code_ready(code)
        return await finish_login(self.auth_url, self.client_id, self.scopes, code)
