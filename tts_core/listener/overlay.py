"""The captions overlay the listener serves on ``GET /overlay``: a page for an OBS Browser
Source that shows who is being read and what, the word being spoken highlighted.

The page, its script and its style are files shipped inside the package
(``listener/static/overlay.*``), so it works offline. The script uses the public
WebSocket protocol (``Authenticate``, ``Subscribe``) and the ``words`` of
``playback_started`` events. Served by the listener itself, the page has the listener's
own origin, so its WebSocket is let in without allow-listing anything (and without the
unsafe ``null`` origin). With a token, open ``/overlay?token=...``: the page
authenticates with it.
"""

from __future__ import annotations

# path -> (file in listener/static, content type)
OVERLAY_FILES = {
    "/overlay": ("overlay.html", "text/html"),
    "/overlay.js": ("overlay.js", "text/javascript"),
    "/overlay.css": ("overlay.css", "text/css"),
}


def overlay_csp(host_header: str) -> str:
    """The page's Content-Security-Policy: its own script, its own WebSocket only. Inline
    styles stay allowed: OBS adds the Browser Source's custom CSS as a style element."""
    return (f"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"connect-src ws://{host_header}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
