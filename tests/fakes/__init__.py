"""Loopback servers that answer like the real cloud TTS services (docs/architecture.md, section 6).

They let the real client libraries (gTTS, the Azure Speech SDK, edge-tts) run their own
HTTP/websocket code offline against 127.0.0.1. Test infrastructure only.
"""
