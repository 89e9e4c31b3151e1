"""The Twitch connector: ``client`` (EventSub WebSocket + Helix), ``mapping`` (its events ->
ours), ``tokens`` (the device-code login and the token file)."""

from tts_core.connectors.twitch.client import TwitchConnector

__all__ = ["TwitchConnector"]
