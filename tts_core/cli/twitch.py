"""`obs-tts twitch login|logout`: the Twitch connector's login (Twitch's device-code flow).

``login`` asks Twitch for a code for the scopes the chosen events need
(``connectors.twitch.events``), shows the code and the address to open, waits until the
streamer has entered it, and keeps the tokens in the data folder, readable by the user
only. The tokens are never printed or logged. ``logout`` forgets them.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from tts_core.config import TTSConfig
from tts_core.config.sections import TWITCH_EVENTS
from tts_core.connectors.twitch import tokens
from tts_core.connectors.twitch.mapping import scopes_for


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("twitch", help="log in to Twitch for the Twitch connector (or log out)")
    actions = p.add_subparsers(dest="twitch_command", metavar="ACTION", help="login or logout")
    actions.required = True
    login = actions.add_parser("login", help="log in with a code shown here (Twitch's device login)")
    login.add_argument("--config", type=Path, help="JSON config file (connectors.twitch: client_id, events)")
    login.add_argument("--client-id", help="the Client ID of your Twitch application (default: the config's)")
    login.add_argument("--data-dir", help="folder to keep the login in (default: the config's data_dir, "
                       "else the per-user data folder)")
    login.set_defaults(func=run_login)
    logout = actions.add_parser("logout", help="forget the stored Twitch login")
    logout.add_argument("--config", type=Path, help="JSON config file (its data_dir)")
    logout.add_argument("--data-dir", help="folder the login is kept in")
    logout.set_defaults(func=run_logout)


def _config(args: argparse.Namespace) -> TTSConfig:
    config = TTSConfig.load(args.config) if args.config else TTSConfig()
    if args.data_dir:
        config.data_dir = args.data_dir
    return config


def run_login(args: argparse.Namespace) -> int:
    config = _config(args)
    settings = config.connectors.twitch
    client_id = (args.client_id or settings.client_id).strip()
    if not client_id:
        raise ValueError(
            "no Client ID: set connectors.twitch.client_id (or pass --client-id); "
            "docs/connectors.md (Twitch) shows how to register the application"
        )
    scopes = scopes_for([kind for kind in TWITCH_EVENTS if settings.takes(kind)])
    stored = asyncio.run(_login(settings.auth_url, client_id, scopes))
    path = tokens.save(stored, tokens.token_path(config.data_dir))
    granted = ", ".join(stored.scopes) or "none"
    print(f"Logged in to Twitch as {stored.login or 'an account'} with scopes: {granted}")
    print(f"The login is kept in {path} (readable by you only); `obs-tts twitch logout` forgets it.")
    return 0


async def _login(auth_url: str, client_id: str, scopes: list[str]) -> tokens.Tokens:
    code = await tokens.start_login(auth_url, client_id, scopes)
    print(f"Open {code.verification_uri} and enter the code {code.user_code}", flush=True)
    print(
        f"Waiting for you to allow it (at most {code.expires_in / 60:.0f} minutes; Ctrl+C to stop)...",
        flush=True,
    )
    try:
        return await tokens.finish_login(auth_url, client_id, scopes, code)
    except tokens.LoginError as exc:
        raise RuntimeError(str(exc)) from None


def run_logout(args: argparse.Namespace) -> int:
    path = tokens.token_path(_config(args).data_dir)
    print(f"Forgot the Twitch login ({path})." if tokens.forget(path) else "No Twitch login was stored.")
    return 0
