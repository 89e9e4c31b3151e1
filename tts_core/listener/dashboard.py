"""The moderator dashboard the listener serves on ``GET /``: a page, its script and its
style, shipped inside the package (``listener/static/``), so it works offline.

The page talks to the listener over the same WebSocket protocol as bots (``GetQueue``,
``GetHistory``, ``GetStats``, ``Subscribe``, ``Approve``, ...). Served by the listener
itself, it has the listener's own origin, so the Origin check lets its WebSocket in
without allow-listing anything; with a token set, the page asks for it and sends it in
an ``Authenticate`` frame (never in a URL).
"""

from __future__ import annotations

# path -> (file in listener/static, content type)
DASHBOARD_FILES = {
    "/": ("dashboard.html", "text/html"),
    "/dashboard.js": ("dashboard.js", "text/javascript"),
    "/dashboard.css": ("dashboard.css", "text/css"),
}


def dashboard_csp(host_header: str) -> str:
    """The page's Content-Security-Policy: its own script and style, its own WebSocket
    only; no inline script (viewer text can never run), no framing by other pages."""
    return (f"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src ws://{host_header}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
