"""The Streamlabs connector: ``client`` (the Socket API client), ``mapping`` (its events -> ours)."""

from tts_core.connectors.streamlabs.client import StreamlabsConnector

__all__ = ["StreamlabsConnector"]
