"""Faults between client and mock: resets, 5xx, 429 storms; nothing lost, nothing duplicated."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from pingback_ext import AsyncPingback, Pingback
from pingback_ext.mock import RunningMock
from tests.resilience.conftest import LISTS
from tests.resilience.faults import KINDS, AsyncFaultyTransport, FaultPlan, FaultyTransport


def records(count: int, prefix: str) -> list[dict[str, Any]]:
    return [
        {"email": f"{prefix}{i}@example.com", "name": f"Person {i}",
         "segmentationLists": [LISTS[i % 2]]}
        for i in range(count)
    ]  # fmt: skip


def check_server_holds_exactly(mock: RunningMock, wanted: list[dict[str, Any]]) -> None:
    assert mock.app.store.count_subscribers() == len(wanted)
    with Pingback(api_key=mock.api_key, base_url=mock.base_url, rate_limit=None) as pb:
        for record in wanted:
            sub = pb.subscribers.get(record["email"])
            assert sub.name == record["name"]
            assert isinstance(sub.segmentation_lists, list)
            assert sorted(sub.segmentation_lists) == sorted(record["segmentationLists"])


def test_sync_bulk_rides_out_every_kind_of_fault(open_mock: RunningMock, no_sleep: Any) -> None:
    plan = FaultPlan(seed=11, rate=0.4)
    wanted = records(60, "sync")
    http = httpx.Client(transport=FaultyTransport(plan))
    with Pingback(
        api_key=open_mock.api_key, base_url=open_mock.base_url, http_client=http, rate_limit=None
    ) as pb:
        report = pb.subscribers.bulk_upsert(wanted, max_retries=12)
    http.close()
    assert not report.failed, report.failed
    assert set(plan.seen) == set(KINDS), plan.seen  # every kind of fault really happened
    # A create that landed but whose answer was lost is confirmed by reading it back (calls.py's
    # retry table): reported created, once; the 409s met by those retries prove the path ran.
    assert report.total == report.created == 60
    assert report.requests > 60 + plan.seen["reset_after"] + plan.seen["landed_500"] - 1
    check_server_holds_exactly(open_mock, wanted)


async def test_async_bulk_rides_out_faults_with_two_in_flight(
    open_mock: RunningMock, no_sleep: Any
) -> None:
    plan = FaultPlan(seed=5, rate=0.4)
    wanted = records(60, "async")
    transport = AsyncFaultyTransport(plan)
    async with (
        httpx.AsyncClient(transport=transport) as http,
        AsyncPingback(
            api_key=open_mock.api_key, base_url=open_mock.base_url, http_client=http,
            rate_limit=None,
        ) as pb,
    ):  # fmt: skip
        report = await pb.subscribers.bulk_upsert(wanted, max_retries=12)
    assert not report.failed, report.failed
    assert report.created + report.unchanged == 60
    assert transport.most_in_flight == 2
    assert set(plan.seen) == set(KINDS), plan.seen
    check_server_holds_exactly(open_mock, wanted)


def test_updates_under_faults_land_once(open_mock: RunningMock, no_sleep: Any) -> None:
    first = records(30, "upd")
    with Pingback(api_key=open_mock.api_key, base_url=open_mock.base_url, rate_limit=None) as pb:
        assert pb.subscribers.bulk_upsert(first).created == 30
    changed = [{**r, "name": r["name"] + " (new)", "segmentationLists": list(LISTS)} for r in first]
    plan = FaultPlan(seed=3, rate=0.4)
    http = httpx.Client(transport=FaultyTransport(plan))
    with Pingback(
        api_key=open_mock.api_key, base_url=open_mock.base_url, http_client=http, rate_limit=None
    ) as pb:
        report = pb.subscribers.bulk_upsert(changed, max_retries=12)
    http.close()
    assert not report.failed, report.failed
    assert report.updated == 30
    check_server_holds_exactly(open_mock, changed)


def test_a_real_429_storm_from_the_mock_ends_in_success(no_sleep: Any) -> None:
    """Unpaced bursts against the mock's real bucket: 429s with Retry-After, then success."""
    from pingback_ext.mock import serve_mock

    with serve_mock(rate_limit=50, burst=2) as mock:
        with Pingback(api_key=mock.api_key, base_url=mock.base_url, rate_limit=None) as pb:
            # Retry waits are skipped (no_sleep), so retries come back at once and meet 429s
            # again until the bucket refills: a storm. A generous retry count rides it out.
            for i in range(20):
                pb.subscribers.create(f"storm{i}@example.com", max_retries=200)
        counts = mock.app.request_counts()
        stored = mock.app.store.count_subscribers()
    assert counts.get(429, 0) > 0, counts
    assert counts[201] == 20 and stored == 20


@pytest.mark.parametrize("retry_after", ["1", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_a_429_with_retry_after_pauses_the_shared_pacer(
    open_mock: RunningMock, no_sleep: list[float], retry_after: str
) -> None:
    from pingback_ext.ratelimit import LocalPacer
    from tests.resilience.conftest import FakeClock

    clock = FakeClock()
    pacer = LocalPacer(5, 2, clock=clock, sleep=clock.sleep)
    answers = iter([429])

    def handler(request: httpx.Request) -> httpx.Response:
        if next(answers, None) == 429:
            body = {"error": "slow", "errorCode": "TOO_MANY_REQUESTS", "requestId": "r"}
            return httpx.Response(429, json=body, headers={"retry-after": retry_after})
        return httpx.Client().send(
            httpx.Request(request.method, request.url, headers=request.headers,
                          content=request.content)
        )  # fmt: skip

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with Pingback(
        api_key=open_mock.api_key, base_url=open_mock.base_url, http_client=http, pacer=pacer
    ) as pb:
        pb.subscribers.create("paused@example.com")
    expected = 1.0 if retry_after == "1" else 0.0  # a date in the past means "now"
    assert no_sleep == [expected]
    assert open_mock.app.store.count_subscribers() == 1
