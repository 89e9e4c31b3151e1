"""Sound processing of clips: decode, measure loudness, make every voice equally loud.

``normalize_clip`` / ``normalize_audio`` (normalize.py) are the public entry points;
``loudness.py`` measures (ITU-R BS.1770-4 / EBU R128), ``decode.py`` reads and writes
clip files. numpy (and miniaudio for MP3, FLAC, Ogg Vorbis and float WAV) are imported
on first use, so the OBS script loads without them (clips then play as the engine made
them; see docs/engines.md, "Loudness").
"""
