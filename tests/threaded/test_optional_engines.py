"""Optional engines are imported lazily: the core, the CLI and the OBS script's modules
run without gTTS, the Azure SDK, Piper or edge-tts, and a missing one says how to get it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OPTIONAL = ("gtts", "azure", "piper", "edge_tts", "onnxruntime", "aiohttp")

BLOCK = textwrap.dedent(f"""
    import sys
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {OPTIONAL!r}:
                raise ImportError(f"blocked for the test: {{name}}")
            return None
    sys.meta_path.insert(0, Block())
""")


def run(code: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OBS_TTS_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-c", BLOCK + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
        env=env,
    )


def test_core_cli_and_obs_modules_import_no_optional_engine():
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys
        import tts_core, tts_core.cli, tts_core.engines.chain
        import tts_core.obs.script.app, tts_core.obs.script.settings
        from tts_core import GTTS_Engine, AzureTTS_Engine, PiperTTSEngine, EdgeTTSEngine
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in {OPTIONAL!r})
        print(loaded)
    """),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_the_libraries_the_queue_speaks_and_engines_say_what_to_install(tmp_path):
    done = run(
        """
        from tts_core import GTTS_Engine, TTSConfig, TTSQueueManager
        from tts_core.engines import EngineUnavailable, create_engine
        for name, extra in (("gtts", "gtts"), ("azure", "azure"), ("piper", "piper"), ("edge", "edge")):
            try:
                create_engine(name, **({"key": "k", "region": "r"} if name == "azure" else {}))
            except EngineUnavailable as exc:
                assert f"pip install 'obs-tts-queue[{extra}]'" in str(exc), exc
            else:
                raise AssertionError(name)
        try:
            GTTS_Engine(language="en")
        except EngineUnavailable:
            pass
        config = TTSConfig(rate_limit_per_minute=0)
        config.engine.name, config.engine.fallback = "gtts", ["espeak"]
        manager = TTSQueueManager(config)
        events = []
        manager.subscribe(events.append)
        manager.start()
        manager.add_message("spoken by espeak because gTTS is not installed")
        assert manager.wait_until_idle(30)
        manager.stop()
        started = [e for e in events if e["event"] == "playback_started"]
        print(started[0]["engine"], started[0]["fallback_from"])
    """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["espeak", "gtts"]
