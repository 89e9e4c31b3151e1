"""Find the project's Python packages for OBS's own Python, and say what is missing.

OBS runs scripts with its own (system) Python, which does not see the project's
virtual environment. At import, the script adds, when they exist and match OBS's
Python minor version: the ``site-packages`` of a ``.venv`` (or ``venv``) folder next
to the script, and a folder the streamer set in the properties (``packages_dir``).
"""

from __future__ import annotations

import importlib.util
import logging
import site
import sys
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

VENV_NAMES = (".venv", "venv")
CURRENT = (sys.version_info.major, sys.version_info.minor)


@dataclass(frozen=True)
class Requirement:
    """A package the script may need: ``module`` to import, ``pip_name``, ``needed_for``."""

    module: str
    pip_name: str
    needed_for: str
    optional: bool = False


REQUIREMENTS = (
    Requirement("aiohttp", "aiohttp>=3.9,<4", "the listener (events from Streamer.bot and bots)"),
    Requirement("pyttsx3", "pyttsx3>=2.99", "the pyttsx3 engine", optional=True),
    # Core dependencies, yet the script runs without them: clips then play as the engines make them.
    Requirement("numpy", "numpy", "every voice equally loud (loudness normalization)", optional=True),
    Requirement("miniaudio", "miniaudio", "equally loud MP3 voices (gTTS, edge-tts, OpenAI)", optional=True),
    Requirement("socketio", "python-socketio[asyncio_client]>=5,<6", "the Streamlabs connector",
                optional=True),
)


def python_tag(version: tuple[int, ...] = CURRENT) -> str:
    return f"python{version[0]}.{version[1]}"


def venv_site_packages(folder: Path, version: tuple[int, ...] = CURRENT) -> list[Path]:
    """site-packages folders of virtual environments in ``folder`` built for ``version``
    (same major.minor): ``lib/pythonX.Y/site-packages`` (Linux, macOS) or
    ``Lib/site-packages`` (Windows, version read from ``pyvenv.cfg``)."""
    found = []
    for name in VENV_NAMES:
        venv = folder / name
        posix = venv / "lib" / python_tag(version) / "site-packages"
        if posix.is_dir():
            found.append(posix)
            continue
        windows = venv / "Lib" / "site-packages"
        if windows.is_dir() and venv_version(venv)[:2] == tuple(version[:2]):
            found.append(windows)
    return found


def venv_version(venv: Path) -> tuple[int, ...]:
    """The Python version a virtual environment was made with (from pyvenv.cfg), or ()."""
    try:
        lines = (venv / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except OSError:
        return ()
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() in ("version", "version_info"):
            try:
                return tuple(int(part) for part in value.strip().split(".")[:3])
            except ValueError:
                return ()
    return ()


def mismatched_venvs(folder: Path, version: tuple[int, ...] = CURRENT) -> list[str]:
    """Virtual environments next to the script that were built for another Python."""
    out = []
    for name in VENV_NAMES:
        venv = folder / name
        made_with = venv_version(venv)
        if made_with and made_with[:2] != tuple(version[:2]):
            out.append(f"{venv} (Python {'.'.join(map(str, made_with))})")
    return out


def add_package_folders(script_dir: Path, extra: str | Path | None = None) -> list[Path]:
    """Make the project's packages importable: ``.venv`` next to the script and ``extra``.

    ``site.addsitedir`` also runs the folders' ``.pth`` files. Returns what was added.
    """
    candidates = venv_site_packages(script_dir)
    if extra:
        extra_path = Path(extra).expanduser()
        candidates += venv_site_packages(extra_path) or [extra_path]
    added = []
    for folder in candidates:
        if folder.is_dir() and str(folder) not in sys.path:
            site.addsitedir(str(folder))
            added.append(folder)
    return added


def missing(requirements: tuple[Requirement, ...] = REQUIREMENTS) -> list[Requirement]:
    return [r for r in requirements if importlib.util.find_spec(r.module) is None]


def install_hint(script_dir: Path, version: tuple[int, ...] = CURRENT) -> str:
    """How to install the packages so this OBS finds them (one paragraph)."""
    tag = f"{version[0]}.{version[1]}"
    if sys.platform == "win32":
        python = f"py -{tag}"
        pip = rf"{script_dir}\.venv\Scripts\pip"
    else:
        python = f"python{tag}"
        pip = f"{script_dir}/.venv/bin/pip"
    return (f"OBS uses Python {tag}. Create the project's environment next to the script with that "
            f"version: `{python} -m venv \"{script_dir / '.venv'}\"` then `\"{pip}\" install aiohttp` "
            f"(or `pip install --target FOLDER aiohttp` and choose FOLDER as 'Python packages folder'), "
            f"then reload the script.")


def report(script_dir: Path) -> list[str]:
    """Lines for the OBS log and the properties panel; empty when nothing is missing."""
    lines = []
    for req in missing():
        kind = "optional" if req.optional else "missing"
        lines.append(f"{kind}: Python package '{req.pip_name}' for {req.needed_for}")
    if any(not r.optional for r in missing()):
        for venv in mismatched_venvs(script_dir):
            lines.append(f"not usable: {venv} was built for another Python than OBS's {python_tag()}")
        lines.append(install_hint(script_dir))
    return lines
