"""Pinned: pacing at any rate and burst (fractional rates too), locally and through a real Redis.

The model (pingback_ext.ratelimit): a pacer admits what a server's token bucket of the same rate
and burst would accept, with a small safety margin: the first `burst - 1` requests go at once,
the last of the burst `BURST_GAP` later, then one every `1/rate * (1 + RATE_MARGIN)` seconds.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import uuid
from collections.abc import Iterator

import pytest

from pingback_ext.errors import ConfigurationError, RateLimiterError
from pingback_ext.mock.ratelimit import TokenBucketLimiter
from pingback_ext.ratelimit import BURST_GAP, RATE_MARGIN, LocalPacer, RedisPacer
from pingback_ext.settings import KEY_HASH_ROUNDS, APIKey
from tests.resilience.conftest import FakeClock, free_port

#: (rate, burst) pairs: Pingback's own, fractional rates, bursts of 1 and more than 2.
SHAPES = [(5, 2), (0.5, 1), (0.5, 2), (5, 1), (5, 3), (2.5, 4), (3, 2), (1, 5), (0.2, 3), (50, 1)]
#: What one request costs at each rate: its interval plus the 1 % margin, rounded UP to the whole
#: millisecond the budget is counted in (3/s: 336.67 ms -> 337; 7/s: 144.29 ms -> 145).
COST_MS = {5: 202, 2.5: 404, 0.5: 2020, 3: 337, 7: 145}


def admissions(pacer: LocalPacer | RedisPacer, clock: FakeClock, count: int) -> list[float]:
    start = clock.now
    times = []
    for _ in range(count):
        pacer.acquire()
        times.append(clock.now - start)
    return times


def interval(rate: float) -> float:
    return 1 / rate * (1 + RATE_MARGIN)


def check_shape(times: list[float], rate: float, burst: int) -> None:
    """The documented shape, to the millisecond the budget is counted in."""
    tick = 0.0015
    assert times[: burst - 1] == pytest.approx([0.0] * (burst - 1), abs=tick)
    assert times[burst - 1] == pytest.approx(BURST_GAP if burst > 1 else 0.0, abs=tick)
    for k in range(burst, len(times)):
        expected = times[burst - 1] + (k - burst + 1) * interval(rate)
        assert times[k] == pytest.approx(expected, abs=tick * (k + 1)), (k, times)


def check_server_accepts(times: list[float], rate: float, burst: int) -> None:
    server_clock = FakeClock(0.0)
    server = TokenBucketLimiter(rate, burst, clock=server_clock)
    for t in times:
        server_clock.now = t
        assert server.acquire("key") is None, (t, times)


@pytest.mark.parametrize(("rate", "burst"), SHAPES)
def test_local_pacing_has_the_documented_shape(clock: FakeClock, rate: float, burst: int) -> None:
    pacer = LocalPacer(rate, burst, clock=clock, sleep=clock.sleep)
    times = admissions(pacer, clock, burst + 5)
    check_shape(times, rate, burst)
    check_server_accepts(times, rate, burst)


@pytest.mark.parametrize(("rate", "burst"), SHAPES)
def test_local_pacing_refills_to_the_burst_after_idling(
    clock: FakeClock, rate: float, burst: int
) -> None:
    pacer = LocalPacer(rate, burst, clock=clock, sleep=clock.sleep)
    admissions(pacer, clock, burst + 2)
    clock.now += 10 * burst / rate  # idle long enough to refill many times over
    times = admissions(pacer, clock, burst + 3)
    check_shape(times, rate, burst)


def test_a_pacer_waits_exactly_what_the_budget_lacks_in_one_sleep(clock: FakeClock) -> None:
    pacer = LocalPacer(5, 1, clock=clock, sleep=clock.sleep)
    check_exact_waits(pacer, clock)


def check_exact_waits(pacer: LocalPacer | RedisPacer, clock: FakeClock) -> None:
    cost = COST_MS[5] / 1000
    pacer.acquire()
    clock.now += 0.1
    pacer.acquire()
    assert clock.sleeps == [pytest.approx(cost - 0.1, abs=1e-6)]
    clock.now += cost - 0.001  # one millisecond short of the next request's budget
    pacer.acquire()
    assert clock.sleeps[1:] == [pytest.approx(0.001, abs=1e-6)]


def test_steady_pacing_does_not_drift_over_a_hundred_requests(clock: FakeClock) -> None:
    pacer = LocalPacer(5, 1, clock=clock, sleep=clock.sleep)
    times = admissions(pacer, clock, 101)
    cost = COST_MS[5] / 1000
    assert 100 * cost - 1e-6 <= times[100] <= 100 * cost + 0.005


@pytest.mark.parametrize("rate", sorted(COST_MS))
def test_each_request_costs_its_interval_rounded_up_to_the_millisecond(
    clock: FakeClock, rate: float
) -> None:
    pacer = LocalPacer(rate, 1, clock=clock, sleep=clock.sleep)
    times = admissions(pacer, clock, 6)
    cost = COST_MS[rate] / 1000
    for a, b in itertools.pairwise(times):
        # Never sooner; at most a millisecond later (the clock is read to the millisecond).
        assert cost - 1e-6 <= b - a <= cost + 0.001 + 1e-6


def test_at_very_high_rates_a_request_still_costs_a_millisecond(clock: FakeClock) -> None:
    pacer = LocalPacer(5000, 1, clock=clock, sleep=clock.sleep)
    times = admissions(pacer, clock, 11)
    assert 0.010 - 1e-6 <= times[10] <= 0.012  # one per millisecond (a ms late at most twice)


def test_a_fractional_rate_waits_two_seconds_between_requests(clock: FakeClock) -> None:
    pacer = LocalPacer(0.5, 1, clock=clock, sleep=clock.sleep)
    times = admissions(pacer, clock, 3)
    assert times == pytest.approx([0.0, 2.02, 4.04], abs=0.003)  # 2 s plus the 1 % margin


def test_the_pacer_keeps_a_margin_under_the_limit(clock: FakeClock) -> None:
    pacer = LocalPacer(5, 1, clock=clock, sleep=clock.sleep)
    times = admissions(pacer, clock, 11)
    assert times[10] > 10 * 0.2  # never exactly at the limit
    assert times[10] <= 10 * 0.2 * 1.02


def test_settings_are_kept_and_shown(clock: FakeClock) -> None:
    pacer = LocalPacer(0.5, 3, clock=clock, sleep=clock.sleep)
    assert (pacer.rate, pacer.burst) == (0.5, 3)
    assert isinstance(pacer.rate, float)
    assert repr(pacer) == "LocalPacer(0.5/s, burst 3)"
    assert repr(LocalPacer()) == "LocalPacer(5/s, burst 2)"


@pytest.mark.parametrize(
    ("rate", "burst", "named"),
    [(0, 2, "rate_limit"), (-0.5, 2, "rate_limit"), (float("nan"), 2, "rate_limit"),
     (None, 2, "rate_limit"), (False, 2, "rate_limit"), (True, 2, "rate_limit"),
     ("5", 2, "rate_limit"), (5, 0, "burst"), (5, -1, "burst"), (5, 2.0, "burst"),
     (5, 1.5, "burst"), (5, True, "burst"), (5, "2", "burst")],
)  # fmt: skip
def test_bad_settings_are_refused_naming_the_setting(
    rate: object, burst: object, named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        LocalPacer(rate, burst)  # type: ignore[arg-type]


def test_tiny_and_fractional_settings_that_are_valid(clock: FakeClock) -> None:
    for rate in (0.001, 0.5, 1, 1000, 5000):
        assert LocalPacer(rate, 1, clock=clock, sleep=clock.sleep).rate == rate


def test_a_pause_holds_exactly_its_length(clock: FakeClock) -> None:
    pacer = LocalPacer(5, 2, clock=clock, sleep=clock.sleep)
    pacer.pause(1.25)
    start = clock.now
    pacer.acquire()
    assert clock.now - start == pytest.approx(1.25)
    assert clock.sleeps[0] == pytest.approx(1.25)


async def test_async_acquire_paces_like_sync(clock: FakeClock) -> None:
    pacer = LocalPacer(0.5, 2, clock=clock, sleep=clock.sleep, async_sleep=clock.async_sleep)
    start = clock.now
    times = []
    for _ in range(4):
        await pacer.acquire_async()
        times.append(clock.now - start)
    check_shape(times, 0.5, 2)


def test_for_key_takes_a_rate_and_burst() -> None:
    key = APIKey(f"pinned-{uuid.uuid4().hex}")
    pacer = LocalPacer.for_key(key, 0.5, 3)
    assert (pacer.rate, pacer.burst) == (0.5, 3)
    assert LocalPacer.for_key(key)._state is pacer._state


# ----------------------------------------------------------------------------- Redis


@pytest.fixture
def prefix() -> str:
    return f"pinned:{uuid.uuid4().hex}:"


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[object]:
    import redis

    conn = redis.Redis.from_url(redis_url)
    yield conn
    conn.close()


def pause_key(conn: object, prefix: str) -> str:
    """The one pause key under `prefix` (its name derives from the API key; it never is it)."""
    keys = [k.decode() for k in conn.keys(f"{prefix}*:pause")]  # type: ignore[attr-defined]
    assert len(keys) == 1, keys
    return keys[0]


def redis_pacer(
    redis_url: str, prefix: str, clock: FakeClock, rate: float = 5, burst: int = 2,
    key: str = "shared",
) -> RedisPacer:  # fmt: skip
    return RedisPacer(redis_url, api_key=key, rate=rate, burst=burst, prefix=prefix,
                      clock=clock, sleep=clock.sleep, async_sleep=clock.async_sleep)  # fmt: skip


@pytest.mark.parametrize(("rate", "burst"), [(5, 2), (0.5, 1), (0.5, 2), (5, 3), (2.5, 4)])
def test_redis_pacing_has_the_documented_shape(
    redis_url: str, prefix: str, clock: FakeClock, rate: float, burst: int
) -> None:
    pacers = [redis_pacer(redis_url, prefix, clock, rate, burst) for _ in range(3)]
    start = clock.now
    times = []
    for i in range(burst + 4):
        pacers[i % 3].acquire()  # three processes' pacers take turns
        times.append(clock.now - start)
    check_shape(times, rate, burst)
    check_server_accepts(times, rate, burst)
    for pacer in pacers:
        pacer.close()


def test_a_redis_pacer_waits_exactly_what_the_budget_lacks_in_one_sleep(
    redis_url: str, prefix: str, clock: FakeClock
) -> None:
    pacer = redis_pacer(redis_url, prefix, clock, 5, 1)
    check_exact_waits(pacer, clock)
    pacer.close()


def test_redis_pacers_of_other_keys_or_prefixes_do_not_share(
    redis_url: str, prefix: str, clock: FakeClock
) -> None:
    first = redis_pacer(redis_url, prefix, clock, 0.5, 1, key="one")
    other_key = redis_pacer(redis_url, prefix, clock, 0.5, 1, key="two")
    other_prefix = redis_pacer(redis_url, prefix + "x:", clock, 0.5, 1, key="one")
    start = clock.now
    for pacer in (first, other_key, other_prefix):
        pacer.acquire()
    assert clock.now == start
    first.acquire()
    assert clock.now - start == pytest.approx(interval(0.5), abs=0.002)
    for pacer in (first, other_key, other_prefix):
        pacer.close()


def test_redis_keys_live_under_the_prefix_and_never_hold_the_key(
    redis_url: str, prefix: str, clock: FakeClock, redis_conn: object
) -> None:
    secret = "sk_live_pinned_secret"
    pacer = redis_pacer(redis_url, prefix, clock, key=secret)
    same = RedisPacer(redis_url, api_key=APIKey(secret), prefix=prefix, clock=clock,
                      sleep=clock.sleep)  # fmt: skip
    pacer.acquire()
    pacer.pause(2)
    keys = [k.decode() for k in redis_conn.keys(f"{prefix}*")]  # type: ignore[attr-defined]
    assert keys and all(k.startswith(prefix) for k in keys)
    assert not any(secret in k or APIKey(secret).reveal() in k for k in keys)
    assert pause_key(redis_conn, prefix).removesuffix(":pause") in keys  # the budget beside it
    assert repr(pacer).startswith("RedisPacer(5/s, burst 2") and secret not in repr(pacer)
    start = clock.now
    same.acquire()  # an APIKey object and its text share one budget and one pause
    assert clock.now - start == pytest.approx(2.0, abs=0.002)
    pacer.close()
    same.close()


def test_redis_pause_extends_never_shortens_and_expires(
    redis_url: str, prefix: str, clock: FakeClock, redis_conn: object
) -> None:
    first = redis_pacer(redis_url, prefix, clock)
    second = redis_pacer(redis_url, prefix, clock)
    first.pause(0)
    first.pause(-1)
    assert redis_conn.keys(f"{prefix}*:pause") == []  # type: ignore[attr-defined]
    first.pause(1.5)
    key = pause_key(redis_conn, prefix)
    assert int(redis_conn.get(key)) == math.ceil((clock.now + 1.5) * 1000)  # type: ignore[attr-defined]
    # Kept a second longer than the pause (clock skew between machines), then gone.
    assert 2000 < redis_conn.pttl(key) <= 2500  # type: ignore[attr-defined]
    second.pause(0.5)  # shorter: the longer pause stands
    assert int(redis_conn.get(key)) == math.ceil((clock.now + 1.5) * 1000)  # type: ignore[attr-defined]
    second.pause(3.0)  # longer: extends
    assert 3500 < redis_conn.pttl(key) <= 4500  # type: ignore[attr-defined]
    start = clock.now
    first.acquire()
    assert clock.now - start == pytest.approx(3.0, abs=0.002)
    first.close()
    second.close()


async def test_redis_async_acquire_waits_out_a_pause(
    redis_url: str, prefix: str, clock: FakeClock
) -> None:
    pacer = redis_pacer(redis_url, prefix, clock, 0.5, 1)
    pacer.pause(1.0)
    start = clock.now
    await pacer.acquire_async()
    await pacer.acquire_async()
    assert clock.now - start == pytest.approx(1.0 + interval(0.5), abs=0.003)
    pacer.close()


def test_redis_pacer_takes_a_client_object(redis_url: str, prefix: str, clock: FakeClock) -> None:
    import redis

    conn = redis.Redis.from_url(redis_url)
    pacer = RedisPacer(conn, api_key="k", prefix=prefix, clock=clock, sleep=clock.sleep)
    pacer.acquire()
    assert conn.keys(f"{prefix}*")  # the budget lives in the Redis it was given
    pacer.close()


def test_redis_pacer_uses_the_wall_clock_by_default(
    redis_url: str, prefix: str, redis_conn: object
) -> None:
    import time

    pacer = RedisPacer(redis_url, api_key="k", prefix=prefix)
    before = time.time()
    pacer.pause(5)
    stored = int(redis_conn.get(pause_key(redis_conn, prefix)))  # type: ignore[attr-defined]
    assert (before + 5) * 1000 <= stored <= (time.time() + 5) * 1000 + 1
    pacer.close()


@pytest.mark.parametrize("url", ["not a url", "http://127.0.0.1:6379/0", "redis://:x@/"])
def test_a_bad_redis_url_is_a_configuration_error(url: str) -> None:
    try:
        pacer = RedisPacer(url, api_key="k")
    except ConfigurationError as error:
        assert "redis_url" in str(error)
    else:  # redis-py accepted it: then reaching it fails cleanly
        with pytest.raises(RateLimiterError):
            pacer.acquire()
        pacer.close()


def test_bad_rates_are_refused_before_connecting() -> None:
    with pytest.raises(ConfigurationError, match="rate_limit"):
        RedisPacer(f"redis://127.0.0.1:{free_port()}/0", api_key="k", rate=0)


def test_an_unreachable_redis_fails_every_step_clearly() -> None:
    pacer = RedisPacer(f"redis://127.0.0.1:{free_port()}/0", api_key="k")
    for step in (pacer.acquire, lambda: pacer.pause(1.0)):
        with pytest.raises(RateLimiterError, match="unavailable") as caught:
            step()
        assert "ConnectionError" in str(caught.value)
    pacer.close()


def test_the_default_prefix_is_the_one_every_version_shares(
    redis_url: str, redis_conn: object
) -> None:
    """Processes share a budget only if they agree on the names: the default prefix is fixed."""
    before = set(redis_conn.keys("pingback:ratelimit:*"))  # type: ignore[attr-defined]
    pacer = RedisPacer(redis_url, api_key=f"pinned-default-{uuid.uuid4().hex}")
    pacer.acquire()
    pacer.pause(1)
    added = set(redis_conn.keys("pingback:ratelimit:*")) - before  # type: ignore[attr-defined]
    assert any(k.endswith(b":pause") for k in added), added
    pacer.close()


def test_a_redis_url_without_the_redis_package_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "redis", None)  # `import redis` raises ImportError
    with pytest.raises(ConfigurationError) as caught:
        RedisPacer("redis://127.0.0.1:1/0", api_key="k")
    message = str(caught.value)
    assert message.startswith("redis_url") and "pip install 'pingback-toolkit[redis]'" in message


def test_a_redis_failure_while_spending_the_budget_is_a_rate_limiter_error(
    redis_url: str, prefix: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    pacer = redis_pacer(redis_url, prefix, clock)
    pacer.acquire()  # the budget's store is in place (some versions make it on first use)

    def broken(*args: object) -> None:
        raise redis.exceptions.ConnectionError("lost the connection mid-script")

    monkeypatch.setattr(pacer._store, "check", broken)
    with pytest.raises(RateLimiterError, match="unavailable") as caught:
        pacer.acquire()
    assert "ConnectionError" in str(caught.value) and "mid-script" in str(caught.value)
    pacer.close()


def test_a_redis_failure_at_any_step_is_a_rate_limiter_error(
    redis_url: str, prefix: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading the pause and extending it fail as clearly as spending the budget."""
    import redis

    def broken(*args: object, **kwargs: object) -> None:
        raise redis.exceptions.ConnectionError("lost the connection")

    pacer = redis_pacer(redis_url, prefix, clock)
    pacer.acquire()  # the key names and the store are in place
    monkeypatch.setattr(pacer._redis, "get", broken)
    with pytest.raises(RateLimiterError, match="ConnectionError: lost the connection"):
        pacer.acquire()
    monkeypatch.undo()
    monkeypatch.setattr(pacer, "_pause_script", broken)
    with pytest.raises(RateLimiterError, match="ConnectionError: lost the connection"):
        pacer.pause(1.0)
    pacer.close()


def test_a_salt_that_is_not_one_is_refused(
    redis_url: str, prefix: str, clock: FakeClock, redis_conn: object
) -> None:
    redis_conn.set(f"{prefix}salt", "")  # type: ignore[attr-defined]
    pacer = redis_pacer(redis_url, prefix, clock)
    with pytest.raises(RateLimiterError, match="salt"):
        pacer.acquire()
    pacer.close()


# ----------------------------------------------------------------------------- the pause's edge


@pytest.mark.parametrize("pacer_class", ["local", "redis"])
def test_a_pause_ending_exactly_when_the_caller_may_stop_waiting_is_waited_out(
    pacer_class: str, request: pytest.FixtureRequest, prefix: str, clock: FakeClock
) -> None:
    """acquire(max_pause) refuses only a pause *longer* than max_pause; one of exactly that
    length is waited (a call with `timeout=5` meets a 5 s Retry-After and still goes)."""
    pacer = (
        LocalPacer(5, 2, clock=clock, sleep=clock.sleep)
        if pacer_class == "local"
        else redis_pacer(request.getfixturevalue("redis_url"), prefix, clock)
    )
    pacer.pause(5.0)
    start = clock.now
    assert pacer.acquire(max_pause=4.999) == pytest.approx(5.0)  # refused, nothing waited
    assert clock.now == start
    assert pacer.acquire(max_pause=5.0) == 0.0
    assert clock.now - start == pytest.approx(5.0)
    if isinstance(pacer, RedisPacer):
        pacer.close()


# ----------------------------------------------------------------------------- Redis key names


def test_every_version_names_a_keys_budget_alike(
    redis_url: str, prefix: str, clock: FakeClock, redis_conn: object
) -> None:
    """Processes on different versions of the toolkit share one budget only if they derive the
    same names: `{prefix}` + the first 32 hex digits of PBKDF2-HMAC-SHA256(key, salt,
    KEY_HASH_ROUNDS), with `:pause` beside it. A rolling deploy must not split the budget."""
    pacer = redis_pacer(redis_url, prefix, clock, key="sk_names")
    assert repr(pacer).endswith("key='')")  # named on first use, not before (no round trip)
    pacer.acquire()
    pacer.pause(1)
    salt = redis_conn.get(f"{prefix}salt")  # type: ignore[attr-defined]
    digest = hashlib.pbkdf2_hmac("sha256", b"sk_names", salt, KEY_HASH_ROUNDS).hex()
    bucket = f"{prefix}{digest[:32]}"
    names = {k.decode() for k in redis_conn.keys(f"{prefix}*")}  # type: ignore[attr-defined]
    assert names == {f"{prefix}salt", bucket, f"{bucket}:pause"}
    assert repr(pacer).endswith(f"key={bucket!r})")
    pacer.close()


def test_a_redis_client_that_decodes_responses_shares_the_same_budget(
    redis_url: str, prefix: str, clock: FakeClock
) -> None:
    """A redis client made with decode_responses=True reads the salt back as text: the pacer
    still derives the same names, so it shares the budget with a bytes client."""
    import redis

    text_conn = redis.Redis.from_url(redis_url, decode_responses=True)
    as_text = RedisPacer(text_conn, api_key="k", rate=0.5, burst=1, prefix=prefix,
                         clock=clock, sleep=clock.sleep)  # fmt: skip
    as_bytes = redis_pacer(redis_url, prefix, clock, 0.5, 1, key="k")
    start = clock.now
    as_text.acquire()
    as_bytes.acquire()  # the same budget: waits the interval
    assert clock.now - start == pytest.approx(interval(0.5), abs=0.002)
    assert repr(as_text).partition("key=")[2] == repr(as_bytes).partition("key=")[2]
    as_text.close()
    as_bytes.close()
