"""OBS Studio integration: the in-OBS script's parts and the remote sink.

Nothing here imports ``obspython``: ``obs_tts_queue.py`` passes the module in (see
``ObsApi``), so all decisions are testable with a fake. Inside OBS, ``ObsMediaSink``
drives a clip on the media source that ``script.media_source.MediaSourceKeeper`` keeps
right. Outside OBS (``obs-tts serve --sink obs``), ``remote.RemoteObsSink`` drives it
over obs-websocket through ``remote_connection`` and ``remote_media_source``. Both
share the clip state machine (``clip_state``) and the captions.
"""
