"""The engine of a running queue receives exactly the moderated words."""

from __future__ import annotations

from tts_core import TTSConfig
from tts_core.ingest.translator import StreamerBotIntegration

ENGINE_SAMPLES = [
    ("check hxxps://evil[.]com/free now Kappa", "v says: check link now"),
    ("this is a ѕсаm 😂😂", "v says: this is a bleep"),
    ("sooooo goooood!!!!! hahahahaha", "v says: sooo goood! haha"),
    ("<speak>hi</speak> & bye", "v says: <speak>hi</speak> & bye"),
    ("مرحبا بالعالم", "v says: مرحبا بالعالم"),
    ("s\u200bcam alert: gg", "v says: bleep alert: good game"),
]


def test_the_engine_receives_exactly_the_moderated_words(make_manager):
    from doubles import RecordingSink, ToneEngine

    engine = ToneEngine(1)
    cfg = TTSConfig.from_dict({"tts_queue": {"rate_limit_per_minute": 0},
                               "streamer_bot": {"repeat_name_after_seconds": 0},  # "v says" on every line
                               "moderation": {"bad_words": ["scam"], "pronunciations": {"gg": "good game"}}})
    manager = make_manager(cfg, engine=engine, sink=RecordingSink(speed=0))
    bot = StreamerBotIntegration(manager)
    manager.start()
    for typed, _ in ENGINE_SAMPLES:
        assert bot.submit("chat", {"username": "v", "message": f"!tts {typed}"}).status == "ok"
    assert manager.wait_until_idle(10)
    # Workers synthesize ahead in parallel, so calls may arrive in any order.
    assert sorted(text for text, _ in engine.calls) == sorted(said for _, said in ENGINE_SAMPLES)

