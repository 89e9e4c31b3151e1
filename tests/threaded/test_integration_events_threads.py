"""StreamerBotIntegration on a running queue: the events it publishes."""

from __future__ import annotations

from tts_core import TTSConfig, TTSQueueManager
from tts_core.config import StreamerBotConfig
from tts_core.ingest.translator import StreamerBotIntegration


def build(**bot: object) -> tuple[TTSQueueManager, StreamerBotIntegration]:
    manager = TTSQueueManager(TTSConfig(max_queue_size=100))
    return manager, StreamerBotIntegration(manager, StreamerBotConfig(**bot))  # type: ignore[arg-type]


def test_a_filtered_event_has_the_one_event_shape():
    manager, bot = build(ignored_users=["spambot"])
    seen: list[dict] = []
    manager.subscribe(seen.append)
    manager.start()
    try:
        queued = bot.process_chat_message("viewer", "!tts hello there")
        assert bot.process_chat_message("spambot", "!tts buy followers") is None
        manager.events.flush()
    finally:
        manager.stop()
    queued_event = next(e for e in seen if e["event"] == "queued" and e["message_id"] == queued)
    filtered = next(e for e in seen if e["event"] == "filtered")
    assert set(queued_event) - {"held"} <= set(filtered) | {"voice", "engine"}
    assert filtered["message_id"] is None and filtered["event_type"] == "command"
    assert (filtered["username"], filtered["stage"]) == ("spambot", "bots")
    assert filtered["reason"] == "ignored_user"
    assert filtered["text"] == "buy followers" and filtered["priority"] == "NORMAL"  # the viewer's words

