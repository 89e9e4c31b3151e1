"""`obs-tts --help` and each command's --help say what the command does and what each
option takes; a wrong config file is refused with an error that names the file, the key
and what is allowed (the real CLI, in a subprocess)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ("demo", "say", "voices", "doctor", "twitch", "serve", "send")
OPTION_ONLY = re.compile(r"^  -{1,2}[\w-]+( [\w{},.-]+)?(, -{1,2}[\w-]+( [\w{},.-]+)?)*$")
POSITIONAL_ONLY = re.compile(r"^  [\w{][\w{},-]*$")


def obs_tts(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    return subprocess.run([sys.executable, "-m", "tts_core.cli", *args], capture_output=True, text=True,
                          timeout=120, env=env, check=False)


def undocumented_options(help_text: str) -> list[str]:
    """Options listed in a --help with no explanation: a line that is only an option
    (and its metavar), followed by another option or the end of its group."""
    lines = help_text.splitlines()
    bare = []
    for i, line in enumerate(lines):
        if not (OPTION_ONLY.match(line) or POSITIONAL_ONLY.match(line)):
            continue  # not an option line, or the option has its help on the same line
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if not re.match(r"^ {10,}\S", following):  # help wrapped onto the next line
            bare.append(line.strip())
    return bare


def test_top_level_help_points_to_the_commands_help():
    shown = obs_tts("--help")
    assert shown.returncode == 0
    assert "obs-tts COMMAND --help" in shown.stdout, shown.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_help_says_what_it_does_and_explains_every_option(command):
    shown = obs_tts(command, "--help")
    assert shown.returncode == 0, shown.stderr
    _usage, _, rest = shown.stdout.partition("\n\n")
    description = rest.splitlines()[0]
    assert not description.endswith(":"), f"`obs-tts {command} --help` has no description: {shown.stdout}"
    assert undocumented_options(shown.stdout) == [], shown.stdout


def test_say_help_names_the_priorities_and_sinks():
    shown = obs_tts("say", "--help").stdout
    assert "URGENT" in shown and "the text to speak" in shown
    assert re.search(r"--sink \{realtime,wav-dir,obs\}\s+realtime \(default\):", shown), shown


def run_with_config(tmp_path: Path, name: str, text: str) -> tuple[Path, str]:
    path = tmp_path / name
    path.write_text(text)
    done = obs_tts("say", "hello", "--config", str(path), "--out", str(tmp_path / "out.wav"))
    assert done.returncode == 2 and "Traceback" not in done.stderr, done
    return path, done.stderr.strip()


def test_unknown_engine_names_the_file_the_key_and_the_engines(tmp_path):
    path, error = run_with_config(tmp_path, "config.json", json.dumps({"engine": {"name": "espek"}}))
    assert error.startswith(f"obs-tts say: error: {path}: engine.name: unknown engine 'espek' "
                            "(did you mean espeak?); expected one of "), error
    assert all(name in error for name in ("espeak", "pyttsx3", "auto", "azure", "piper")), error


def test_misspelt_key_suggests_the_right_one(tmp_path):
    path, error = run_with_config(tmp_path, "config.json", json.dumps({"tts_queue": {"max_queue_siz": 5}}))
    assert f"{path}: unknown key tts_queue.max_queue_siz (did you mean max_queue_size?); expected one of" \
        in error, error
    path, error = run_with_config(tmp_path, "section.json", json.dumps({"enigne": {}}))
    assert f"{path}: unknown config section 'enigne' (did you mean engine?); expected" in error, error


def test_broken_json_names_line_and_column(tmp_path):
    path, error = run_with_config(tmp_path, "config.json", '{"tts_queue": {"max_queue_size": 5,}}')
    assert f"{path}: invalid JSON at line 1, column 36: Expecting property name" in error, error


def test_a_toml_file_is_told_that_config_files_are_json(tmp_path):
    path, error = run_with_config(tmp_path, "config.toml", "[tts_queue]\nmax_queue_size = 5\n")
    assert f"{path}: config files are JSON, this looks like TOML" in error, error
    assert '{"tts_queue": {"max_queue_size": 5}}' in error, error
