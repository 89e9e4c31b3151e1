"""Engine ``auto``: which voice it chooses, with injected "is installed" probes and
constructors (nothing on the machine is touched)."""

from __future__ import annotations

import pytest
from doubles import ToneEngine

from tts_core import TTSConfig
from tts_core.engines import ENGINES, EngineUnavailable, auto_engine
from tts_core.engines.auto_engine import AutoEngine, candidates, choose_engine, espeak_or_auto
from tts_core.engines.chain import EngineChain, Link


class Made(ToneEngine):
    def __init__(self, kind: str, **options) -> None:
        super().__init__()
        self.kind, self.options = kind, options


def _choices(espeak: bool, pyttsx3: bool, pyttsx3_fails: str = "") -> list:
    def make_pyttsx3(**options):
        if pyttsx3_fails:
            raise EngineUnavailable(pyttsx3_fails)
        return Made("pyttsx3", **options)

    return candidates({"voice": "en-us"}, {"rate": 150}, espeak_installed=lambda: espeak,
                      pyttsx3_installed=lambda: pyttsx3,
                      make_espeak=lambda **o: Made("espeak", **o), make_pyttsx3=make_pyttsx3)


@pytest.mark.parametrize(("espeak", "pyttsx3", "chosen"), [
    (True, True, "espeak"), (True, False, "espeak"), (False, True, "pyttsx3"),
])
def test_espeak_where_installed_else_the_system_voice(espeak, pyttsx3, chosen):
    name, engine, passed_over = choose_engine(_choices(espeak, pyttsx3))
    assert name == chosen and engine.kind == chosen
    assert engine.options == ({"voice": "en-us"} if chosen == "espeak" else {"rate": 150})
    assert passed_over == ([] if espeak else ["espeak: espeak-ng is not installed"])


def test_no_voice_at_all_names_both_and_how_to_install_them():
    with pytest.raises(EngineUnavailable) as caught:
        choose_engine(_choices(False, False))
    text = str(caught.value)
    assert "espeak: espeak-ng is not installed" in text and "pyttsx3: pyttsx3 is not installed" in text
    assert "apt-get install espeak-ng" in text and "obs-tts-queue[pyttsx3]" in text


def test_pyttsx3_installed_but_without_a_driver_says_why():
    with pytest.raises(EngineUnavailable, match="pyttsx3: pyttsx3 cannot start: no driver"):
        choose_engine(_choices(False, True, pyttsx3_fails="pyttsx3 cannot start: no driver"))


def test_the_engine_says_which_voice_it_chose():
    auto = AutoEngine(choices=_choices(False, True))
    assert auto.chosen == "pyttsx3" and auto.label == "system voice (pyttsx3)"
    assert auto.status() == "voice: system voice (pyttsx3) (espeak: espeak-ng is not installed)"
    assert auto.health() is None
    assert AutoEngine(choices=_choices(True, True)).status() == "voice: espeak-ng"
    # the clip cache never mixes the two voices
    assert auto.cache_identity(None) != AutoEngine(choices=_choices(True, True)).cache_identity(None)


def test_auto_speaks_through_the_chosen_engine_and_shows_in_the_chain_status():
    auto = AutoEngine(choices=_choices(False, True))
    assert auto.synthesize("hello")[:4] == b"RIFF" and auto.engine.calls[0][0] == "hello"
    chain = EngineChain([Link("auto", lambda: auto)])
    chain.primary.get()
    assert chain.status() == auto.status()


def test_auto_is_an_engine_name_with_its_own_config_section():
    assert "auto" in ENGINES
    config = TTSConfig.from_dict({"engine": {"name": "auto", "auto": {"espeak_voice": "de",
                                                                      "pyttsx3_voice": "x", "timeout": 5}}})
    assert config.engine.options_for("auto") == {"espeak_voice": "de", "pyttsx3_voice": "x", "timeout": 5}


def test_a_configured_espeak_without_espeak_ng_becomes_auto_keeping_the_voice_for_espeak(monkeypatch):
    made: list[dict] = []

    class FakeAuto(ToneEngine):
        def __init__(self, **options) -> None:
            super().__init__()
            made.append(options)

    monkeypatch.setattr(auto_engine, "find_espeak", lambda: None)
    monkeypatch.setattr(auto_engine, "AutoEngine", FakeAuto)
    monkeypatch.setattr(FakeAuto, "label", "system voice (pyttsx3)", raising=False)
    engine = espeak_or_auto(voice="en-us", rate=150)
    assert isinstance(engine, FakeAuto) and made == [{"espeak_voice": "en-us", "rate": 150}]
