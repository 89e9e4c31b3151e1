"""Loopback websocket servers speaking Microsoft's speech protocol (USP), as the Azure
Speech SDK and edge-tts expect it (docs/architecture.md, section 6).

Client text frames are ``Name:Value`` header lines, a blank line and a body
(``Path:speech.config``, ``Path:synthesis.context``, ``Path:ssml``). For every ssml the
server answers, echoing its ``X-RequestId``: ``turn.start``, binary audio frames (2-byte
big-endian header length + headers + audio) with, when the client asked for word
boundaries (Azure: ``wordBoundaryEnabled`` in synthesis.context; Edge: in speech.config),
one ``audio.metadata`` frame per word before that word's audio (Offset/Duration in 100-ns
ticks, the word as written in the SSML; Azure also gets punctuation as
PunctuationBoundary), then ``turn.end``. The words are spread evenly over ``tone_ms``
and recorded in ``sent_words``. ``handshake_status`` (401, 429, 500, ...) refuses the websocket upgrade
instead; ``hang`` never ends the turn.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import WSMsgType, web

from fakes.audio import mp3_tone, pcm_tone

AZURE_PATH = "/cognitiveservices/websocket/v1"
EDGE_PATH = "/edge/v1"
VOICES_PATH = "/voices/list"


def parse_text_frame(frame: str) -> tuple[dict[str, str], str]:
    head, _, body = frame.partition("\r\n\r\n")
    headers = {}
    for line in head.split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    return headers, body


def ssml_text(ssml: str) -> str:
    """The spoken text of an SSML document (tags removed; entities kept as sent)."""
    return re.sub(r"<[^>]+>", "", ssml)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class UspServer:
    """``flavour``: "azure" (raw PCM at the rate synthesis.context asks) or "edge" (MP3)."""

    flavour: str = "azure"
    handshake_status: int | None = None
    retry_after: str | None = None
    hang: bool = False
    tone_ms: int = 400
    delay_s: float = 0.0
    voices: list[dict[str, Any]] = field(default_factory=list)
    frames: list[Received] = field(default_factory=list)
    handshake_headers: list[dict[str, str]] = field(default_factory=list)
    connections: int = 0
    sent_words: list[tuple[str, int, int]] = field(default_factory=list)  # (text, offset, duration) ticks

    def __post_init__(self) -> None:
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Future[None] | None = None
        self._ready = threading.Event()
        self._open: set[web.WebSocketResponse] = set()
        self._thread = threading.Thread(target=self._run, name=f"fake-{self.flavour}", daemon=True)

    @property
    def ssml_bodies(self) -> list[str]:
        return [f.body for f in self.frames if f.path == "ssml"]

    def start(self) -> UspServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake USP server did not start")
        return self

    def refuse(self, status: int, retry_after: str | None = None) -> None:
        """From now on refuse handshakes with ``status``, and close the open connections
        (clients keep theirs across requests, so they must reconnect to see it)."""
        self.retry_after = retry_after
        self.handshake_status = status
        if self._loop is not None and not self._loop.is_closed():
            for ws in list(self._open):
                asyncio.run_coroutine_threadsafe(ws.close(), self._loop).result(5)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(lambda: self._stop.done() or self._stop.set_result(None))  # type: ignore[union-attr]
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = self._loop.create_future()
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = runner.addresses[0][1]
        self._ready.set()
        try:
            await self._stop
        finally:
            for ws in list(self._open):  # clients keep theirs open: cleanup would wait for them
                await ws.close()
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.handshake_headers.append(dict(request.headers))
        if path.endswith(VOICES_PATH):  # Azure's and Edge's voice lists (plain HTTP GET)
            return web.json_response(self.voices)
        if self.handshake_status is not None:
            extra = {"Retry-After": self.retry_after} if self.retry_after else {}
            return web.Response(status=self.handshake_status, text=HTTPStatus(self.handshake_status).phrase,
                                headers=extra)
        expected = AZURE_PATH if self.flavour == "azure" else EDGE_PATH
        if path != expected:
            return web.Response(status=404, text="not found")
        ws = web.WebSocketResponse(protocols=("USP",) if self.flavour == "azure" else (), max_msg_size=0)
        await ws.prepare(request)
        self._open.add(ws)
        try:
            await self._session(ws)
        finally:
            self._open.discard(ws)
        return ws

    async def _session(self, ws: web.WebSocketResponse) -> None:
        self.connections += 1
        sample_rate = 16000
        options: dict[str, Any] = {}
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            headers, body = parse_text_frame(msg.data)
            path = headers.get("Path", "")
            self.frames.append(Received(path, headers, body))
            if path == "synthesis.context":
                audio = json.loads(body or "{}").get("synthesis", {}).get("audio", {})
                match = re.search(r"(\d+)khz", audio.get("outputFormat", ""))
                sample_rate = int(match.group(1)) * 1000 if match else 16000
                options = audio.get("metadataOptions", {})
            if path == "speech.config" and self.flavour == "edge":
                asked = json.loads(body or "{}").get("context", {}).get("synthesis", {}).get("audio", {})
                options = {k: v == "true" for k, v in asked.get("metadataoptions", {}).items()}
            if path != "ssml":
                continue
            rid = headers.get("X-RequestId", uuid.uuid4().hex)
            await self._answer(ws, rid, body, sample_rate, options)

    async def _answer(self, ws: web.WebSocketResponse, rid: str, ssml: str, sample_rate: int,
                      options: dict[str, Any]) -> None:
        await ws.send_str(
            f"X-RequestId:{rid}\r\nContent-Type:application/json; charset=utf-8\r\n"
            f"Path:turn.start\r\n\r\n{{}}"
        )
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.flavour == "azure":
            audio, bytes_per_ms = pcm_tone(self.tone_ms, sample_rate), sample_rate * 2 / 1000
            header = f"X-RequestId:{rid}\r\nPath:audio\r\n".encode()
        else:
            audio = mp3_tone(self.tone_ms, id3=False)
            bytes_per_ms = len(audio) / self.tone_ms
            # edge-tts' parser counts the length bytes into the first key: neither Path nor
            # Content-Type may come first.
            header = f"X-RequestId:{rid}\r\nContent-Type:audio/mpeg\r\nPath:audio\r\n".encode()
        sent = 0
        for boundary, text, offset, duration in self._boundaries(ssml, options):
            upto = min(len(audio), int(offset / 10_000 * bytes_per_ms))
            await self._send_audio(ws, header, audio[sent:upto])
            sent = max(sent, upto)
            meta = {"Metadata": [{"Type": "WordBoundary", "Data": {
                "Offset": offset, "Duration": duration,
                "text": {"Text": text, "Length": len(text), "BoundaryType": boundary}}}]}
            await ws.send_str(
                f"X-RequestId:{rid}\r\nContent-Type:application/json; charset=utf-8\r\n"
                f"Path:audio.metadata\r\n\r\n{json.dumps(meta)}"
            )
        await self._send_audio(ws, header, audio[sent:])
        while self.hang and self._stop is not None and not self._stop.done():
            await asyncio.sleep(0.05)  # never ends the turn (until the server stops)
        await ws.send_str(
            f"X-RequestId:{rid}\r\nContent-Type:application/json; charset=utf-8\r\nPath:turn.end\r\n\r\n{{}}"
        )

    async def _send_audio(self, ws: web.WebSocketResponse, header: bytes, audio: bytes) -> None:
        size = 8192 if self.flavour == "azure" else 4096
        for i in range(0, len(audio), size):
            await ws.send_bytes(len(header).to_bytes(2, "big") + header + audio[i : i + size])

    def _boundaries(self, ssml: str, options: dict[str, Any]) -> list[tuple[str, str, int, int]]:
        """(BoundaryType, text, offset, duration) per word the client asked for, in ticks:
        each word gets an even share of the clip after 50 ms of lead-in, and is spoken for
        80 % of it; punctuation (Azure, when asked) sits at the end of its word's share."""
        if not options.get("wordBoundaryEnabled"):
            return []
        pieces = re.findall(r"(?:&\w+;|[^\s.,!?;:])+|[.,!?;:]", ssml_text(ssml))
        words = [p for p in pieces if p not in ".,!?;:"]
        if not words:
            return []
        lead, share = 50, (self.tone_ms - 100) / len(words)
        found: list[tuple[str, str, int, int]] = []
        index = 0
        for piece in pieces:
            if piece in ".,!?;:":
                if self.flavour == "azure" and options.get("punctuationBoundaryEnabled"):
                    found.append(("PunctuationBoundary", piece, round((lead + share * index) * 10_000), 0))
                continue
            offset, duration = round((lead + share * index) * 10_000), round(share * 0.8 * 10_000)
            found.append(("WordBoundary", piece, offset, duration))
            self.sent_words.append((piece, offset, duration))
            index += 1
        return found


EDGE_VOICES = [
    {
        "Name": "Microsoft Server Speech Text to Speech Voice (en-US, AriaNeural)",
        "ShortName": "en-US-AriaNeural",
        "Gender": "Female",
        "Locale": "en-US",
        "FriendlyName": "Microsoft Aria Online (Natural) - English (United States)",
        "Status": "GA",
        "SuggestedCodec": "audio-24khz-48kbitrate-mono-mp3",
        "VoiceTag": {"ContentCategories": ["News"], "VoicePersonalities": ["Positive"]},
    },
    {
        "Name": "Microsoft Server Speech Text to Speech Voice (de-DE, KatjaNeural)",
        "ShortName": "de-DE-KatjaNeural",
        "Gender": "Female",
        "Locale": "de-DE",
        "FriendlyName": "Microsoft Katja Online (Natural) - German (Germany)",
        "Status": "GA",
        "SuggestedCodec": "audio-24khz-48kbitrate-mono-mp3",
        "VoiceTag": {"ContentCategories": ["General"], "VoicePersonalities": ["Friendly"]},
    },
]
