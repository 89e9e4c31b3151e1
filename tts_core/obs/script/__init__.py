"""The OBS script side: what runs inside OBS and calls obspython on its threads."""
