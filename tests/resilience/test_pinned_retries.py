"""Pinned: the default retry schedule, what is retried, the never-sent set, Retry-After parsing.

The policy (pingback_ext.retries): capped exponential backoff with equal jitter (half fixed, half
random), 2 retries within 60 s by default; 429 retried for every method, 5xx and broken
connections for idempotent calls only, and any call whose connection was never made.
"""

from __future__ import annotations

import email.utils
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from pingback_ext import AsyncPingback, Pingback
from pingback_ext import errors as e
from pingback_ext.retries import NEVER_SENT, RetryPolicy, parse_retry_after

BASE_URL = "http://127.0.0.1:9/v1"
RID = "9b7c2c5e-1f0e-4f5e-9d4c-1f2d3c4b5a69"


class EdgeRng(random.Random):
    """An rng whose `uniform` returns one end of its range, and records what it was asked."""

    def __init__(self, end: str) -> None:
        super().__init__(0)
        self.end = end
        self.asked: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.asked.append((a, b))
        return b if self.end == "high" else a


#: The default schedule's ceiling per retry: 0.5 s doubling, capped at 8 s.
CEILINGS = {1: 0.5, 2: 1.0, 3: 2.0, 4: 4.0, 5: 8.0, 6: 8.0, 10: 8.0}


def test_the_default_policy() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.budget) == (2, 60.0)
    assert (policy.base_delay, policy.max_delay) == (0.5, 8.0)


@pytest.mark.parametrize(("retry", "ceiling"), CEILINGS.items())
def test_the_default_schedule_reaches_its_ceiling_with_the_highest_draw(
    retry: int, ceiling: float
) -> None:
    rng = EdgeRng("high")
    assert RetryPolicy(rng=rng).backoff(retry) == ceiling
    assert rng.asked == [(0, ceiling / 2)]


@pytest.mark.parametrize(("retry", "ceiling"), CEILINGS.items())
def test_the_default_schedule_never_waits_less_than_half_its_ceiling(
    retry: int, ceiling: float
) -> None:
    assert RetryPolicy(rng=EdgeRng("low")).backoff(retry) == ceiling / 2


def test_jitter_spreads_over_the_whole_upper_half() -> None:
    policy = RetryPolicy(rng=random.Random(5))
    delays = [policy.backoff(3) for _ in range(2000)]
    assert min(delays) >= 1.0 and max(delays) <= 2.0
    assert min(delays) < 1.02 and max(delays) > 1.98  # both ends are reached, nearly


def test_base_and_cap_are_honoured() -> None:
    policy = RetryPolicy(base_delay=0.1, max_delay=0.3, rng=EdgeRng("high"))
    assert [policy.backoff(r) for r in (1, 2, 3, 4)] == pytest.approx([0.1, 0.2, 0.3, 0.3])


# ----------------------------------------------------------------------------- what is retried

REQUEST = httpx.Request("GET", "https://connect.pingback.com/v1/x")


def _failures() -> dict[str, Any]:
    return {
        "429": e.RateLimited("slow", response=httpx.Response(429)),
        "500": e.ServerError("boom", response=httpx.Response(500)),
        "503": e.ServerError("down", response=httpx.Response(503)),
        "unsent connection": e.APIConnectionError("refused", request_sent=False),
        "unsent timeout": e.APITimeoutError("connect timeout", request_sent=False),
        "sent connection": e.APIConnectionError("reset", request_sent=True),
        "sent timeout": e.APITimeoutError("read timeout", request_sent=True),
        "400": e.BadRequest("bad", response=httpx.Response(400)),
        "403": e.Forbidden("no", response=httpx.Response(403)),
        "404": e.SubscriberNotFound("gone", response=httpx.Response(404)),
        "409": e.SubscriberAlreadyExists("dup", response=httpx.Response(409)),
        "422": e.InvalidInput("bad", response=httpx.Response(422)),
        "418": e.UnexpectedStatus("teapot", response=httpx.Response(418)),
    }


RETRIED = {  # failure: (retried when idempotent, retried otherwise)
    "429": (True, True),
    "500": (True, False),
    "503": (True, False),
    "unsent connection": (True, True),
    "unsent timeout": (True, True),
    "sent connection": (True, False),
    "sent timeout": (True, False),
    "400": (False, False),
    "403": (False, False),
    "404": (False, False),
    "409": (False, False),
    "422": (False, False),
    "418": (False, False),
}


@pytest.mark.parametrize("name", RETRIED)
def test_what_is_retried(name: str) -> None:
    failure = _failures()[name]
    policy = RetryPolicy()
    when_idempotent, otherwise = RETRIED[name]
    assert policy.retryable(failure, idempotent=True) is when_idempotent
    assert policy.retryable(failure, idempotent=False) is otherwise
    for idempotent, expected in ((True, when_idempotent), (False, otherwise)):
        delay = policy.next_delay(failure, idempotent=idempotent, retry=1, elapsed=0)
        assert (delay is not None) is expected


def test_the_retry_count_is_inclusive() -> None:
    failure = _failures()["500"]
    policy = RetryPolicy(max_retries=3, rng=EdgeRng("high"))
    assert [policy.next_delay(failure, idempotent=True, retry=r, elapsed=0) for r in (1, 2, 3, 4)] \
        == [0.5, 1.0, 2.0, None]  # fmt: skip
    none = RetryPolicy(max_retries=0)
    assert none.next_delay(failure, idempotent=True, retry=1, elapsed=0) is None


def test_the_budget_allows_a_wait_ending_exactly_at_it() -> None:
    policy = RetryPolicy(budget=10.0)
    asked = e.RateLimited("slow", response=httpx.Response(429), retry_after=4.0)
    assert policy.next_delay(asked, idempotent=False, retry=1, elapsed=6.0) == 4.0
    assert policy.next_delay(asked, idempotent=False, retry=1, elapsed=6.001) is None
    backoff = RetryPolicy(budget=10.0, rng=EdgeRng("high"))
    failure = _failures()["500"]
    assert backoff.next_delay(failure, idempotent=True, retry=1, elapsed=9.5) == 0.5
    assert backoff.next_delay(failure, idempotent=True, retry=1, elapsed=9.501) is None


@pytest.mark.parametrize("asked", [0.0, 0.25, 3.0, 30.0])
def test_retry_after_replaces_the_backoff_even_when_zero(asked: float) -> None:
    limited = e.RateLimited("slow", response=httpx.Response(429), retry_after=asked)
    policy = RetryPolicy(rng=EdgeRng("high"))
    assert policy.next_delay(limited, idempotent=False, retry=2, elapsed=0) == asked


def test_a_429_without_retry_after_backs_off() -> None:
    limited = e.RateLimited("slow", response=httpx.Response(429))
    policy = RetryPolicy(rng=EdgeRng("high"))
    assert policy.next_delay(limited, idempotent=False, retry=2, elapsed=0) == 1.0


def test_with_max_retries_returns_a_changed_copy() -> None:
    policy = RetryPolicy(budget=5.0)
    changed = policy.with_max_retries(0)
    assert changed.max_retries == 0 and changed.budget == 5.0 and policy.max_retries == 2
    assert policy.with_max_retries(9).max_retries == 9


@pytest.mark.parametrize("bad", [-1, 2.0, "2", None, True, False])
def test_with_max_retries_refuses_what_is_not_a_count(bad: object) -> None:
    with pytest.raises(e.InvalidRequestError, match="max_retries"):
        RetryPolicy().with_max_retries(bad)


# ----------------------------------------------------------------------------- the never-sent set


def test_the_never_sent_set() -> None:
    assert set(NEVER_SENT) == {httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout}


NEVER_SENT_FAULTS = [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout]
SENT_FAULTS = [httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.WriteError,
               httpx.RemoteProtocolError]  # fmt: skip


def subscriber_body() -> dict[str, Any]:
    return {
        "data": {
            "id": "sub-1", "email": "ana@example.com", "name": "Ana",
            "status": "free_subscriber", "customFields": [], "segmentationLists": [],
            "createdAt": "2026-11-26T04:43:44.123Z", "updatedAt": "2026-11-26T04:43:44.123Z",
        },
        "requestId": RID,
    }  # fmt: skip


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.mark.parametrize("fault", NEVER_SENT_FAULTS)
def test_a_create_is_resent_after_a_fault_before_sending(
    api: respx.MockRouter, no_sleep: list[float], fault: type[Exception]
) -> None:
    route = api.post("/subscriber").mock(
        side_effect=[fault("never sent"), httpx.Response(201, json=subscriber_body())]
    )
    with Pingback(api_key="k", base_url=BASE_URL, rate_limit=None) as pb:
        assert pb.subscribers.create("ana@example.com").email == "ana@example.com"
    assert route.call_count == 2


@pytest.mark.parametrize("fault", NEVER_SENT_FAULTS)
def test_a_fault_before_sending_says_so(api: respx.MockRouter, fault: type[Exception]) -> None:
    api.post("/subscriber").mock(side_effect=fault("never sent"))
    with (
        Pingback(api_key="k", base_url=BASE_URL, rate_limit=None, max_retries=0) as pb,
        pytest.raises(e.TransportError) as caught,
    ):
        pb.subscribers.create("ana@example.com")
    assert caught.value.request_sent is False
    timeout = issubclass(fault, httpx.TimeoutException)
    assert isinstance(caught.value, e.APITimeoutError if timeout else e.APIConnectionError)


@pytest.mark.parametrize("fault", SENT_FAULTS)
async def test_a_create_is_resent_after_a_fault_that_may_have_sent_it_and_its_409_read_back(
    api: respx.MockRouter, no_sleep: list[float], fault: type[Exception]
) -> None:
    """calls.py's retry table: a create may be sent again; a 409 then is confirmed by reading
    the subscriber back (it holds what was sent: the result; else the 409 stands)."""
    conflict = httpx.Response(409, json={"errorCode": "SUBSCRIBER_ALREADY_EXISTS",
                                         "error": "exists", "requestId": RID})  # fmt: skip
    route = api.post("/subscriber").mock(side_effect=[fault("maybe sent"), conflict])
    read = api.get("/subscriber/ana%40example.com").respond(200, json=subscriber_body())
    async with AsyncPingback(api_key="k", base_url=BASE_URL, rate_limit=None) as pb:
        created = await pb.subscribers.create("ana@example.com", name="Ana")
        assert (created.name, created.attempts) == ("Ana", 2)
        route.side_effect = [fault("maybe sent"), conflict]
        with pytest.raises(e.SubscriberAlreadyExists) as caught:
            await pb.subscribers.create("ana@example.com", name="Someone else")
    assert caught.value.attempts == 2 and route.call_count == 4 and read.call_count == 2


@pytest.mark.parametrize("fault", SENT_FAULTS)
async def test_a_create_that_never_gets_an_answer_fails_after_its_retries(
    api: respx.MockRouter, no_sleep: list[float], fault: type[Exception]
) -> None:
    route = api.post("/subscriber").mock(side_effect=fault("maybe sent"))
    async with AsyncPingback(api_key="k", base_url=BASE_URL, rate_limit=None) as pb:
        with pytest.raises(e.TransportError) as caught:
            await pb.subscribers.create("ana@example.com")
    assert caught.value.request_sent is True and route.call_count == 3
    assert caught.value.attempts == 3


def test_the_client_waits_by_the_default_schedule(
    api: respx.MockRouter, no_sleep: list[float]
) -> None:
    route = api.get("/subscriber/ana%40example.com").respond(500, json={"requestId": RID})
    with (
        Pingback(api_key="k", base_url=BASE_URL, rate_limit=None) as pb,
        pytest.raises(e.ServerError) as caught,
    ):
        pb.subscribers.get("ana@example.com")
    assert route.call_count == 3 and caught.value.attempts == 3
    first, second = no_sleep
    assert 0.25 <= first <= 0.5 and 0.5 <= second <= 1.0


# ----------------------------------------------------------------------------- Retry-After


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("0", 0.0), ("3", 3.0), ("2.5", 2.5), (" 7 ", 7.0), ("\t1\n", 1.0), ("120", 120.0)],
)  # fmt: skip
def test_retry_after_in_seconds(value: str, seconds: float) -> None:
    assert parse_retry_after(value) == seconds


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "nan", "NaN", "inf", "-inf",
                                   "Infinity", "3 s", "Wed, 99 Foo 2015 07:28:00 GMT"])  # fmt: skip
def test_retry_after_that_means_nothing(value: str | None) -> None:
    assert parse_retry_after(value) is None


@pytest.mark.parametrize("value", ["-5", "-0.1", "-1e9", "-5x"])
def test_a_negative_retry_after_means_nothing(value: str) -> None:
    assert parse_retry_after(value) is None  # RFC 9110: delta-seconds has no sign


def test_retry_after_as_an_http_date() -> None:
    now = 1_800_000_000.0
    later = email.utils.formatdate(now + 42, usegmt=True)
    earlier = email.utils.formatdate(now - 42, usegmt=True)
    assert parse_retry_after(later, now=now) == pytest.approx(42.0)
    assert parse_retry_after(f"  {later} ", now=now) == pytest.approx(42.0)
    assert parse_retry_after(earlier, now=now) == 0.0


def test_retry_after_as_an_http_date_uses_the_wall_clock_by_default() -> None:
    import time

    soon = email.utils.formatdate(time.time() + 100, usegmt=True)
    assert 95 <= (parse_retry_after(soon) or 0) <= 100.5


def test_a_bulk_sync_retries_more_than_a_single_call() -> None:
    """bulk_upsert rides out a 429 storm or a flaky minute: 6 retries a record by default."""
    import inspect

    from pingback_ext.resources import AsyncSubscribers, Subscribers

    for group in (Subscribers, AsyncSubscribers):
        default = inspect.signature(group.bulk_upsert).parameters["max_retries"].default
        assert default == 6 > RetryPolicy().max_retries
