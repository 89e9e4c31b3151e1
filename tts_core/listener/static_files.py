"""The files of the pages the listener serves (the dashboard, the captions overlay),
shipped inside the package in ``tts_core/listener/static``, so they work offline."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def packaged_page_file(name: str) -> str:
    """The text of a file in ``tts_core/listener/static`` (read once)."""
    return resources.files("tts_core.listener").joinpath("static").joinpath(name).read_text(encoding="utf-8")
