"""The captions overlay the listener serves on ``GET /overlay``: a small page for an OBS
Browser Source that shows who is being read and what, over the WebSocket ``Subscribe``.

Served by the listener itself, the page has the listener's own origin, so its WebSocket
is let in without allow-listing anything (and without the unsafe ``null`` origin).
With a token, open ``/overlay?token=...``: the page authenticates with it.
"""

from __future__ import annotations

OVERLAY_EVENTS = ("playback_started", "playback_finished", "skipped", "failed")

OVERLAY_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>TTS captions</title>
<style>
  html, body { margin: 0; background: transparent; overflow: hidden; }
  #caption { display: none; position: fixed; left: 2vw; right: 2vw; bottom: 3vh; padding: .5em .8em;
             font: 600 4.5vh/1.3 system-ui, sans-serif; color: #fff; background: rgba(0, 0, 0, .6);
             border-radius: .4em; text-shadow: 0 0 .2em #000; }
  #who { color: #ffd54f; margin-right: .4em; }
</style></head>
<body><div id="caption"><span id="who"></span><span id="text"></span></div>
<script>
"use strict";
const box = document.getElementById("caption");
const token = new URLSearchParams(location.search).get("token");
let current = null, delay = 500;
function show(event) {
  current = event.message_id;
  document.getElementById("who").textContent = event.username || "";
  document.getElementById("text").textContent = event.text || "";
  box.style.display = "block";
}
function hide(event) {
  if (event.message_id === current) { box.style.display = "none"; current = null; }
}
function connect() {
  const ws = new WebSocket(`ws://${location.host}/`);
  ws.onopen = () => {
    delay = 500;
    if (token) ws.send(JSON.stringify({request: "Authenticate", token: token, id: "overlay-auth"}));
    ws.send(JSON.stringify({request: "Subscribe", events: __EVENTS__, id: "overlay"}));
  };
  ws.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.event === "playback_started") show(event);
    else if (event.event) hide(event);
  };
  ws.onclose = () => {
    box.style.display = "none";
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 10000);
  };
}
connect();
</script></body></html>
""".replace("__EVENTS__", "[" + ", ".join(f'"{name}"' for name in OVERLAY_EVENTS) + "]")


def overlay_csp(host_header: str) -> str:
    """The page's Content-Security-Policy: its inline script and style, its own WebSocket only."""
    return (f"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
            f"connect-src ws://{host_header}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
