"""e2e set-up: real OBS under Xvfb. Missing programs skip the tests on a developer's
machine, and fail them when CI=true or OBS_TTS_REQUIRE_E2E=1 (``make test`` installs them)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from doubles import skip_or_fail
from obs_harness import missing_programs

E2E_PROGRAMS = ("espeak-ng", "ffmpeg", "xdotool")
E2E_DIR = Path(__file__).resolve().parent


def e2e_required() -> bool:
    """OBS_TTS_REQUIRE_E2E=1 (``make test``, ``make e2e``): e2e tests must run here (as under CI=true)."""
    return os.environ.get("OBS_TTS_REQUIRE_E2E") == "1"


def missing_for_e2e() -> list[str]:
    return missing_programs() + [p for p in E2E_PROGRAMS if shutil.which(p) is None]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Runs before skipif marks: missing programs skip an e2e test, or fail it when e2e
    tests are required."""
    if Path(str(item.fspath)).parent != E2E_DIR:
        return
    missing = missing_for_e2e()
    if missing:
        skip_or_fail(f"not installed: {missing} (`make system-deps` installs them)", required=e2e_required())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).parent == E2E_DIR:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A running Stack (tts_stack.py) for the mode given by indirect parametrization."""
    from tts_stack import running_stack

    mode = request.param
    with running_stack(mode, tmp_path_factory.mktemp(mode)) as running:
        yield running
