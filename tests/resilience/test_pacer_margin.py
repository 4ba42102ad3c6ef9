"""The pacer's margin against jitter: half a token of the server's burst kept in reserve (fake
clock; the mock's own bucket as the server)."""

from __future__ import annotations

import random

from pingback_ext.mock.ratelimit import TokenBucketLimiter
from pingback_ext.ratelimit import RATE_MARGIN, LocalPacer
from tests.resilience.conftest import FakeClock


def test_reserve_absorbs_two_arrivals_bunched_by_a_stall() -> None:
    """Requests admitted on schedule but held by a stall of up to ~100 ms (the server's or
    ours: all leave when it ends) still pass the server's bucket, wherever the stall falls.
    With the former 25 ms gap, a stall over the burst bunched it with the third request."""
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
        # Mostly around the burst, where the server's bucket is lowest.
        start = rng.uniform(admitted[0] - 0.1, admitted[3] if rng.random() < 0.8 else admitted[-1])
        end = start + rng.uniform(0, 0.095)  # stalls of up to ~100 ms
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
