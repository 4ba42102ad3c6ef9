"""The pacer's margins against jitter: half a token of the server's burst kept in reserve, and
one interval held back after a stall of our own process (fake clock; the mock's own bucket as
the server)."""

from __future__ import annotations

import asyncio
import random

import pytest

from pingback_ext.mock.ratelimit import TokenBucketLimiter
from pingback_ext.ratelimit import BURST_GAP, RATE_MARGIN, STALL_AFTER, LocalPacer
from tests.resilience.conftest import FakeClock


class Stalling(FakeClock):
    """A clock whose sleeps overshoot by `stall` seconds once, as a starved process does."""

    def __init__(self, stall: float) -> None:
        super().__init__()
        self.stall = stall

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds + self.stall)
        self.stall = 0.0


def test_reserve_absorbs_two_arrivals_bunched_by_a_stall() -> None:
    """Requests admitted on schedule but delayed (a stall of up to BURST_GAP) still pass the
    server's bucket, however the delays fall."""
    rng = random.Random(11)
    for _ in range(200):
        clock = FakeClock()
        pacer = LocalPacer(5, 2, clock=clock, sleep=clock.sleep)
        server_clock = FakeClock()
        server = TokenBucketLimiter(5, 2, clock=server_clock)
        admitted = []
        for _ in range(12):
            pacer.acquire()
            admitted.append(clock.now)
        # One stall: every request admitted inside it leaves when it ends.
        start = rng.uniform(admitted[0], admitted[-1])
        end = start + rng.uniform(0, BURST_GAP * 0.95)
        arrivals = sorted(end if start <= t < end else t for t in admitted)
        for arrival in arrivals:
            server_clock.now = arrival
            assert server.acquire("k") is None, (admitted, arrivals)


def test_the_reserve_costs_little_throughput() -> None:
    clock = FakeClock()
    pacer = LocalPacer(5, 2, clock=clock, sleep=clock.sleep)
    start = clock.now
    for _ in range(40):
        pacer.acquire()
    ceiling = (40 - 2) / 5
    assert ceiling / (clock.now - start + 0.2 * (1 + RATE_MARGIN)) >= 0.95


INTERVAL = 0.2 * (1 + RATE_MARGIN)


def test_a_stall_holds_everyone_back_one_interval() -> None:
    stall = STALL_AFTER * 4
    clock = Stalling(stall)
    pacer = LocalPacer(5, 2, clock=clock, sleep=clock.sleep)
    start = clock.now
    pacer.acquire()
    pacer.acquire()  # waits BURST_GAP, wakes `stall` late: the first may only be leaving now
    assert clock.now - start == pytest.approx(BURST_GAP + stall + INTERVAL, abs=0.002)


def test_ordinary_oversleep_is_not_a_stall() -> None:
    clock = Stalling(stall=STALL_AFTER / 5)
    pacer = LocalPacer(5, 2, clock=clock, sleep=clock.sleep)
    pacer.acquire()
    pacer.acquire()
    woke = clock.now
    pacer.acquire()
    # GCRA catches up on the small delay: the next one is due one interval after the second
    # was *scheduled*, not after it woke.
    assert clock.now - woke == pytest.approx(INTERVAL - STALL_AFTER / 5, abs=0.003)


def test_async_waiters_see_stalls_too() -> None:
    clock = Stalling(stall=STALL_AFTER * 4)

    async def sleep(seconds: float) -> None:
        clock.sleep(seconds)

    pacer = LocalPacer(5, 2, clock=clock, sleep=clock.sleep, async_sleep=sleep)

    async def run() -> None:
        start = clock.now
        await pacer.acquire_async()
        await pacer.acquire_async()
        assert clock.now - start == pytest.approx(BURST_GAP + STALL_AFTER * 4 + INTERVAL, abs=0.002)

    asyncio.run(run())
