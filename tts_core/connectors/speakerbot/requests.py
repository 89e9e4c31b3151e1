"""What each Speaker.bot request does to the queue.

Runs on the server's command thread (never its event loop: a Speak writes the journal).
``Speak`` goes through the event translator as a listener event of type ``tts``, so
moderation, priorities, templates and voices apply exactly as to any other event.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from tts_core.connectors.speakerbot.protocol import (
    EVENT_SOURCE,
    EVENT_TYPES,
    REQUESTS,
    Request,
    RequestError,
    choice,
    error_reply,
    info_result,
    ok_reply,
    speak_fields,
    speak_result,
)
from tts_core.ingest.translator import StreamerBotIntegration
from tts_core.runtime.manager import TTSQueueManager

log = logging.getLogger(__name__)

MAX_NOTED = 100  # things logged once each (unknown voice aliases, ...), up to this many


class Client:
    """What one connection asked to be sent (Subscribe / UnSubscribe): kept to answer in
    Speaker.bot's shape; every client gets every event, subscribed or not."""

    def __init__(self, peer: str) -> None:
        self.peer = peer
        self.subscriptions: dict[str, list[str]] = {}


class Requests:
    """Answers requests. Parameters: ``manager``, ``integration`` (the event translator
    Speak goes through), ``instance_id`` (GetInfo's)."""

    def __init__(self, manager: TTSQueueManager, integration: StreamerBotIntegration,
                 instance_id: str) -> None:
        self.manager = manager
        self.integration = integration
        self.instance_id = instance_id
        self.events = True  # Events on/off and Mode all/command: kept and reported, see docs/speakerbot.md
        self.mode = "all"
        self._noted: set[str] = set()
        self._lock = threading.Lock()
        self._handlers: dict[str, Callable[[Request, Client | None], dict[str, Any] | None]] = {
            "Speak": self._speak, "Stop": self._stop, "Pause": self._pause, "Resume": self._resume,
            "Clear": self._clear, "Enable": self._enable, "Disable": self._disable, "Events": self._events,
            "Mode": self._mode, "GetInfo": self._info, "Commands": self._commands, "GetState": self._state,
            "GetAliases": self._aliases, "GetEvents": self._event_list, "Subscribe": self._subscribe,
            "UnSubscribe": self._unsubscribe,
        }

    def answer(self, request: Request, client: Client | None = None) -> dict[str, Any]:
        """The reply to ``request`` (from ``client``; None: a UDP datagram). Never raises."""
        handler = self._handlers.get(request.name) if request.known else None
        if handler is None:
            where = client.peer if client else "UDP"
            log.warning("speakerbot: unknown request %r from %s; answered with an error", request.name, where)
            return error_reply(request.id, f"unknown request {request.name!r}; this server answers "
                                           f"{', '.join(REQUESTS)}")
        try:
            return ok_reply(request.id, handler(request, client))
        except RequestError as exc:
            return error_reply(request.id, exc.message)
        except (ValueError, TypeError) as exc:
            return error_reply(request.id, f"{request.name}: {exc}")
        except RuntimeError as exc:  # QueueFull
            return error_reply(request.id, f"{request.name}: {exc}")
        except Exception:
            log.exception("speakerbot: %s failed", request.name)
            return error_reply(request.id, f"{request.name} failed; see the obs-tts log")

    # -- speech --------------------------------------------------------------------------------

    def _speak(self, request: Request, client: Client | None) -> dict[str, Any]:
        fields = speak_fields(request)
        alias = fields.alias
        if alias is not None and alias.casefold() not in self.integration.voices.aliases:
            self._note_alias(alias)
            alias = None
        # badWordFilter and silent are accepted and do not change anything (docs/speakerbot.md):
        # the streamer's moderation always applies, and every clip plays.
        if fields.silent:
            self._note_once("silent", "speakerbot: Speak with Silent: the clip plays in OBS like any other "
                            "(this queue has no silent mode); Finished still names its file")
        result = self.integration.submit("tts", {"text": fields.message, "voice": alias})
        if result.message_id is None or result.status != "ok":
            detail = result.detail or result.reason or "filtered"
            raise RequestError(f"not spoken: {detail}" + (f" ({result.stage})" if result.stage else ""),
                               request.id)
        if result.state == "rejected":
            raise RequestError("not spoken: TTS is disabled (Set Enabled State: enabled turns it on)",
                               request.id)
        return speak_result(result.message_id, result.text or fields.message, result.voice)

    def _note_alias(self, alias: str) -> None:
        self._note_once(f"alias:{alias.casefold()}", "speakerbot: voice alias %r is not in voices.aliases; "
                        "speaking it with the default voice (add \"%s\": \"<engine voice>\" to "
                        "voices.aliases)", alias, alias)

    def _note_once(self, key: str, message: str, *args: object) -> None:
        """Log ``message`` the first time ``key`` comes up (up to MAX_NOTED keys)."""
        with self._lock:
            if key in self._noted or len(self._noted) >= MAX_NOTED:
                return
            self._noted.add(key)
        log.warning(message, *args)

    # -- the queue ------------------------------------------------------------------------------

    def _stop(self, request: Request, client: Client | None) -> dict[str, Any]:
        stopped = self.manager.skip()
        return {"speechId": stopped} if stopped else {}

    def _pause(self, request: Request, client: Client | None) -> None:
        self.manager.pause()

    def _resume(self, request: Request, client: Client | None) -> None:
        self.manager.resume()

    def _clear(self, request: Request, client: Client | None) -> dict[str, Any]:
        return {"cleared": self.manager.clear()}

    def _enable(self, request: Request, client: Client | None) -> None:
        self.manager.enable()

    def _disable(self, request: Request, client: Client | None) -> None:
        self.manager.disable()

    def _events(self, request: Request, client: Client | None) -> None:
        self.events = choice(request, "state", ("on", "off")) == "on"

    def _mode(self, request: Request, client: Client | None) -> None:
        self.mode = choice(request, "mode", ("all", "command"))

    # -- looking ---------------------------------------------------------------------------------

    def _info(self, request: Request, client: Client | None) -> dict[str, Any]:
        return info_result(self.instance_id)

    def _commands(self, request: Request, client: Client | None) -> dict[str, Any]:
        return {"commands": list(REQUESTS)}

    def _state(self, request: Request, client: Client | None) -> dict[str, Any]:
        return {"enabled": self.manager.enabled, "events": self.events, "paused": self.manager.paused,
                "speaking": self.manager.now_playing is not None, "mode": self.mode}

    def _aliases(self, request: Request, client: Client | None) -> dict[str, Any]:
        aliases = self.integration.voices.config.aliases
        return {"aliases": [{"name": name, "voice": voice} for name, voice in aliases.items()]}

    def _event_list(self, request: Request, client: Client | None) -> dict[str, Any]:
        return {"events": {EVENT_SOURCE: list(EVENT_TYPES)}}

    def _subscribe(self, request: Request, client: Client | None) -> dict[str, Any]:
        events = _events_field(request)
        if client is not None:
            for source, names in events.items():
                known = client.subscriptions.setdefault(source, [])
                known.extend(n for n in names if n not in known)
        return {"events": events}

    def _unsubscribe(self, request: Request, client: Client | None) -> dict[str, Any]:
        events = _events_field(request)
        if client is not None:
            for source, names in events.items():
                if "*" in names or source == "*":
                    client.subscriptions.pop(source, None)
                else:
                    left = [n for n in client.subscriptions.get(source, []) if n not in names]
                    client.subscriptions[source] = left
        return {"events": events}


def _events_field(request: Request) -> dict[str, list[str]]:
    events = request.body.get("events")
    if not isinstance(events, dict) or not all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(n, str) for n in v)
            for k, v in events.items()):
        raise RequestError(f'{request.name} needs "events": {{"{EVENT_SOURCE}": ["Finished", ...]}}',
                           request.id)
    return {k: list(v) for k, v in events.items()}
