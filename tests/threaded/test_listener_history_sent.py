"""GetHistory shows what the viewer sent next to what was (or would have been) spoken:
a blocked viewer's words, a donation whose link was left out, a played chat command.
The reply only adds ``sent_text``; ``text`` keeps its meaning (the text as queued)."""

from __future__ import annotations

from doubles import EventLog, RecordingSink, ToneEngine
from listener_support import Served

from tts_core import TTSConfig


def test_history_rows_carry_the_viewers_own_words(make_manager):
    config = TTSConfig(rate_limit_per_minute=0)
    config.moderation.blocked_users = ["gus"]
    manager = make_manager(config, engine=ToneEngine(), sink=RecordingSink())
    events = EventLog()
    manager.subscribe(events)
    manager.start()
    served = Served(manager)
    served.dispatcher.history.start()
    refused = served.reply({"type": "chat", "message": "!tts gus is back", "username": "Gus", "id": "1"})
    assert refused["status"] == "rejected", refused
    spoken = served.reply({"type": "chat", "message": "!tts hal likes boats", "username": "Hal", "id": "2"})
    linked = served.reply({"type": "donation", "donor_name": "Ann", "amount": 5,
                           "message": "see http://spam.example now", "id": "3"})
    for reply in (spoken, linked):
        events.wait_for("playback_finished", reply["message_id"])
    served.dispatcher.history.stop()
    history = {e["message_id"]: e for e in served.reply({"request": "GetHistory"})["history"]}

    blocked = history[refused["message_id"]]
    assert blocked["event"] == "rejected" and blocked["reason"] == "blocked_user"
    assert blocked["sent_text"] == "gus is back", blocked
    assert blocked["text"] == "Gus says", "text keeps its meaning: the text as queued"
    played = history[spoken["message_id"]]
    assert played["event"] == "playback_finished" and played["sent_text"] == "hal likes boats"
    assert "hal likes boats" in played["text"]
    donation = history[linked["message_id"]]
    assert donation["sent_text"] == "see http://spam.example now", donation
    assert "spam" not in donation["text"], "the link was left out of what was spoken"
