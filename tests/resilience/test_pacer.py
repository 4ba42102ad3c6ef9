"""The pacer in use: jitter against the mock's bucket, a shared pause, sharing per key, threads.
Its shape (burst, spacing, refill) and its settings are stated in test_pinned_pacer.py."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from pingback_ext import Pingback
from pingback_ext.errors import ConfigurationError
from pingback_ext.mock.ratelimit import TokenBucketLimiter
from pingback_ext.ratelimit import MAX_PAUSE, LocalPacer
from pingback_ext.settings import APIKey
from tests.resilience.conftest import FakeClock


def admission_times(pacer: LocalPacer, clock: FakeClock, count: int) -> list[float]:
    times = []
    for _ in range(count):
        pacer.acquire()
        times.append(clock.now)
    return times


def test_paced_stream_never_trips_the_mock_bucket_despite_jitter(clock: FakeClock) -> None:
    """The mock's own token bucket, fed arrival times = admission + jittered latency."""
    import random

    rng = random.Random(7)
    for _ in range(50):
        pacer = LocalPacer(5, 2, clock=clock, sleep=clock.sleep)
        arrivals = []
        for i in range(30):
            pacer.acquire()
            # The first request also opens the connection: it arrives later than the rest.
            arrivals.append(clock.now + rng.uniform(0.0005, 0.02 if i == 0 else 0.004))
            clock.now += rng.uniform(0.001, 0.01)
        server_clock = FakeClock(0.0)
        server = TokenBucketLimiter(5, 2, clock=server_clock)
        for arrival in sorted(arrivals):
            server_clock.now = arrival
            assert server.acquire("key") is None
        clock.now += 10


def test_pause_holds_every_caller_sharing_the_budget(clock: FakeClock) -> None:
    state_owner = LocalPacer(5, 2, clock=clock, sleep=clock.sleep)
    other = LocalPacer(5, 2, clock=clock, sleep=clock.sleep, _state=state_owner._state)
    state_owner.pause(3.0)
    start = clock.now
    other.acquire()
    assert clock.now - start == pytest.approx(3.0)
    # A shorter pause never shortens a longer one.
    state_owner.pause(5.0)
    state_owner.pause(1.0)
    start = clock.now
    other.acquire()
    assert clock.now - start == pytest.approx(5.0)


async def test_async_callers_share_the_budget_and_the_pause(clock: FakeClock) -> None:
    pacer = LocalPacer(5, 2, clock=clock, sleep=clock.sleep, async_sleep=clock.async_sleep)
    pacer.pause(1.0)
    start = clock.now
    admitted: list[float] = []

    async def call() -> None:
        await pacer.acquire_async()
        admitted.append(clock.now - start)

    await asyncio.gather(*(call() for _ in range(6)))
    admitted.sort()
    assert admitted[0] >= 1.0
    # 6 requests from a full bucket: the 6th no earlier than 4 intervals after the 2nd.
    assert admitted[5] - admitted[1] >= 4 * 0.2


def test_clients_with_the_same_key_share_one_pacer_budget() -> None:
    key = APIKey("shared-key-for-pacer-test")
    first, second = LocalPacer.for_key(key), LocalPacer.for_key(key)
    assert first._state is second._state
    assert LocalPacer.for_key(APIKey("another-key"))._state is not first._state
    with (
        Pingback(api_key="client-key", base_url="http://127.0.0.1:9/v1") as a,
        Pingback(api_key="client-key", base_url="http://127.0.0.1:9/v1") as b,
    ):
        assert isinstance(a.pacer, LocalPacer) and isinstance(b.pacer, LocalPacer)
        assert a.pacer._state is b.pacer._state
        assert a.with_options(max_retries=0).pacer is a.pacer


def test_pacing_is_off_with_rate_limit_none_or_zero() -> None:
    for off in (None, 0):
        with Pingback(api_key="k", base_url="http://127.0.0.1:9/v1", rate_limit=off) as pb:
            assert pb.pacer is None
            assert pb.with_options(max_retries=0).pacer is None


def test_pacer_and_redis_url_together_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="not both"):
        Pingback(api_key="k", pacer=LocalPacer(), redis_url="redis://127.0.0.1:1/0")
    with pytest.raises(ConfigurationError, match="needs pacing on"):
        Pingback(api_key="k", rate_limit=None, redis_url="redis://127.0.0.1:1/0")


def test_threads_never_exceed_the_budget() -> None:
    """Real threads and clock, at a fast rate: admissions obey the token bucket's bound."""
    admitted: list[int] = []
    lock = threading.Lock()

    class Recording(LocalPacer):
        def _check(self, now_ms: int) -> int:
            wait = super()._check(now_ms)
            if wait == 0:
                with lock:
                    admitted.append(now_ms)
            return wait

    pacer = Recording(200, 2)  # one every 5 ms, burst 2

    def worker() -> None:
        for _ in range(20):
            pacer.acquire()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 80
    admitted.sort()
    for i in range(len(admitted)):
        for j in range(i + 2, min(i + 12, len(admitted))):
            # j - i + 1 admissions within (t_j - t_i) ms: at most burst + elapsed / interval.
            assert j - i + 1 <= 2 + (admitted[j] - admitted[i]) / 5
    assert time.monotonic() - started >= 77 * 0.005


# -- issue 11, finding 1: a pause is bounded, and a caller that may not wait that long is told


@pytest.mark.parametrize("asked", [999_999.0, 1e308, float("inf"), 86_400.0])
def test_a_pause_never_lasts_longer_than_max_pause(clock: FakeClock, asked: float) -> None:
    pacer = LocalPacer(5, 2, clock=clock, sleep=clock.sleep)
    pacer.pause(asked)
    start = clock.now
    assert pacer.acquire() == 0.0
    assert clock.now - start == pytest.approx(MAX_PAUSE)


@pytest.mark.parametrize("asked", [float("nan"), -5.0, -3.0, float("-inf"), 0.0])
def test_nonsense_pauses_hold_nobody(clock: FakeClock, asked: float) -> None:
    pacer = LocalPacer(5, 2, clock=clock, sleep=clock.sleep)
    pacer.pause(asked)
    assert pacer.acquire() == 0.0 and clock.sleeps == []


def test_acquire_returns_the_pause_left_at_once_when_it_may_not_wait_that_long(
    clock: FakeClock,
) -> None:
    pacer = LocalPacer(5, 2, clock=clock, sleep=clock.sleep)
    pacer.pause(30.0)
    assert pacer.acquire(max_pause=2.0) == pytest.approx(30.0)
    assert clock.sleeps == []  # refused without waiting, and without taking a turn
    clock.now += 29.0
    assert pacer.acquire(max_pause=2.0) == 0.0  # 1 s left: waited out
    assert sum(clock.sleeps) == pytest.approx(1.0)


async def test_async_acquire_refuses_a_long_pause_at_once(clock: FakeClock) -> None:
    pacer = LocalPacer(5, 2, clock=clock, sleep=clock.sleep, async_sleep=clock.async_sleep)
    pacer.pause(1e308)
    assert await pacer.acquire_async(max_pause=5.0) == pytest.approx(MAX_PAUSE)
    assert clock.sleeps == []
    assert await pacer.acquire_async() == 0.0


def test_a_refused_caller_leaves_no_one_waiting_behind_it(clock: FakeClock) -> None:
    first = LocalPacer(5, 2, clock=clock, sleep=clock.sleep)
    second = LocalPacer(5, 2, clock=clock, sleep=clock.sleep, _state=first._state)
    first.pause(10.0)
    assert first.acquire(max_pause=1.0) > 0  # gives up
    start = clock.now
    assert second.acquire() == 0.0  # waits only what is left of the pause itself
    assert clock.now - start == pytest.approx(10.0)


def test_a_shared_redis_pause_is_bounded_and_refused_at_once(redis_url: str) -> None:
    from pingback_ext.ratelimit import RedisPacer

    key = APIKey("redis-bounded-pause-key")
    first = RedisPacer(redis_url, api_key=key, prefix="test:bounded:")
    second = RedisPacer(redis_url, api_key=key, prefix="test:bounded:")
    try:
        first.pause(1e308)
        held = second.acquire(max_pause=1.0)  # another process sees the pause, bounded
        assert 0 < held <= MAX_PAUSE
    finally:
        first._redis.delete(first._pause_key, first._bucket_key)
        first.close()
        second.close()
