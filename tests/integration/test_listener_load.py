"""20 WebSocket clients x 1,000 events at once: nothing lost, nothing played twice, the
accounting adds up, and each client's events keep their order within a priority."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import defaultdict

from doubles import assert_accounting
from listener_support import start_listener
from websockets.asyncio.client import connect

from tts_core import TTSConfig

CLIENTS = 20
EVENTS_PER_CLIENT = 1000


def _event(client: int, n: int, rnd: random.Random) -> dict:
    kind = rnd.random()
    text = f"client {client} event {n}"
    if kind < 0.1:
        return {"type": "donation", "donor_name": f"donor{client}", "amount": 5, "message": text}
    if kind < 0.2:
        return {"type": "chat", "username": f"viewer{client}", "message": f"!tts {text}"}
    priority = rnd.choice(["URGENT", "HIGH", "NORMAL", "LOW"])
    return {"type": "tts", "text": text, "priority": priority}


async def _client(url: str, client: int) -> dict[str, tuple[int, int]]:
    """Send all events pipelined; return message_id -> (client, n) from the replies."""
    rnd = random.Random(client)
    acked: dict[str, tuple[int, int]] = {}
    async with connect(url, max_queue=None) as ws:
        async def send_all() -> None:
            for n in range(EVENTS_PER_CLIENT):
                await ws.send(json.dumps({**_event(client, n, rnd), "id": n}))

        sender = asyncio.create_task(send_all())
        for expected in range(EVENTS_PER_CLIENT):
            reply = json.loads(await ws.recv())
            assert reply["status"] == "ok", reply
            assert reply["id"] == expected, "replies come back in the order frames were sent"
            acked[reply["message_id"]] = (client, expected)
        await sender
    return acked


async def _all_clients(url: str) -> dict[str, tuple[int, int]]:
    results = await asyncio.gather(*(_client(url, c) for c in range(CLIENTS)))
    merged: dict[str, tuple[int, int]] = {}
    for acked in results:
        merged.update(acked)
    return merged


def test_20_clients_x_1000_events_lose_nothing_and_keep_order(make_manager):
    config = TTSConfig(max_queue_size=CLIENTS * EVENTS_PER_CLIENT, rate_limit_per_minute=0,
                       max_concurrent_workers=3)
    running = start_listener(make_manager, config=config, duration_ms=1, max_messages_per_second=0)
    try:
        started = time.monotonic()
        acked = asyncio.run(_all_clients(running.url))
        sent_in = time.monotonic() - started
        assert_accounting(running.manager)  # holds mid-flight too
        assert running.manager.wait_until_idle(60)
    finally:
        running.server.stop()
    assert len(acked) == CLIENTS * EVENTS_PER_CLIENT, "every event acknowledged with its own id"

    played = running.sink.played
    ids = [p.message_id for p in played]
    assert len(ids) == len(set(ids)) == len(acked) and set(ids) == set(acked), "lost or doubled"
    assert running.sink.max_concurrent == 1
    stats = assert_accounting(running.manager)
    assert stats["accepted"] == stats["played"] == len(acked)

    # Within one client and one priority, playback follows that client's sending order.
    order: dict[tuple[int, str], list[int]] = defaultdict(list)
    for p in played:
        client, n = acked[p.message_id]
        order[(client, p.priority)].append(n)
    for key, sequence in order.items():
        assert sequence == sorted(sequence), f"client {key[0]} {key[1]} out of order"
    assert sent_in < 30, f"acknowledging took {sent_in:.1f} s"
