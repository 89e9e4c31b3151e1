"""Browser tests: the pages the listener serves, driven by Playwright in Debian's
Chromium (``make system-deps`` installs it; Playwright's own browser download is not
used). A missing Chromium or Playwright skips them on a developer's machine and fails
them under CI=true or OBS_TTS_REQUIRE_E2E=1 (``make test``)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from doubles import skip_or_fail

CHROMIUM_NAMES = ("chromium", "chromium-browser")


def chromium_path() -> str | None:
    """The system Chromium (OBS_TTS_CHROMIUM overrides), or None."""
    wanted = os.environ.get("OBS_TTS_CHROMIUM")
    if wanted:
        return wanted if os.access(wanted, os.X_OK) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module; each test opens its own context/page.

    Not one per session: while Playwright's sync API runs, the main thread has a running
    asyncio loop, so every later test that calls ``asyncio.run()`` or a manager's
    ``start()`` from the main thread would meet it. Stopped at the module's end, the loop
    is gone."""
    required = os.environ.get("OBS_TTS_REQUIRE_E2E") == "1"
    path = chromium_path()
    if path is None:
        skip_or_fail("not installed: chromium (`make system-deps` installs it)", required=required)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("not installed: playwright (`make .venv/.installed` installs it)", required=required)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, headless=True,
                                              args=["--no-sandbox", "--disable-gpu"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in its own context (no shared storage between tests)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()
