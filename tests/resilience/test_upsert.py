"""The one upsert (pingback_ext.upsert), as a property: whatever Pingback holds and whatever the
record asks, the result is truthful, Pingback ends up holding the record, and no request is
spent that a smaller plan would have saved. Both twins, against the in-process mock."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pingback_ext import AsyncPingback, Pingback, SubscriberNotEnabled
from pingback_ext.mock import SyncASGITransport, create_app
from pingback_ext.mock.app import MockApp
from pingback_ext.upsert import Record, differences

KEY = "upsert-key"
LISTS = ["l1", "l2", "l3"]
BASE_URL = "http://127.0.0.1/v1"  # never dialled: the transports hand requests to the app
UNSUB = "unsubscribed_subscriber"
STATUSES = ["free_subscriber", "paid_subscriber", UNSUB]

names = st.sampled_from(["Ana", "Bea", "[/x] Cy", "D\u2028e"])
fields = st.fixed_dictionaries(
    {},
    optional={
        "name": names,
        "phone": st.sampled_from(["+5511999999999", "+5511888888888"]),
        "status": st.sampled_from(STATUSES),
        "custom_fields": st.dictionaries(st.sampled_from(["age", "plan"]),
                                         st.sampled_from(["1", "2"]), max_size=2),
        "segmentation_lists": st.lists(st.sampled_from(LISTS), max_size=3),
    },
)  # fmt: skip


def sent(app: MockApp) -> int:
    return sum(app.request_counts().values())


def minimal_requests(before: dict[str, Any] | None, wanted: dict[str, Any]) -> int:
    """What the upsert must cost: 1 to create; else create (409), read, and one per kind of
    difference (an update, an add)."""
    if before is None:
        return 1
    diff = differences(Record.from_fields("x@example.com", wanted), held_before(before))
    return 2 + bool(diff.changes) + bool(diff.lists)


def held_before(before: dict[str, Any]) -> Record:
    """What the mock holds after creating `before` (free_subscriber unless a status is given)."""
    return Record.from_fields("x@example.com", {"status": "free_subscriber", **before})


def refused(before: dict[str, Any] | None, wanted: dict[str, Any]) -> bool:
    """Lists to add while the subscriber stays unsubscribed: SUBSCRIBER_NOT_ENABLED."""
    if before is None:
        return False
    diff = differences(Record.from_fields("x@example.com", wanted), held_before(before))
    was = held_before(before).status
    return bool(diff.lists) and was == UNSUB and wanted.get("status", was) == UNSUB


def check(app: MockApp, before: dict[str, Any] | None, wanted: dict[str, Any],
          result: Any, spent: int) -> None:  # fmt: skip
    subscriber, created = result
    assert created is (before is None) and (result.action == "created") is created
    assert spent == minimal_requests(before, wanted)
    if before is not None:
        changed = spent > 2
        assert result.action == ("updated" if changed else "unchanged")
    held = Record.of_subscriber(subscriber)
    for name in ("name", "phone", "status"):
        if name in wanted:
            assert getattr(held, name) == wanted[name]
    assert set(wanted.get("segmentation_lists", [])) <= set(held.lists)
    assert set((before or {}).get("segmentation_lists", [])) <= set(held.lists)  # additive
    server = app.store.get_subscriber(app.partition(KEY), "x@example.com")
    assert server["segmentationLists"] == list(held.lists)  # the result tells the truth
    custom = {f["label"]: f["value"] for f in server["customFields"]}
    origin = (before if before is not None else wanted).get("custom_fields", {})
    assert custom == origin  # set at creation, never changed afterwards
    wrong = {k for k, v in wanted.get("custom_fields", {}).items() if custom.get(k) != v}
    assert set(result.not_applied) == wrong


@settings(max_examples=60, deadline=None)
@given(before=st.none() | fields, wanted=fields)
def test_sync_upsert_is_truthful_complete_and_minimal(
    before: dict[str, Any] | None, wanted: dict[str, Any]
) -> None:
    app = create_app(api_keys=[KEY], segmentation_lists=LISTS, rate_limit=0)
    http = httpx.Client(transport=SyncASGITransport(app))
    try:
        with Pingback(api_key=KEY, base_url=BASE_URL, http_client=http, rate_limit=None) as pb:
            if before is not None:
                pb.subscribers.create("x@example.com", **before)
            start = sent(app)
            if refused(before, wanted):
                with pytest.raises(SubscriberNotEnabled):
                    pb.subscribers.upsert("x@example.com", **wanted)
                return
            result = pb.subscribers.upsert("x@example.com", **wanted)
            check(app, before, wanted, result, sent(app) - start)
            start = sent(app)
            again = pb.subscribers.upsert("x@example.com", **wanted)
            assert again.action == "unchanged" and sent(app) - start == 2  # create 409, read
    finally:
        http.close()
        app.close()


@settings(max_examples=30, deadline=None)
@given(before=st.none() | fields, wanted=fields)
def test_async_upsert_does_the_same(before: dict[str, Any] | None, wanted: dict[str, Any]) -> None:
    async def scenario() -> None:
        app = create_app(api_keys=[KEY], segmentation_lists=LISTS, rate_limit=0)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
        try:
            async with AsyncPingback(
                api_key=KEY, base_url=BASE_URL, http_client=http, rate_limit=None
            ) as pb:
                if before is not None:
                    await pb.subscribers.create("x@example.com", **before)
                start = sent(app)
                if refused(before, wanted):
                    with pytest.raises(SubscriberNotEnabled):
                        await pb.subscribers.upsert("x@example.com", **wanted)
                    return
                result = await pb.subscribers.upsert("x@example.com", **wanted)
                check(app, before, wanted, result, sent(app) - start)
        finally:
            await http.aclose()
            app.close()

    asyncio.run(scenario())
