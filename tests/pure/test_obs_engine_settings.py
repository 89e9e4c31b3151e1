"""The OBS panel's engine fields map onto the config's engine sections."""

from __future__ import annotations

import time

from tts_core.config import TTSConfig
from tts_core.obs.script import app as obs_app
from tts_core.obs.script.settings import (
    DEFAULTS,
    config_from_settings,
    engine_fields_for,
    normalize,
    plan_changes,
)


def test_chosen_engine_fields_become_its_section_and_fallback():
    values = {**DEFAULTS, "engine": "azure", "voice": "en-US-AriaNeural", "fallback_engine": "espeak",
              "azure_key": " secret-key ", "azure_region": "westeurope"}
    engine = config_from_settings(values).engine
    assert engine.chain == ["azure", "espeak"]
    assert engine.options_for("azure") == {"key": "secret-key", "region": "westeurope",
                                           "voice": "en-US-AriaNeural"}
    gtts = config_from_settings({**DEFAULTS, "engine": "gtts", "gtts_lang": "de", "gtts_tld": "de"}).engine
    assert gtts.options_for("gtts") == {"lang": "de", "tld": "de"} and gtts.fallback == []


def test_empty_fields_keep_the_config_file_values():
    base = TTSConfig.from_dict({"engine": {"name": "piper", "fallback": ["gtts", "espeak"],
                                           "piper": {"model": "/voices/joe.onnx"}}})
    engine = config_from_settings({**DEFAULTS, "engine": "piper"}, base).engine
    assert engine.piper == {"model": "/voices/joe.onnx"} and engine.fallback == ["gtts", "espeak"]
    picked = config_from_settings({**DEFAULTS, "engine": "piper", "fallback_engine": "espeak",
                                   "piper_model": "/other.onnx"}, base).engine
    assert picked.fallback == ["espeak", "gtts"] and picked.piper == {"model": "/other.onnx"}


def test_a_fallback_equal_to_the_engine_is_ignored_and_fields_are_per_engine():
    engine = config_from_settings({**DEFAULTS, "engine": "espeak", "fallback_engine": "espeak"}).engine
    assert engine.chain == ["espeak"]
    assert engine_fields_for("azure") == ["azure_key", "azure_region", "azure_host"]
    assert engine_fields_for("piper") == ["piper_model"] and engine_fields_for("espeak") == []


def test_engine_field_changes_rebuild_the_engine_and_old_keys_keep_meaning():
    old = normalize(DEFAULTS)
    for key, value in (("azure_key", "k"), ("fallback_engine", "espeak")):
        changes = plan_changes(old, {**old, key: value})
        assert changes.keys == {key} and not (changes.live or changes.listener or changes.reload)
    assert normalize({"engine": "gtts"})["voice"] == "" and normalize({})["engine"] == "espeak"


def test_status_line_says_when_an_engine_is_down_and_who_speaks(tmp_path):
    from tts_core.engines import EspeakEngine, PermanentEngineError
    from tts_core.engines.chain import EngineChain, Link
    from tts_core.runtime.manager import TTSQueueManager

    def broken():
        raise PermanentEngineError("azure: the key was refused (401)")

    chain = EngineChain([Link("azure", broken), Link("espeak", EspeakEngine)])
    manager = TTSQueueManager(TTSConfig(), engine=chain)
    assert obs_app.engine_status(manager) == []
    chain.links[0].down_until, chain.links[0].last_error = time.monotonic() + 30, "key refused"
    (line,) = obs_app.engine_status(manager)
    assert line.startswith("azure down for 3") and line.endswith("(key refused); espeak speaks")
