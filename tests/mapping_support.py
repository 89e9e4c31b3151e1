"""What the connector mapping tests share: the real event translator on a queue that is not
started, and what it says for a connector's Speak actions."""

from __future__ import annotations

from collections.abc import Iterable

from tts_core import TTSConfig, TTSQueueManager
from tts_core.connectors.actions import Speak
from tts_core.ingest.translator import StreamerBotIntegration


def translator() -> StreamerBotIntegration:
    """The real event translator on a queue that is not started (no rate limit, room for 500)."""
    return StreamerBotIntegration(TTSQueueManager(TTSConfig(max_queue_size=500, rate_limit_per_minute=0)))


def spoken(actions: Iterable[object] | None, bot: StreamerBotIntegration) -> list[str]:
    """The texts ``bot`` queues for ``actions``; each must be a Speak it accepts."""
    assert actions is not None, "the event was not mapped"
    texts = []
    for action in actions:
        assert isinstance(action, Speak)
        result = bot.submit(action.event_type, action.fields)
        assert result.status == "ok" and result.text is not None, result
        texts.append(result.text)
    return texts
