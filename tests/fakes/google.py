"""A loopback HTTP server answering like Google Translate's batchexecute TTS endpoint.

gTTS POSTs ``/_/TranslateWebserverUi/data/batchexecute`` with the text in the form
field ``f.req``; the answer holds a ``jQ1olc`` line with base64 MP3. ``mode`` picks the
answer: "ok", "429" (with Retry-After), "500", "empty" (200 without audio), or a list
of modes used one per request (then "ok").
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fakes.audio import mp3_tone

BATCHEXECUTE = "/_/TranslateWebserverUi/data/batchexecute"


class FakeGoogle:
    def __init__(self, mode: str | list[str] = "ok", retry_after: str = "7", tone_ms: int = 500) -> None:
        self.modes: list[str] = list(mode) if isinstance(mode, list) else []
        self.mode = "ok" if isinstance(mode, list) else mode
        self.retry_after = retry_after
        self.tone_ms = tone_ms
        self.texts: list[str] = []
        self.requests = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-google", daemon=True)

    def next_mode(self) -> str:
        with self.lock:
            self.requests += 1
            return self.modes.pop(0) if self.modes else self.mode

    def answer(self, text: str) -> bytes:
        audio = base64.b64encode(mp3_tone(self.tone_ms)).decode()
        rpc = json.dumps(
            [["wrb.fr", "jQ1olc", json.dumps([audio]), None, None, None, "generic"]], separators=(",", ":")
        )
        return f")]}}'\n\n{len(rpc)}\n{rpc}\n".encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                if self.path.split("?")[0] != BATCHEXECUTE or "f.req" not in form:
                    self._send(404, b"not found")
                    return
                rpc = json.loads(form["f.req"][0])
                text = json.loads(rpc[0][0][1])[0]
                mode = fake.next_mode()
                if mode == "429":
                    self._send(429, b"Too Many Requests", {"Retry-After": fake.retry_after})
                elif mode == "500":
                    self._send(500, b"Internal Server Error")
                elif mode == "empty":
                    self._send(200, b')]}\'\n\n25\n[["di",42],["af.httprm"]]\n')
                else:
                    with fake.lock:
                        fake.texts.append(text)
                    self._send(200, fake.answer(text))

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        return Handler

    def start(self) -> FakeGoogle:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def google_redirected(fake: FakeGoogle) -> Iterator[FakeGoogle]:
    """Point gTTS at ``fake`` (gtts.tts imports _translate_url by name; docs/architecture.md, section 6)."""
    import gtts.tts

    original = gtts.tts._translate_url
    gtts.tts._translate_url = lambda tld="com", path="": f"http://127.0.0.1:{fake.port}/{path}"
    try:
        yield fake
    finally:
        gtts.tts._translate_url = original
