"""The retry loop: seeded jitter, a fake clock, respx answers; no sleeping. The policy's own
rules (schedule, what is retried, budget, Retry-After) are stated in test_pinned_retries.py."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from pingback_ext import AsyncPingback, Pingback
from pingback_ext import errors as e
from pingback_ext.calls import CREATE, GET
from pingback_ext.engine import Acquire, Pause, Send, Sleep, request_plan
from pingback_ext.retries import RetryPolicy
from pingback_ext.settings import resolve
from tests.resilience.conftest import FakeClock

BASE_URL = "http://127.0.0.1:9/v1"
RID = "9b7c2c5e-1f0e-4f5e-9d4c-1f2d3c4b5a69"


def subscriber(email: str = "ana@example.com", **fields: Any) -> dict[str, Any]:
    return {
        "data": {
            "id": "sub-1",
            "email": email,
            "name": "Ana",
            "status": "free_subscriber",
            "customFields": [],
            "segmentationLists": [],
            "createdAt": "2026-11-26T04:43:44.123Z",
            "updatedAt": "2026-11-26T04:43:44.123Z",
            **fields,
        },
        "requestId": RID,
    }


def error(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"error": "nope", "errorCode": code, "requestId": RID}
    return httpx.Response(status, json=body, headers=headers)


def too_many(retry_after: str | None = "0.01") -> httpx.Response:
    return error(429, "TOO_MANY_REQUESTS", {"retry-after": retry_after} if retry_after else None)


# ----------------------------------------------------------------------------- the policy


def test_same_seed_same_delays() -> None:
    def delays(seed: int) -> list[float]:
        policy = RetryPolicy(rng=random.Random(seed))
        return [policy.backoff(r) for r in (1, 2, 3)]

    assert delays(3) == delays(3) != delays(4)


# ----------------------------------------------------------------------------- the loop


def drive(plan: Iterator[Any], outcomes: list[Any], clock: FakeClock) -> tuple[Any, list[Any]]:
    """Run a plan by hand: each Send takes the next outcome; Sleep moves the fake clock."""
    actions: list[Any] = []
    reply: Any = None
    try:
        while True:
            action = plan.send(reply)
            actions.append(action)
            reply = None
            if isinstance(action, Send):
                outcome = outcomes.pop(0)
                if isinstance(outcome, httpx.Response):
                    outcome.request = httpx.Request(action.method, action.url)
                reply = outcome
            elif isinstance(action, Sleep):
                clock.sleep(action.seconds)
    except StopIteration as done:
        return done.value, actions


SETTINGS = resolve(api_key="k", base_url=BASE_URL, environ={})


def reset(request_sent: bool) -> httpx.TransportError:
    cls = httpx.ReadError if request_sent else httpx.ConnectError
    return cls("connection reset", request=httpx.Request("POST", BASE_URL))


def test_a_429_pauses_everyone_then_retries_after_the_asked_wait(clock: FakeClock) -> None:
    plan = request_plan(SETTINGS, GET, {"email": "ana@example.com"}, RetryPolicy(), clock=clock)
    result, actions = drive(plan, [too_many("2"), httpx.Response(200, json=subscriber())], clock)
    assert result.email == "ana@example.com"
    kinds = [type(a) for a in actions]
    assert kinds == [Acquire, Send, Pause, Sleep, Acquire, Send]
    assert actions[2].seconds == 2.0 and actions[3].seconds == 2.0


def test_create_is_resent_after_a_connection_that_sent_it(clock: FakeClock) -> None:
    from pingback_ext._generated.models import SubscriberCreate

    body = SubscriberCreate(email="ana@example.com")
    plan = request_plan(SETTINGS, CREATE, {"body": body}, RetryPolicy(), clock=clock)
    result, actions = drive(
        plan, [reset(request_sent=True), httpx.Response(201, json=subscriber())], clock
    )
    assert result.email == "ana@example.com" and result.attempts == 2
    assert sum(isinstance(a, Send) for a in actions) == 2


def test_create_is_resent_after_a_connection_that_never_sent_it(clock: FakeClock) -> None:
    from pingback_ext._generated.models import SubscriberCreate

    body = SubscriberCreate(email="ana@example.com")
    plan = request_plan(SETTINGS, CREATE, {"body": body}, RetryPolicy(), clock=clock)
    result, actions = drive(
        plan, [reset(request_sent=False), httpx.Response(201, json=subscriber())], clock
    )
    assert result.email == "ana@example.com"
    assert sum(isinstance(a, Send) for a in actions) == 2


def test_the_budget_counts_failures_not_time_queued_for_the_limiter(clock: FakeClock) -> None:
    policy = RetryPolicy(max_retries=5, budget=3.0, rng=random.Random(0))
    plan = request_plan(SETTINGS, GET, {"email": "a@example.com"}, policy, clock=clock)
    first = next(plan)
    assert isinstance(first, Acquire)
    clock.now += 100  # queued behind other callers for a long time
    outcomes = [error(500, "INTERNAL_SERVER_ERROR")] * 5 + [httpx.Response(200, json=subscriber())]
    with pytest.raises(e.ServerError) as caught:
        drive(plan, outcomes, clock)
    # Retried (not given up at once because of the queueing), then stopped by the 3 s budget.
    assert 2 <= caught.value.attempts <= 4


# ----------------------------------------------------------------------------- through the client


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


def test_get_survives_resets_500s_and_429s(
    api: respx.MockRouter, no_sleep: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    route = api.get("/subscriber/ana%40example.com").mock(
        side_effect=[
            httpx.ReadError("reset"),
            error(500, "INTERNAL_SERVER_ERROR"),
            error(502, "BAD_GATEWAY"),
            too_many("1"),
            httpx.ReadTimeout("slow"),
            httpx.Response(200, json=subscriber()),
        ]
    )
    caplog.set_level(logging.INFO, logger="pingback")
    key = "sekrit-api-key-1234"
    with Pingback(api_key=key, base_url=BASE_URL, rate_limit=None, max_retries=5) as pb:
        assert pb.subscribers.get("ana@example.com").email == "ana@example.com"
    assert route.call_count == 6
    retries = [r for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) == 5  # one log line per retry, naming why
    assert "429" in retries[3].getMessage() and "ReadError" in retries[0].getMessage()
    assert len(no_sleep) == 5 and no_sleep[3] == 1.0
    assert key not in caplog.text


def test_max_retries_per_client_and_per_call(api: respx.MockRouter, no_sleep: list[float]) -> None:
    route = api.get("/subscriber/ana%40example.com").respond(500, json={"requestId": RID})
    with Pingback(api_key="k", base_url=BASE_URL, rate_limit=None, max_retries=1) as pb:
        with pytest.raises(e.ServerError) as caught:
            pb.subscribers.get("ana@example.com")
        assert caught.value.attempts == 2 and route.call_count == 2
        with pytest.raises(e.ServerError) as caught:
            pb.subscribers.get("ana@example.com", max_retries=3)
        assert caught.value.attempts == 4 and route.call_count == 6
        with pytest.raises(e.ServerError):
            pb.with_options(max_retries=0).subscribers.get("ana@example.com")
        assert route.call_count == 7


async def test_async_create_retried_after_429_storm_and_unsent_connection(
    api: respx.MockRouter, no_sleep: list[float]
) -> None:
    route = api.post("/subscriber").mock(
        side_effect=[too_many("0.01"), too_many(None), httpx.ConnectError("refused"),
                     too_many("0"), httpx.Response(201, json=subscriber())]
    )  # fmt: skip
    async with AsyncPingback(api_key="k", base_url=BASE_URL, rate_limit=None, max_retries=4) as pb:
        sub = await pb.subscribers.create("ana@example.com")
    assert sub.request_id == RID and route.call_count == 5


def test_create_retried_after_500_or_a_sent_reset(
    api: respx.MockRouter, no_sleep: list[float]
) -> None:
    route = api.post("/subscriber").mock(
        side_effect=[
            error(500, "INTERNAL_SERVER_ERROR"),
            httpx.RemoteProtocolError("gone"),
            httpx.Response(201, json=subscriber()),
        ]
    )
    with Pingback(api_key="k", base_url=BASE_URL, rate_limit=None, max_retries=5) as pb:
        assert pb.subscribers.create("ana@example.com").attempts == 3
    assert route.call_count == 3


def test_create_whose_retry_meets_409_reads_the_subscriber_back(
    api: respx.MockRouter, no_sleep: list[float]
) -> None:
    api.post("/subscriber").mock(
        side_effect=[httpx.ReadError("reset"), error(409, "SUBSCRIBER_ALREADY_EXISTS")]
    )
    got = api.get("/subscriber/ana%40example.com").respond(200, json=subscriber())
    with Pingback(api_key="k", base_url=BASE_URL, rate_limit=None) as pb:
        created = pb.subscribers.create("ana@example.com")
    assert (created.email, created.attempts) == ("ana@example.com", 2)
    assert got.call_count == 1


def test_a_409_after_a_connection_that_never_sent_is_a_conflict(
    api: respx.MockRouter, no_sleep: list[float]
) -> None:
    """Nothing left before the retry: its 409 is someone else's subscriber, not ours."""
    api.post("/subscriber").mock(
        side_effect=[httpx.ConnectError("refused"), error(409, "SUBSCRIBER_ALREADY_EXISTS")]
    )
    got = api.get("/subscriber/ana%40example.com").respond(200, json=subscriber())
    with (
        Pingback(api_key="k", base_url=BASE_URL, rate_limit=None) as pb,
        pytest.raises(e.SubscriberAlreadyExists) as caught,
    ):
        pb.subscribers.create("ana@example.com")
    assert caught.value.attempts == 2 and got.call_count == 0


def test_first_try_409_is_still_an_error(api: respx.MockRouter) -> None:
    api.post("/subscriber").mock(return_value=error(409, "SUBSCRIBER_ALREADY_EXISTS"))
    with (
        Pingback(api_key="k", base_url=BASE_URL, rate_limit=None) as pb,
        pytest.raises(e.SubscriberAlreadyExists),
    ):
        pb.subscribers.create("ana@example.com")


def test_upsert_retry_meeting_an_older_subscriber_still_updates_it(
    api: respx.MockRouter, no_sleep: list[float]
) -> None:
    """429 then 409: the subscriber existed before; the upsert must apply the new name."""
    api.post("/subscriber").mock(
        side_effect=[too_many("0"), error(409, "SUBSCRIBER_ALREADY_EXISTS")]
    )
    api.get("/subscriber/ana%40example.com").respond(200, json=subscriber(name="Old"))
    put = api.put("/subscriber/ana%40example.com").respond(200, json=subscriber(name="New"))
    with Pingback(api_key="k", base_url=BASE_URL, rate_limit=None) as pb:
        sub, created = pb.subscribers.upsert("ana@example.com", name="New")
    assert (sub.name, created) == ("New", False) and put.call_count == 1


def test_upsert_create_is_retried_after_a_500(api: respx.MockRouter, no_sleep: list[float]) -> None:
    """Inside an upsert a resent create is safe: if the first landed, 409 leads to the update."""
    post = api.post("/subscriber").mock(
        side_effect=[error(500, "INTERNAL_SERVER_ERROR"), httpx.Response(201, json=subscriber())]
    )
    with Pingback(api_key="k", base_url=BASE_URL, rate_limit=None) as pb:
        _, created = pb.subscribers.upsert("ana@example.com", name="Ana")
    assert created and post.call_count == 2


def test_a_429_pauses_other_clients_sharing_the_pacer(
    api: respx.MockRouter, clock: FakeClock, no_sleep: list[float]
) -> None:
    from pingback_ext.ratelimit import LocalPacer

    pacer = LocalPacer(5, 2, clock=clock, sleep=clock.sleep)
    api.get("/subscriber/a%40example.com").mock(
        side_effect=[too_many("4"), httpx.Response(200, json=subscriber("a@example.com"))]
    )
    api.get("/subscriber/b%40example.com").respond(200, json=subscriber("b@example.com"))
    with (
        Pingback(api_key="k", base_url=BASE_URL, pacer=pacer) as a,
        Pingback(api_key="k", base_url=BASE_URL, pacer=pacer) as b,
    ):
        with pytest.raises(e.RateLimited):
            a.subscribers.get("a@example.com", max_retries=0)  # 429: everyone pauses 4 s
        start = clock.now
        b.subscribers.get("b@example.com")
        assert clock.now - start == pytest.approx(4.0, abs=0.01)
        a.subscribers.get("a@example.com")
