"""Driving a running OBS over obs-websocket v5: the client, the sink, the clip server."""
