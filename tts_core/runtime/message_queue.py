"""The pending-message queue: playback order, capacity with shedding, hold, removal.

One lock and one condition guard everything; workers and the player wait on it.
Playback order: highest priority first, then arrival (``seq``). Messages that are
held (hold time or moderator approval) wait aside and join the order when released.

The upcoming message: near the end of a clip the player takes the next one out early
(``take_upcoming``) so the sink can start it the moment the clip ends. Until the sink
starts it, it still counts as next in line: a pause, a Clear or Remove that names it, or
a message that must play before it withdraws it (``StartDecision``) and it is back in
the order (or dropped) as if it had never been taken.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator

from tts_core.domain.counters import Counters
from tts_core.domain.message import MessagePriority, MessageState, TTSMessage
from tts_core.sinks.base import StartDecision

PRIORITIES_HIGH_TO_LOW = sorted(MessagePriority, reverse=True)
_FIFO_BUCKET = MessagePriority.NORMAL


class QueueFull(RuntimeError):
    """The queue is at capacity and nothing of lower priority can be evicted."""


class MessageQueue:
    """Thread-safe store of pending messages.

    Parameters: ``max_size`` (pending messages, held ones included),
    ``by_priority`` (False: strict arrival order, no shedding), ``counters`` (updated
    under the same lock as every transition, so the accounting adds up at any moment),
    ``lookahead`` (messages synthesized ahead of playback: the number of workers).
    """

    def __init__(
        self, max_size: int, by_priority: bool = True, counters: Counters | None = None, lookahead: int = 3
    ) -> None:
        self.max_size = max_size
        self.by_priority = by_priority
        self.counters = counters or Counters()
        self.lookahead = lookahead
        self.playing: TTSMessage | None = None
        self.upcoming: TTSMessage | None = None  # taken to start right after ``playing``
        self._upcoming_start: StartDecision | None = None
        # One lock; separate conditions so that adding a message wakes one worker, not
        # every worker and the player (which only cares when a clip becomes ready).
        self.cond = threading.Condition(threading.Lock())
        self._work = threading.Condition(self.cond._lock)  # type: ignore[attr-defined]
        self._play = threading.Condition(self.cond._lock)  # type: ignore[attr-defined]
        self._buckets: dict[MessagePriority, OrderedDict[str, TTSMessage]] = {
            p: OrderedDict() for p in MessagePriority
        }
        self._held: dict[str, TTSMessage] = {}
        self._hold_timers: list[tuple[float, int, str]] = []
        self._eligible = 0
        self.paused = False
        self.closed = False
        self._ending = 0  # ends being recorded outside the lock (see ending())

    # -- sizes -----------------------------------------------------------------

    def __len__(self) -> int:
        return self._eligible + len(self._held)

    # -- adding ----------------------------------------------------------------

    def put(self, msg: TTSMessage) -> list[TTSMessage]:
        """Add a message; return the messages evicted to make room.

        Raises QueueFull when full and no lower-priority message can be evicted.
        """
        with self.cond:
            evicted: list[TTSMessage] = []
            if len(self) >= self.max_size:
                victim = self._eviction_victim(msg.priority)
                if victim is None:
                    raise QueueFull(
                        f"queue is full ({self.max_size} pending) and holds nothing of "
                        f"lower priority than {msg.priority.name}"
                    )
                self._detach(victim)
                victim.state = MessageState.DROPPED
                self.counters.add("dropped")
                evicted.append(victim)
            self._insert(msg)
            self.counters.add("accepted")
            if msg.state is MessageState.HELD or evicted:
                self._wake_all()
            else:
                if self._position_below(msg, self.lookahead):
                    self._work.notify()
                if msg.state is MessageState.READY:
                    self._play.notify()
            return evicted

    def _insert(self, msg: TTSMessage) -> None:
        if msg.needs_approval or msg.eligible_at > time.monotonic():
            if msg.state is not MessageState.READY:
                msg.state = MessageState.HELD
            self._held[msg.id] = msg
            if not msg.needs_approval:
                heapq.heappush(self._hold_timers, (msg.eligible_at, msg.seq, msg.id))
            return
        if msg.state is MessageState.HELD:
            msg.state = MessageState.READY if msg.clip is not None else MessageState.WAITING
        bucket = self._buckets[self._bucket_of(msg)]
        if bucket and next(reversed(bucket.values())).seq > msg.seq:
            # Released late (approval): keep arrival order inside the priority.
            items = sorted([*bucket.values(), msg], key=lambda m: m.seq)
            bucket.clear()
            bucket.update((m.id, m) for m in items)
        else:
            bucket[msg.id] = msg
        self._eligible += 1
        if self.upcoming is not None and self._plays_before(msg, self.upcoming):
            self._withdraw_upcoming()

    def _plays_before(self, msg: TTSMessage, other: TTSMessage) -> bool:
        return self._place(msg) < self._place(other)

    def _place(self, msg: TTSMessage) -> tuple[int, int]:
        """Where ``msg`` stands in the order ``_in_order`` walks: its bucket (the highest
        priority first), then arrival."""
        return -self._bucket_of(msg), msg.seq

    def _bucket_of(self, msg: TTSMessage) -> MessagePriority:
        """Its priority's bucket; without ``by_priority`` all share one (arrival order)."""
        return msg.priority if self.by_priority else _FIFO_BUCKET

    def _position_below(self, msg: TTSMessage, limit: int) -> bool:
        """Whether ``msg`` is among the first ``limit`` messages of the order (O(priorities))."""
        if not self.by_priority:
            return self._eligible <= limit
        ahead = sum(len(self._buckets[p]) for p in MessagePriority if p > msg.priority)
        return ahead + len(self._buckets[msg.priority]) <= limit

    def _wake_all(self) -> None:
        self._wake_idle_waiters()
        self._work.notify_all()
        self._play.notify_all()

    def _wake_idle_waiters(self) -> None:
        """The end of a playback concerns only ``wait_idle`` (the player is the caller; the
        workers' window moved when the clip was taken): waking the others costs the
        player the GIL right when it starts the next clip."""
        if self._is_idle():  # only wait_idle waits on cond itself
            self.cond.notify_all()

    def _is_idle(self) -> bool:
        return not self._ending and self.playing is None and self.upcoming is None and len(self) == 0

    def _eviction_victim(self, priority: MessagePriority) -> TTSMessage | None:
        if not self.by_priority:
            return None
        for low in sorted(MessagePriority):
            if low >= priority:
                return None
            candidates = [m for m in self._held.values() if m.priority == low]
            bucket = self._buckets[low]
            if bucket:
                candidates.append(next(reversed(bucket.values())))
            if candidates:
                return max(candidates, key=lambda m: m.seq)
        return None

    # -- releasing held messages ------------------------------------------------

    def _release_due(self, now: float) -> None:
        """Release held messages whose time has come."""
        timers = self._hold_timers
        while timers and timers[0][0] <= now:
            _, _, msg_id = heapq.heappop(timers)
            msg = self._held.get(msg_id)
            if msg is not None and not msg.needs_approval:
                del self._held[msg_id]
                self._insert(msg)

    def approve(self, msg_id: str) -> TTSMessage | None:
        """Let a held message play (after its hold time); None if not held."""
        with self.cond:
            msg = self._held.get(msg_id)
            if msg is None:
                return None
            msg.needs_approval = False
            if msg.eligible_at <= time.monotonic():
                del self._held[msg_id]
                self._insert(msg)
            else:
                heapq.heappush(self._hold_timers, (msg.eligible_at, msg.seq, msg.id))
            self._wake_all()
            return msg

    # -- order -----------------------------------------------------------------

    def _in_order(self) -> Iterator[TTSMessage]:
        for p in PRIORITIES_HIGH_TO_LOW:
            yield from self._buckets[p].values()

    def _head(self) -> TTSMessage | None:
        return next(self._in_order(), None)

    def _first_claimable(self, window: int) -> TTSMessage | None:
        """The first unsynthesized message among the next ``window`` (under the lock)."""
        now = time.monotonic()
        self._release_due(now)
        for i, msg in enumerate(self._in_order()):
            if i >= window:
                return None
            if msg.state is MessageState.WAITING and msg.retry_at <= now:
                return msg
        return None

    def wait_until_claimable(self, window: int, timeout: float) -> bool:
        """Block until some message needs synthesis (or ``timeout``), claiming nothing.

        Workers wait here, then take a rate-limit token, then ``claim``: the token goes
        to whatever is first in the order *then*, so an URGENT message that arrived while
        they waited for the token is synthesized next.
        """
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.closed:
                if self._first_claimable(window) is not None:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._work.wait(min(remaining, self._next_wakeup()))
            return False

    def claim(self, window: int) -> TTSMessage | None:
        """Claim the first unsynthesized message among the next ``window``; None if none."""
        with self.cond:
            msg = None if self.closed else self._first_claimable(window)
            if msg is not None:
                msg.state = MessageState.SYNTHESIZING
            return msg

    def _next_wakeup(self) -> float:
        now = time.monotonic()
        waits = [0.5]
        if self._hold_timers:
            waits.append(self._hold_timers[0][0] - now)
        # Only the head of the order can be claimed, so only it can be waiting for a retry.
        retry = [m.retry_at - now for m in itertools.islice(self._in_order(), 64) if m.retry_at > now]
        if retry:
            waits.append(min(retry))
        return max(0.001, min(waits))

    def take_next_to_play(self, timeout: float) -> TTSMessage | None:
        """Block until the head of the order has its clip ready; remove and return it.

        Waits while paused. The head is re-evaluated on every change, so a message of
        higher priority that arrives meanwhile plays first.
        """
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.closed:
                self._release_due(time.monotonic())
                if not self.paused:
                    head = self._head()
                    if head is not None and head.state is MessageState.READY:
                        self._detach(head)
                        head.state = MessageState.PLAYING
                        self.playing = head
                        self._work.notify()  # the look-ahead window moved on by one
                        return head
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._play.wait(min(remaining, self._next_wakeup()))
            return None

    # -- the upcoming message (see the module's docstring) --------------------------

    def take_upcoming(self, start: StartDecision) -> TTSMessage | None:
        """Take the head of the order out now if its clip is ready (never waits; None
        when paused or not ready); ``start`` decides whether the sink starts it."""
        with self.cond:
            if self.closed or self.paused or self.upcoming is not None:
                return None
            self._release_due(time.monotonic())
            head = self._head()
            if head is None or head.state is not MessageState.READY:
                return None
            self._detach(head)
            head.state = MessageState.PLAYING
            self.upcoming, self._upcoming_start = head, start
            self._work.notify()  # the look-ahead window moved on by one
            return head

    def settle_upcoming(self, msg: TTSMessage) -> bool:
        """After the playing clip ended: True if the sink started ``msg`` (it is now the
        one playing); False if it was withdrawn (back in the order, or dropped)."""
        with self.cond:
            if self.upcoming is not msg:
                return False  # withdrawn already
            if self._withdraw_upcoming():
                return False
            self.upcoming, self._upcoming_start = None, None
            self.playing = msg
            return True

    def withdraw_upcoming(self) -> None:
        """Put the upcoming message back in the order unless the sink started it."""
        with self.cond:
            self._withdraw_upcoming()

    def _withdraw_upcoming(self, dropped: bool = False) -> bool:
        msg, start = self.upcoming, self._upcoming_start
        if msg is None or start is None or not start.withdraw():
            return False
        self.upcoming, self._upcoming_start = None, None
        if dropped:
            msg.state = MessageState.DROPPED
        else:
            msg.state = MessageState.READY
            self._insert(msg)
            self._wake_all()
        return True

    # -- state changes from workers -----------------------------------------------

    def mark_ready(self, msg: TTSMessage, clip: object) -> bool:
        """Store a synthesized clip; False if the message left the queue meanwhile."""
        with self.cond:
            if msg.state is not MessageState.SYNTHESIZING:
                return False
            msg.clip = clip
            msg.state = MessageState.READY
            self._play.notify()
            return True

    def release_claim(self, msg: TTSMessage, retry_at: float = 0.0) -> bool:
        """Give a claimed message back for another attempt; False if it left the queue."""
        with self.cond:
            if msg.state is not MessageState.SYNTHESIZING:
                return False
            msg.state = MessageState.WAITING
            msg.retry_at = retry_at
            self._work.notify()
            return True

    def finish(self, msg: TTSMessage, state: MessageState) -> bool:
        """Remove a pending message with a final state; False if it was not pending."""
        with self.cond:
            if msg is self.upcoming and self._withdraw_upcoming(dropped=True):
                msg.state = state
                self.counters.add(state.value)
                self._wake_all()
                return True
            if msg.state.is_final or msg.state is MessageState.PLAYING:
                return False
            if not self._detach(msg):
                return False
            msg.state = state
            self.counters.add(state.value)
            self._wake_all()
            return True

    def record_rejected_on_arrival(self) -> None:
        """Count a message accepted and rejected at once (moderation, TTS disabled)."""
        with self.cond:
            self.counters.add("accepted")
            self.counters.add("rejected")

    def record_dropped_on_arrival(self, msg: TTSMessage) -> None:
        """Count a message accepted and dropped at once (a recovered one that finds the queue full)."""
        with self.cond:
            msg.state = MessageState.DROPPED
            self.counters.add("accepted")
            self.counters.add("dropped")

    def end_playback(self, msg: TTSMessage, skipped: bool) -> None:
        with self.cond:
            msg.state = MessageState.PLAYED
            self.playing = None
            self.counters.add("played")
            if skipped:
                self.counters.add("skipped")
            self._wake_idle_waiters()

    def end_playback_failed(self, msg: TTSMessage) -> None:
        with self.cond:
            msg.state = MessageState.FAILED
            self.playing = None
            self.counters.add("failed")
            self._wake_idle_waiters()

    def requeue_interrupted(self, msg: TTSMessage) -> None:
        """Put back the clip that shutdown interrupted; it plays again next time."""
        with self.cond:
            self.playing = None
            msg.state = MessageState.READY
            self._insert(msg)
            self._wake_all()

    def reset_synthesis(self) -> list[TTSMessage]:
        """After the workers stopped: every clip is synthesized again on the next start."""
        with self.cond:
            reset = []
            for msg in [*self._in_order(), *self._held.values()]:
                if msg.state in (MessageState.READY, MessageState.SYNTHESIZING):
                    msg.state = MessageState.HELD if msg.id in self._held else MessageState.WAITING
                    reset.append(msg)
            return reset

    def stats(self) -> dict[str, int]:
        """Counters, pending, held and in_flight read together under the lock."""
        with self.cond:
            out = self.counters.snapshot()
            out["pending"] = len(self)
            out["held"] = len(self._held)
            out["in_flight"] = (self.playing is not None) + (self.upcoming is not None)
            return out

    @contextlib.contextmanager
    def ending(self) -> Iterator[None]:
        """Around a transition that ends messages and what records it outside the lock
        (journal, events): ``wait_idle`` does not return before the block is done."""
        with self.cond:
            self._ending += 1
        try:
            yield
        finally:
            with self.cond:
                self._ending -= 1
                if self._is_idle():
                    self.cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is pending or playing, and every end is recorded; False on timeout."""
        with self.cond:
            return self.cond.wait_for(self._is_idle, timeout)

    # -- removal -------------------------------------------------------------------

    def _detach(self, msg: TTSMessage) -> bool:
        if self._held.pop(msg.id, None) is not None:
            return True
        bucket = self._buckets[self._bucket_of(msg)]
        if bucket.pop(msg.id, None) is not None:
            self._eligible -= 1
            return True
        return False

    def get(self, msg_id: str) -> TTSMessage | None:
        with self.cond:
            msg = self._held.get(msg_id)
            if msg is not None:
                return msg
            for busy in (self.playing, self.upcoming):
                if busy is not None and busy.id == msg_id:
                    return busy
            for bucket in self._buckets.values():
                msg = bucket.get(msg_id)
                if msg is not None:
                    return msg
            return None

    def remove_all(self) -> list[TTSMessage]:
        """Take every pending message out (state DROPPED); return them in order."""
        with self.cond:
            removed = list(self._in_order()) + sorted(self._held.values(), key=lambda m: m.seq)
            upcoming = self.upcoming
            if upcoming is not None and self._withdraw_upcoming(dropped=True):
                removed.insert(0, upcoming)
            for bucket in self._buckets.values():
                bucket.clear()
            self._held.clear()
            self._hold_timers.clear()
            self._eligible = 0
            for msg in removed:
                msg.state = MessageState.DROPPED
            self.counters.add("dropped", len(removed))
            self._wake_all()
            return removed

    def remove_where(self, predicate: Callable[[TTSMessage], bool]) -> list[TTSMessage]:
        """Take out every pending or held message ``predicate`` accepts (state DROPPED)."""
        with self.cond:
            removed = [m for m in [*self._in_order(), *self._held.values()] if predicate(m)]
            for msg in removed:
                self._detach(msg)
                msg.state = MessageState.DROPPED
            upcoming = self.upcoming
            if upcoming is not None and predicate(upcoming) and self._withdraw_upcoming(dropped=True):
                removed.insert(0, upcoming)
            if removed:
                self.counters.add("dropped", len(removed))
                self._wake_all()
            return removed

    def snapshot(self, limit: int | None = None) -> list[TTSMessage]:
        """Pending messages in playback order, then held ones by arrival."""
        with self.cond:
            out: list[TTSMessage] = []
            for msg in self._in_order():
                if limit is not None and len(out) >= limit:
                    return out
                out.append(msg)
            held = sorted(self._held.values(), key=lambda m: m.seq)
            return out + held[: None if limit is None else max(0, limit - len(out))]

    # -- control -------------------------------------------------------------------

    def apply_settings(self, max_size: int, by_priority: bool, lookahead: int) -> None:
        """Take new settings: ``max_size`` (a smaller one drops nothing already queued),
        ``by_priority`` (switching keeps every message, in arrival order) and
        ``lookahead`` (messages synthesized ahead: the number of workers)."""
        with self.cond:
            self.max_size = max_size
            self.lookahead = lookahead
            if by_priority != self.by_priority:
                eligible = sorted(self._in_order(), key=lambda m: m.seq)
                for bucket in self._buckets.values():
                    bucket.clear()
                self._eligible = 0
                self.by_priority = by_priority
                for msg in eligible:
                    self._insert(msg)
            self._wake_all()

    def set_paused(self, paused: bool) -> None:
        with self.cond:
            self.paused = paused
            if paused:
                self._withdraw_upcoming()
            self._wake_all()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self._withdraw_upcoming()
            self._wake_all()

    def reopen(self) -> None:
        with self.cond:
            self.closed = False
