"""The Connections group's "Log in to Twitch" button (no obspython here: the script calls it).

``start(app)`` runs Twitch's device-code login for the app's current settings on a thread
of its own (``tokens.BackgroundLogin``): once Twitch gives the code it opens the browser
at Twitch's page, which has the code filled in, and the log and the panel say the address
and the code; when the streamer has allowed it, the tokens are stored in the data folder
and the Twitch connector connects at once. The OBS thread never waits on the network
(``wait_for_code`` waits a moment, bounded, for the panel's label). Never a token shown.
"""

from __future__ import annotations

import logging
import threading
import webbrowser
from collections.abc import Callable
from typing import Any

from tts_core.config.sections import TWITCH_EVENTS
from tts_core.connectors.twitch import tokens
from tts_core.connectors.twitch.mapping import scopes_for

log = logging.getLogger(__name__)

_lock = threading.Lock()
_current: tokens.BackgroundLogin | None = None


def start(app: Any, open_browser: Callable[[str], Any] = webbrowser.open) -> tokens.BackgroundLogin:
    """Start a login for ``app`` (an ObsTTSApp: its manager's config and its connectors);
    one at a time: a login already waiting for the streamer is returned instead."""
    global _current
    with _lock:
        if _current is not None and _current.running:
            return _current
        manager = getattr(app, "manager", None)
        if manager is None:
            login = tokens.BackgroundLogin("", "", [], tokens.token_path())
            login.message = "Twitch login: the TTS queue is not running yet"
            login.finished.set()
            login.code_shown.set()
            return login
        config = manager.config
        settings = config.connectors.twitch
        scopes = scopes_for([kind for kind in TWITCH_EVENTS if settings.takes(kind)])

        def done(stored: tokens.Tokens) -> None:
            log.info("Twitch login: logged in as %s", stored.login or "your account")
            for connector in getattr(app, "connectors", []):
                if getattr(connector, "name", "") == "twitch":
                    connector.login_changed()

        login = _Login(
            settings.auth_url,
            settings.client_id,
            scopes,
            tokens.token_path(config.data_dir),
            on_done=done,
            open_browser=open_browser,
        )
        _current = login
    return login.start()


def message() -> str:
    """What the last login says ("" before any)."""
    login = _current
    return "" if login is None else login.message


def wait_for_code(login: tokens.BackgroundLogin, seconds: float = 3.0) -> str:
    """The login's message once it shows the code (or has ended), waiting at most ``seconds``."""
    login.code_shown.wait(seconds)
    return login.message


class _Login(tokens.BackgroundLogin):
    def __init__(self, *args: Any, open_browser: Callable[[str], Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_browser = open_browser

    def code_ready(self, code: tokens.DeviceCode) -> None:
        super().code_ready(code)
        log.info("%s", self.message)
        try:
            self.open_browser(code.verification_uri)
        except Exception as exc:  # noqa: BLE001 - no browser: the address is in the log and the panel
            log.info("Twitch login: could not open a browser (%s); open the address yourself", exc)
