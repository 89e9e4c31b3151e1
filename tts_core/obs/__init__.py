"""OBS Studio integration: the script's sink, settings and lifecycle, and the remote sink.

Nothing here imports ``obspython``: ``obs_tts_queue.py`` passes the module in (see
``ObsApi``), so all decisions are testable with a fake. ``remote`` drives a running
OBS over obs-websocket instead (``obs-tts serve --sink obs``).
"""
