"""Connectors: where events come from besides the listener (docs/connectors.md)."""
