"""The StreamElements connector: ``client`` (Astro WebSocket gateway), ``mapping`` (its
activities and tips -> ours)."""

from tts_core.connectors.streamelements.client import StreamElementsConnector

__all__ = ["StreamElementsConnector"]
