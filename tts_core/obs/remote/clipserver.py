"""Where OBS reads a clip: the file itself (``local`` mode), or over HTTP from a small
server here (``http`` mode: OBS on another computer; its media source opens URLs).

Only clips that are registered are served, under an unguessable path
(``/clips/<random>/<message id>.wav``), and only while they play.
"""

from __future__ import annotations

import http.server
import logging
import secrets
import socket
import threading
from pathlib import Path

log = logging.getLogger(__name__)

CONTENT_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg"}


class ClipServer:
    """Parameters: ``host``/``port`` to bind (port 0: any free one), ``public_host``: the
    address OBS uses to reach this computer (default: the one this machine uses to reach
    ``peer``)."""

    def __init__(self, host: str = "0.0.0.0", port: int = 0, public_host: str | None = None,
                 peer: str = "127.0.0.1") -> None:
        self._files: dict[str, Path] = {}
        self._lock = threading.Lock()
        self._secret = secrets.token_urlsafe(12)
        self._httpd = http.server.ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self.public_host = public_host or local_address_towards(peer)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.25},
                                        name="tts-clip-server", daemon=True)
        self._thread.start()
        log.info("serving clips on http://%s:%d/", self.public_host, self.port)

    def register(self, path: Path, name: str) -> str:
        """Serve ``path``; returns its URL."""
        url_path = f"/clips/{self._secret}/{name}{path.suffix}"
        with self._lock:
            self._files[url_path] = path
        host = f"[{self.public_host}]" if ":" in self.public_host else self.public_host
        return f"http://{host}:{self.port}{url_path}"

    def unregister(self, url: str) -> None:
        with self._lock:
            self._files.pop("/" + url.split("/", 3)[3], None)

    def lookup(self, url_path: str) -> Path | None:
        with self._lock:
            return self._files.get(url_path)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(1.0)

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class ClipHandler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive and ranges, as ffmpeg (OBS's reader) expects

            def do_GET(self) -> None:
                self._answer(with_body=True)

            def do_HEAD(self) -> None:
                self._answer(with_body=False)

            def _answer(self, with_body: bool) -> None:
                path = server.lookup(self.path.split("?", 1)[0])
                try:
                    data = path.read_bytes() if path is not None else None
                except OSError:
                    data = None
                if data is None or path is None:
                    self.send_error(404)
                    return
                start, end = byte_range(self.headers.get("Range"), len(data))
                if start > end:
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                partial = self.headers.get("Range") is not None
                self.send_response(206 if partial else 200)
                self.send_header("Content-Type", CONTENT_TYPES.get(path.suffix, "application/octet-stream"))
                self.send_header("Accept-Ranges", "bytes")
                if partial:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
                self.send_header("Content-Length", str(end - start + 1))
                self.end_headers()
                if with_body:
                    self.wfile.write(data[start : end + 1])

            def log_message(self, format: str, *args: object) -> None:
                log.debug("clip server: " + format, *args)

        return ClipHandler


class LocalClips:
    """``local`` mode: OBS on this computer reads the clip file itself."""

    mode = "local"

    def location(self, path: Path, name: str) -> str:
        """What to set as the media source's local_file for the clip ``path`` (``name``: its id)."""
        return str(path)

    def release(self, location: str) -> None:
        """The clip at ``location`` has played."""

    def close(self) -> None:
        pass


class ServedClips(LocalClips):
    """``http`` mode: a ClipServer (started at the first clip) serves each clip while it
    plays. Parameters: ClipServer's."""

    mode = "http"

    def __init__(self, host: str = "0.0.0.0", port: int = 0, public_host: str | None = None,
                 peer: str = "127.0.0.1") -> None:
        self._args = (host, port, public_host, peer)
        self._server: ClipServer | None = None

    def location(self, path: Path, name: str) -> str:
        if self._server is None:
            host, port, public_host, peer = self._args
            self._server = ClipServer(host, port, public_host, peer)
        return self._server.register(path, name)

    def release(self, location: str) -> None:
        if self._server is not None:
            self._server.unregister(location)

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()


def local_address_towards(peer: str) -> str:
    """This machine's address on the route to ``peer`` (no packet is sent)."""
    family = socket.AF_INET6 if ":" in peer else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.connect((peer, 9))
            return str(sock.getsockname()[0])
    except OSError:
        return "127.0.0.1"


def byte_range(header: str | None, size: int) -> tuple[int, int]:
    """First and last byte asked for by a ``Range: bytes=a-b`` header (whole file without one)."""
    if not header or not header.startswith("bytes=") or "," in header:
        return 0, size - 1
    first, _, last = header[len("bytes="):].strip().partition("-")
    try:
        if not first:
            return max(0, size - int(last)), size - 1
        return int(first), min(int(last), size - 1) if last else size - 1
    except ValueError:
        return 0, size - 1
