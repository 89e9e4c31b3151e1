"""OBS's media source as both the in-OBS script and the remote sink set it up.

The kind of source clips play on, and the settings forced on it so that one clip plays
once, as soon as it is set (OBS 29-32 use the same keys).
"""

MEDIA_SOURCE_KIND = "ffmpeg_source"

# Settings forced on the media source: one clip, started as soon as it is set.
MEDIA_PLAYBACK_SETTINGS = {"is_local_file": True, "looping": False, "restart_on_activate": False,
                           "close_when_inactive": False}
# How OBS's media source properties call them (for messages to the streamer).
SETTING_LABELS = {"is_local_file": "Local File", "looping": "Loop",
                  "restart_on_activate": "Restart playback when source becomes active",
                  "close_when_inactive": "Close file when inactive"}
