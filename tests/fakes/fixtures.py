"""pytest fixtures that start the fake services and point the real clients at them.

Import the ones a test module needs: ``from fakes.fixtures import google, no_proxy``.
Proxy variables are cleared: gTTS would send loopback traffic through them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fakes.google import FakeGoogle, google_redirected
from fakes.usp import EDGE_VOICES, UspServer

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def google() -> Iterator[FakeGoogle]:
    fake = FakeGoogle().start()
    with google_redirected(fake):
        yield fake
    fake.stop()


@pytest.fixture
def azure_server() -> Iterator[UspServer]:
    server = UspServer(flavour="azure").start()
    yield server
    server.stop()


def point_edge_at(server: UspServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """edge-tts imports its URLs by name (docs/architecture.md, section 6)."""
    import edge_tts.communicate
    import edge_tts.voices

    monkeypatch.setattr(
        edge_tts.communicate, "WSS_URL", f"ws://127.0.0.1:{server.port}/edge/v1?TrustedClientToken=x"
    )
    monkeypatch.setattr(
        edge_tts.voices, "VOICE_LIST", f"http://127.0.0.1:{server.port}/voices/list?trustedclienttoken=x"
    )


@pytest.fixture
def edge_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[UspServer]:
    server = UspServer(flavour="edge", voices=EDGE_VOICES).start()
    point_edge_at(server, monkeypatch)
    yield server
    server.stop()
