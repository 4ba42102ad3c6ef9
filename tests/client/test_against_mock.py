"""The interface sequence end to end against the mock: in-process and over loopback HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pingback_ext import (
    AsyncPingback,
    Forbidden,
    Pingback,
    SubscriberAlreadyExists,
    SubscriberNotEnabled,
    SubscriberNotFound,
)
from pingback_ext.mock import SyncASGITransport, create_app, serve_mock
from tests.client.conftest import Blocking

KEY = "mock-key"


LISTS = ["list-1", "list-2"]


@pytest.fixture(params=["sync-in-process", "async-in-process", "sync-loopback", "async-loopback"])
def pb(request: pytest.FixtureRequest) -> Iterator[Any]:
    mode, where = request.param.split("-", 1)
    loop = asyncio.new_event_loop() if mode == "async" else None
    options: dict[str, Any] = {"api_key": KEY, "developer_mode": True, "rate_limit": None}
    with serve_mock(api_keys=[KEY], segmentation_lists=LISTS, rate_limit=0) as server:
        app = create_app(api_keys=[KEY], segmentation_lists=LISTS, rate_limit=0)
        base_url = server.base_url if where == "loopback" else "http://localhost/v1"
        client: Any
        if mode == "sync":
            http = None if where == "loopback" else httpx.Client(transport=SyncASGITransport(app))
            client = Pingback(base_url=base_url, http_client=http, **options)
        else:
            http_async = (
                None
                if where == "loopback"
                else httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
            )
            client = AsyncPingback(base_url=base_url, http_client=http_async, **options)
        yield Blocking(client, loop)
        if loop is not None:
            loop.run_until_complete(client.aclose())
            if client._http is not None:
                loop.run_until_complete(client._http.aclose())
            loop.close()
        else:
            client.close()
            client._http.close()


def test_the_interface_sequence(pb: Any) -> None:
    sub = pb.subscribers.create(
        "ana@example.com",
        name="Ana",
        phone="+5511999999999",
        custom_fields=[{"label": "age", "value": "25"}],
        segmentation_lists=["list-1"],
    )
    assert (sub.email, sub.name, sub.phone) == ("ana@example.com", "Ana", "+5511999999999")
    assert sub.segmentation_lists == ["list-1"] and sub.request_id
    assert pb.subscribers.get("ana@example.com").id == sub.id
    updated = pb.subscribers.update("ana@example.com", status="paid_subscriber")
    assert updated.status.value == "paid_subscriber"
    again, created = pb.subscribers.upsert("ana@example.com", name="Ana B")
    assert not created and again.name == "Ana B"
    fresh, created = pb.subscribers.upsert("bea@example.com", name="Bea")
    assert created and fresh.name == "Bea"
    assert pb.subscribers.find("nobody@example.com") is None
    members = pb.segmentations.add_subscriber("ana@example.com", ["list-1", "list-2"])
    assert [m.segmentation_list_id for m in members] == ["list-1", "list-2"]
    assert all(m.email == "ana@example.com" for m in members)
    member = pb.segmentations.remove_subscriber("list-1", "ana@example.com")
    assert member.segmentation_list_id == "list-1"
    assert pb.subscribers.get("ana@example.com").segmentation_lists == ["list-2"]
    gone = pb.subscribers.unsubscribe("ana@example.com")
    assert gone.status.value == "unsubscribed_subscriber" and gone.unsubscribed_at
    with pytest.raises(SubscriberNotEnabled):
        pb.segmentations.add_subscriber("ana@example.com", ["list-1"])
    with pytest.raises(SubscriberAlreadyExists):
        pb.subscribers.create("ana@example.com")
    # Production data is apart from the developer-mode sandbox.
    with pytest.raises(SubscriberNotFound):
        pb.subscribers.get("ana@example.com", developer_mode=False)


def test_awkward_emails_round_trip(pb: Any) -> None:
    for email in ["a/b@example.com", "a#b@example.com", "a?b@example.com", "100%@example.com",
                  "a+b@example.com"]:  # fmt: skip
        pb.subscribers.create(email)
        assert pb.subscribers.get(email).email == email
    assert pb.subscribers.find("josé@example.com") is None


def test_wrong_key_is_forbidden(pb: Any) -> None:
    client = pb._target
    impostor = type(client)(
        api_key="wrong-key", base_url=client.base_url, http_client=client._http, rate_limit=None
    )
    with pytest.raises(Forbidden) as caught:
        Blocking(impostor, pb._loop).subscribers.get("ana@example.com")
    assert caught.value.error_code == "FORBIDDEN" and caught.value.request_id
