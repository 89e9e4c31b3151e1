"""The one token bucket on a fake clock: bursts, refill, live changes, refunds, waiting."""

from __future__ import annotations

import threading

import pytest

from tts_core.domain.token_bucket import TokenBucket


class FakeClock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_allows_its_burst_then_says_how_long_to_wait():
    clock = FakeClock()
    bucket = TokenBucket(60, burst=3, clock=clock)  # one a second
    assert [bucket.try_take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.try_take() == pytest.approx(1.0)
    clock.now += 0.25
    assert bucket.try_take() == pytest.approx(0.75)  # asking takes nothing


def test_tokens_come_back_at_the_rate_up_to_the_burst():
    clock = FakeClock()
    bucket = TokenBucket(120, burst=2, clock=clock)  # two a second
    bucket.try_take(), bucket.try_take()
    clock.now += 0.5
    assert bucket.try_take() == 0.0 and bucket.try_take() > 0
    clock.now += 3600
    assert [bucket.try_take() for _ in range(3)][:2] == [0.0, 0.0]  # never more than the burst
    assert bucket.try_take() > 0


def test_zero_is_unlimited():
    bucket = TokenBucket(0, clock=FakeClock())
    assert bucket.unlimited and all(bucket.try_take() == 0.0 for _ in range(10_000))


def test_per_second_bursts_one_second_worth():
    clock = FakeClock()
    bucket = TokenBucket.per_second(10, clock=clock)
    assert [bucket.try_take() == 0.0 for _ in range(12)] == [True] * 10 + [False] * 2
    clock.now += 0.5
    assert [bucket.try_take() == 0.0 for _ in range(6)] == [True] * 5 + [False]
    assert TokenBucket.per_second(0.5, clock=clock).burst == 1.0  # a slow rate still allows one


def test_configure_keeps_saved_tokens_up_to_the_new_burst():
    clock = FakeClock()
    bucket = TokenBucket(60, burst=5, clock=clock)
    bucket.configure(60, burst=2)
    assert [bucket.try_take() == 0.0 for _ in range(3)] == [True, True, False]
    bucket.configure(6000, burst=2)  # faster: the wait shrinks at once
    assert bucket.try_take() == pytest.approx(0.01)


def test_refund_gives_a_token_back_but_never_beyond_the_burst():
    clock = FakeClock()
    bucket = TokenBucket(60, burst=1, clock=clock)
    assert bucket.try_take() == 0.0 and bucket.try_take() > 0
    bucket.refund()
    bucket.refund()
    assert bucket.try_take() == 0.0 and bucket.try_take() > 0


def test_acquire_takes_at_once_when_there_is_a_token():
    bucket = TokenBucket(60, clock=FakeClock())
    assert bucket.acquire() is True


def test_acquire_gives_up_when_cancelled_or_out_of_time():
    bucket = TokenBucket(1, clock=FakeClock())  # one a minute
    bucket.try_take()
    cancel = threading.Event()
    cancel.set()
    assert bucket.acquire(cancel=cancel) is False
    assert bucket.acquire(timeout=0) is False


def test_acquire_waits_for_the_clock_to_refill():
    clock = FakeClock()
    bucket = TokenBucket(60, clock=clock)
    bucket.try_take()
    waits: list[float] = []

    class Cancel(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:  # time passes only here
            waits.append(timeout or 0.0)
            clock.now += timeout or 0.0
            return False

    assert bucket.acquire(cancel=Cancel()) is True
    assert sum(waits) == pytest.approx(1.0) and max(waits) <= 0.25
