"""`obs-tts doctor [--config F]`: which engines and sinks work on this machine, and why not.

Engines of the configured chain (engine.name + engine.fallback) are really asked for a
short clip: installed? reachable? key accepted? Optional engines outside the chain
are only checked for being installed (no network call); missing ones are not errors.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from functools import partial

from tts_core.cli.engine_args import add_engine_options, load_config
from tts_core.config import TTSConfig, default_data_dir
from tts_core.engines import ENGINES, LazyEngine, create_engine
from tts_core.engines.auto_engine import AutoEngine, espeak_or_auto, who_speaks
from tts_core.engines.base import EngineError, EngineUnavailable
from tts_core.engines.support import installed
from tts_core.runtime.journal import journal_path, journal_problem

OPTIONAL = "optional"  # a check result that is reported but is not a failure
OK_NOTE = "ok"  # a check result "ok: <what was chosen>" is a pass with a note


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("doctor", help="check which engines and sinks work here")
    add_engine_options(p, voice=False)
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
        return None if installed(module) else f"Python package missing: pip install 'obs-tts-queue[{extra}]'"

    return check


def engine_check(name: str, config: TTSConfig) -> Callable[[], str | None]:
    """Installed? For engines of the chain, local engines and piper: synthesize a short
    clip (local engines outside the chain with their defaults)."""
    entry = ENGINES[name]
    optional = isinstance(entry, LazyEngine)
    in_chain = name in config.engine.chain

    def check() -> str | None:
        if isinstance(entry, LazyEngine) and not entry.installed():
            hint = f"not installed: pip install 'obs-tts-queue[{entry.extra}]'"
            return hint if in_chain else f"{OPTIONAL}: {hint}"
        if optional and not in_chain and name != "piper":
            return f"{OPTIONAL}: installed; not in the engine chain, so not contacted"
        options = config.engine.options_for(name) if in_chain or optional else {}
        note = ""
        try:
            # espeak of the chain without espeak-ng: the system voice speaks (as in serve/OBS)
            make = espeak_or_auto if name == "espeak" and in_chain else partial(create_engine, name)
            engine = make(**options)
            try:
                problem = engine.health()
                if isinstance(engine, AutoEngine):
                    note = engine.status()
            finally:
                engine.close()
        except (EngineUnavailable, EngineError, TimeoutError) as exc:
            problem = str(exc)
        if problem and optional and not in_chain:
            return f"{OPTIONAL}: {problem}"
        if problem is None and note:
            return f"{OK_NOTE}: {note}"
        return problem

    return check


def checks(config: TTSConfig | None = None) -> list[tuple[str, Callable[[], str | None]]]:
    config = config or TTSConfig()
    out: list[tuple[str, Callable[[], str | None]]] = [
        (
            "python >= 3.10",
            lambda: None if sys.version_info >= (3, 10) else f"Python {sys.version.split()[0]}",
        ),
    ]
    out += [(f"engine {name}", engine_check(name, config)) for name in ENGINES]
    out += [
        ("sink realtime", lambda: None),
        ("sink wav-dir", lambda: _check_writable(tempfile.gettempdir())),
        ("journal folder", lambda: _check_writable(str(default_data_dir()))),
        ("journal", lambda: journal_problem(journal_path(config)) if config.persist else f"{OPTIONAL}: off"),
        ("listener (aiohttp)", _check_module("aiohttp", "dev")),
        ("sink obs (websockets)", _check_module("websockets", "obs")),
    ]
    return out


def connector_checks(config: TTSConfig) -> list[tuple[str, Callable[[], str | None]]]:
    """One line per connector: off (not an error), connected, or why not (one try each)."""
    from tts_core.connectors.running import CONNECTOR_CLASSES, probe

    results: dict[str, str | None] = {}

    def check(name: str) -> Callable[[], str | None]:
        def run_check() -> str | None:
            if not results:
                results.update(probe(config))
            problem = results.get(name)
            return f"{OPTIONAL}: off (connectors.{name}.enabled)" if problem == "off" else problem

        return run_check

    return [(f"connector {cls.name}", check(cls.name)) for cls in CONNECTOR_CLASSES] + [
        ("twitch login", twitch_login_check(config))]


def twitch_login_check(config: TTSConfig) -> Callable[[], str | None]:
    """Whether the stored Twitch login is valid, for which account, with which scopes."""
    def check() -> str | None:
        from tts_core.config.sections import TWITCH_EVENTS
        from tts_core.connectors.twitch.mapping import scopes_for
        from tts_core.connectors.twitch.tokens import doctor_problem, token_path

        settings = config.connectors.twitch
        if not settings.enabled:
            return f"{OPTIONAL}: off (connectors.twitch.enabled)"
        problem, described = doctor_problem(settings.auth_url,
                                             scopes_for([k for k in TWITCH_EVENTS if settings.takes(k)]),
                                             token_path(config.data_dir))
        return problem if problem is not None else f"{OPTIONAL}: {described}"

    return check


def run(args: argparse.Namespace) -> int:
    failures = 0
    config = load_config(args)
    print(f"engine chain: {' > '.join(config.engine.chain)}{who_speaks(config.engine.chain)}")
    for name, check in checks(config) + connector_checks(config):
        try:
            problem = check()
        except Exception as exc:  # noqa: BLE001 - doctor reports, it never crashes
            problem = f"{type(exc).__name__}: {exc}"
        if problem is None:
            print(f"  ok    {name}")
        elif problem.startswith(OK_NOTE + ": "):
            print(f"  ok    {name}: {problem[len(OK_NOTE) + 2:]}")
        elif problem.startswith(OPTIONAL + ": "):
            print(f"  --    {name}: {problem[len(OPTIONAL) + 2:]}")
        else:
            failures += 1
            print(f"  FAIL  {name}: {problem}")
    print("all good" if failures == 0 else f"{failures} problem(s); the lines above say how to fix them")
    return 0 if failures == 0 else 1
