"""`obs-tts doctor`: which engines and sinks work on this machine, and why not."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable

from tts_core.config import default_data_dir
from tts_core.engines import ENGINES


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("doctor", help="check which engines and sinks work here")
    p.set_defaults(func=run)


def _check_writable(folder: str) -> str | None:
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"cannot write to {folder}: {exc}"
    return None


def _check_module(module: str, extra: str) -> Callable[[], str | None]:
    def check() -> str | None:
        if importlib.util.find_spec(module) is None:
            return f"Python package missing: pip install 'obs-tts-queue[{extra}]'"
        return None

    return check


def checks() -> list[tuple[str, Callable[[], str | None]]]:
    out: list[tuple[str, Callable[[], str | None]]] = [
        (
            "python >= 3.11",
            lambda: None if sys.version_info >= (3, 11) else f"Python {sys.version.split()[0]}",
        ),
    ]
    out += [(f"engine {name}", cls.check) for name, cls in ENGINES.items()]
    out += [
        ("sink realtime", lambda: None),
        ("sink wav-dir", lambda: _check_writable(tempfile.gettempdir())),
        ("journal folder", lambda: _check_writable(str(default_data_dir()))),
        ("listener (aiohttp)", _check_module("aiohttp", "dev")),
        ("sink obs (obs-websocket-py)", _check_module("obswebsocket", "obs")),
    ]
    return out


def run(args: argparse.Namespace) -> int:
    failures = 0
    for name, check in checks():
        try:
            problem = check()
        except Exception as exc:  # noqa: BLE001 - doctor reports, it never crashes
            problem = f"{type(exc).__name__}: {exc}"
        if problem is None:
            print(f"  ok    {name}")
        else:
            failures += 1
            print(f"  FAIL  {name}: {problem}")
    print("all good" if failures == 0 else f"{failures} problem(s); the lines above say how to fix them")
    return 0 if failures == 0 else 1
