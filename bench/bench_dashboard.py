"""The listener's throughput with the dashboard open, against none, run alternately.

Same server and lean clients as bench_listener.py (persistence on, donation frames, 64
in flight over one connection). Modes, alternated run by run so that drift in the
machine's speed hits all of them alike:

- ``none``: no dashboard;
- ``subscriber``: a WebSocket client that subscribes to every event (GetStats every 2 s,
  GetQueue every 5 s) and reads everything, in its own process: a bot that follows
  everything, the listener's cost of pushing each event;
- ``page``: a WebSocket client that does what the dashboard page does on the wire: every
  event, but while more than 250 messages wait it drops ``queued`` and asks GetQueue
  (250 rows) each second instead (dashboard.js, ``follow``); GetStats every 2 s: the
  listener's cost of serving a dashboard, without the browser;
- ``blank``: headless Chromium (Debian's, via Playwright) on an empty page: what the
  browser itself costs this 2-core machine, whatever page it shows;
- ``chromium``: the real dashboard page in that browser, live: the listener's cost of
  serving it, plus the page's work, plus the browser's own CPU.

Run: nice -n -15 .venv/bin/python bench/bench_dashboard.py [--runs N] [--events N]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import queue
import shutil
import time
from typing import Any

from bench_listener import PLAYBACK, bench_server, client_process, open_websocket, run_in_child, ws_frame
from common import median, percentile, table

MODES = ("none", "subscriber", "page", "blank", "chromium")
PAGE_EVENTS = ["queued", "playback_started", "playback_finished", "skipped", "failed", "dropped", "rejected",
               "filtered"]
LEAVING = tuple(f'{{"event":"{name}"' for name in ("playback_started", "dropped", "rejected", "failed"))
QUEUE_LIMIT = 250  # dashboard.js: beyond this many waiting, GetQueue each second instead of "queued"
RUNS = 3  # the README figures: --runs 5
EVENTS = 30_000
WINDOW = 64
TIME_LIMIT_SECONDS = 540.0  # within make bench's BENCH_TIMEOUT (600 s)


def subscriber_process(port: int, ready: Any, stop: Any, results: Any) -> None:
    """A raw WebSocket client that subscribes to everything and polls like the page."""
    try:
        sock, _ = open_websocket(port)
        sock.sendall(ws_frame(json.dumps({"request": "Subscribe", "id": "s"})))
        sock.settimeout(0.2)
        ready.set()
        received, next_stats, next_queue = 0, 0.0, 0.0
        while not stop.is_set():
            now = time.monotonic()
            if now >= next_stats:
                sock.sendall(ws_frame(json.dumps({"request": "GetStats", "id": "gs"})))
                next_stats = now + 2.0
            if now >= next_queue:
                sock.sendall(ws_frame(json.dumps({"request": "GetQueue", "limit": 500, "id": "gq"})))
                next_queue = now + 5.0
            try:
                chunk = sock.recv(1 << 16)
            except TimeoutError:
                continue
            if not chunk:
                raise RuntimeError("the listener closed the subscriber's connection")
            received += len(chunk)
        sock.close()
        results.put(received)
    except Exception as exc:  # noqa: BLE001 -- reported by the parent
        ready.set()
        results.put(RuntimeError(f"subscriber failed: {exc!r}"))


def page_process(port: int, ready: Any, stop: Any, results: Any) -> None:
    """A WebSocket client (the websockets library) that follows the queue as the page does."""
    try:
        from websockets.sync.client import connect

        with connect(f"ws://127.0.0.1:{port}/", max_size=None, open_timeout=10) as ws:
            ws.send(json.dumps({"request": "Subscribe", "events": PAGE_EVENTS, "id": "s"}))
            ready.set()
            received, following, waiting, next_stats, next_queue = 0, True, 0, 0.0, 0.0
            while not stop.is_set():
                now = time.monotonic()
                if now >= next_stats:
                    ws.send(json.dumps({"request": "GetStats", "id": "gs"}))
                    next_stats = now + 2.0
                if now >= next_queue:
                    ws.send(json.dumps({"request": "GetQueue", "limit": QUEUE_LIMIT, "id": "gq"}))
                    next_queue = now + (5.0 if following else 1.0)
                try:
                    text = ws.recv(timeout=0.2)
                except TimeoutError:
                    continue
                received += len(text)
                if text.startswith('{"event":"queued"'):
                    waiting += 1
                elif text.startswith(LEAVING):
                    waiting -= 1
                more = waiting > QUEUE_LIMIT
                if text.startswith('{"id":"gq"'):
                    reply = json.loads(text)
                    waiting = reply["pending"]
                    more = reply["pending"] > len(reply["queue"])
                if more == following:  # follow "queued" only while the whole queue is on screen
                    following = not more
                    events = PAGE_EVENTS if following else [e for e in PAGE_EVENTS if e != "queued"]
                    ws.send(json.dumps({"request": "Subscribe", "events": events, "id": "s"}))
                    next_queue = now + (5.0 if following else 1.0)
        results.put(received)
    except Exception as exc:  # noqa: BLE001 -- reported by the parent
        ready.set()
        results.put(RuntimeError(f"page client failed: {exc!r}"))


def chromium_process(port: int, ready: Any, stop: Any, results: Any, blank: bool = False) -> None:
    """The dashboard page (or an empty one) in headless Chromium, live until ``stop``."""
    try:
        from playwright.sync_api import sync_playwright

        path = shutil.which("chromium") or shutil.which("chromium-browser")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=path, headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            if not blank:
                page.goto(f"http://127.0.0.1:{port}/")
                page.locator("#connection", has_text="Live").wait_for(timeout=30_000)
            ready.set()
            while not stop.is_set():
                page.wait_for_timeout(200)
            live = "Live" if blank else page.locator("#connection").inner_text()
            browser.close()
        results.put(live)
    except Exception as exc:  # noqa: BLE001 -- reported by the parent
        ready.set()
        results.put(RuntimeError(f"chromium failed: {exc!r}"))


def run(mode: str, events: int, playback: str, deadline: float) -> tuple[float, float, float]:
    """One run on a fresh server: (acks/s, p50 ms, p99 ms)."""
    ctx = multiprocessing.get_context("spawn")
    with bench_server(playback, max_queue_size=events + 10) as (_, server):
        watcher, stop, watched = None, ctx.Event(), ctx.Queue()
        try:
            if mode != "none":
                ready = ctx.Event()
                target = {"subscriber": subscriber_process, "page": page_process}.get(mode, chromium_process)
                args: tuple[Any, ...] = (server.port, ready, stop, watched)
                watcher = ctx.Process(target=target, args=(*args, True) if mode == "blank" else args)
                watcher.start()
                if not ready.wait(60):
                    raise TimeoutError(f"{mode} did not connect")
            elapsed, latencies = run_in_child(client_process, (server.port, 1, events, WINDOW), deadline)
            if watcher is not None:
                stop.set()
                try:
                    outcome = watched.get(timeout=60)
                except queue.Empty:
                    outcome = RuntimeError(f"{mode} did not report")
                if isinstance(outcome, BaseException):
                    raise outcome
                if mode == "chromium" and outcome != "Live":
                    raise RuntimeError(f"the dashboard lost its connection: {outcome}")
        finally:
            if watcher is not None:
                stop.set()
                watcher.join(30)
                if watcher.is_alive():
                    watcher.kill()
    assert len(latencies) == events, len(latencies)
    return events / elapsed, percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument("--playback", choices=sorted(PLAYBACK), default="real-time")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT_SECONDS)
    args = parser.parse_args()
    modes = args.modes.split(",")
    deadline = time.monotonic() + args.time_limit
    runs: dict[str, list[tuple[float, float, float]]] = {mode: [] for mode in modes}
    run(modes[0], min(args.events, 3_000), args.playback, deadline)  # warm-up, not counted
    for _ in range(args.runs):
        for mode in modes:  # alternate: none, subscriber, chromium, none, ...
            runs[mode].append(run(mode, args.events, args.playback, deadline))
    base = median([r[0] for r in runs[modes[0]]])
    rows = []
    for mode in modes:
        rates = [r[0] for r in runs[mode]]
        rows.append([mode, f"{median(rates):,.0f}", f"{(median(rates) / base - 1) * 100:+.1f}%",
                     " / ".join(f"{r:,.0f}" for r in rates), f"{median([r[1] for r in runs[mode]]):.2f}",
                     f"{median([r[2] for r in runs[mode]]):.2f}"])
    table(f"Listener with a dashboard: {args.events:,} donations, 1 connection, {WINDOW} in flight, "
          f"{args.playback} playback, persistence on (median of {args.runs} alternated runs)",
          ["dashboard", "acks/s", "vs none", "runs", "p50 ack ms", "p99 ack ms"], rows)


if __name__ == "__main__":
    main()
