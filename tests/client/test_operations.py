"""Every operation's success path, sync and async: the request sent and the typed result."""

from __future__ import annotations

import json

import httpx
import respx

from pingback_ext import MembershipList, SegmentationMembership, Subscriber
from pingback_ext._generated.models import SubscriberStatus
from tests.client import bodies
from tests.client.conftest import API_KEY, ClientFactory


def _sent(route: respx.Route) -> httpx.Request:
    assert route.call_count == 1
    return route.calls.last.request


def test_create_sends_body_and_returns_subscriber(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    route = api.post("/subscriber").respond(201, json=bodies.envelope(bodies.subscriber()))
    pb = make_client()
    sub = pb.subscribers.create(
        "ana@example.com",
        name="Ana",
        phone="+5511999999999",
        status="free_subscriber",
        custom_fields={"age": 25},
        segmentation_lists=["list-1"],
    )
    assert isinstance(sub, Subscriber)
    assert (sub.email, sub.name, sub.status) == (
        "ana@example.com", "Ana", SubscriberStatus.FREE_SUBSCRIBER,
    )  # fmt: skip
    assert sub.custom_fields[0].label == "age"  # type: ignore[index]
    assert sub.request_id == bodies.REQUEST_ID
    assert sub.http_response is not None and sub.http_response.status_code == 201
    request = _sent(route)
    assert request.headers["x-api-key"] == API_KEY
    assert "x-developer-mode" not in request.headers
    assert json.loads(request.content) == {
        "email": "ana@example.com",
        "name": "Ana",
        "phone": "+5511999999999",
        "status": "free_subscriber",
        "customFields": [{"label": "age", "value": "25"}],
        "segmentationLists": ["list-1"],
    }


def test_get(make_client: ClientFactory, api: respx.MockRouter) -> None:
    route = api.get("/subscriber/ana%40example.com").respond(
        200, json=bodies.envelope(bodies.subscriber())
    )
    sub = make_client().subscribers.get("ana@example.com")
    assert sub.email == "ana@example.com" and sub.request_id == bodies.REQUEST_ID
    assert _sent(route).method == "GET"


def test_update_sends_only_given_fields(make_client: ClientFactory, api: respx.MockRouter) -> None:
    route = api.put("/subscriber/ana%40example.com").respond(
        200, json=bodies.envelope(bodies.subscriber(status="paid_subscriber"))
    )
    sub = make_client().subscribers.update("ana@example.com", status="paid_subscriber")
    assert sub.status == SubscriberStatus.PAID_SUBSCRIBER
    assert json.loads(_sent(route).content) == {"status": "paid_subscriber"}


def test_unsubscribe_sets_the_status(make_client: ClientFactory, api: respx.MockRouter) -> None:
    route = api.put("/subscriber/ana%40example.com").respond(
        200, json=bodies.envelope(bodies.subscriber(status="unsubscribed_subscriber"))
    )
    make_client().subscribers.unsubscribe("ana@example.com")
    assert json.loads(_sent(route).content) == {"status": "unsubscribed_subscriber"}


def test_find_returns_none_when_missing(make_client: ClientFactory, api: respx.MockRouter) -> None:
    api.get("/subscriber/nobody%40example.com").respond(
        404, json=bodies.error("SUBSCRIBER_NOT_FOUND", "Subscriber not found.")
    )
    api.get("/subscriber/ana%40example.com").respond(200, json=bodies.envelope(bodies.subscriber()))
    pb = make_client()
    assert pb.subscribers.find("nobody@example.com") is None
    assert pb.subscribers.find("ana@example.com").email == "ana@example.com"


def test_upsert_creates(make_client: ClientFactory, api: respx.MockRouter) -> None:
    api.post("/subscriber").respond(201, json=bodies.envelope(bodies.subscriber()))
    sub, created = make_client().subscribers.upsert("ana@example.com", name="Ana")
    assert created and sub.email == "ana@example.com"


def test_upsert_updates_on_conflict(make_client: ClientFactory, api: respx.MockRouter) -> None:
    api.post("/subscriber").respond(409, json=bodies.error("SUBSCRIBER_ALREADY_EXISTS"))
    api.get("/subscriber/ana%40example.com").respond(200, json=bodies.envelope(bodies.subscriber()))
    put = api.put("/subscriber/ana%40example.com").respond(
        200, json=bodies.envelope(bodies.subscriber(name="Ana B"))
    )
    result = make_client().subscribers.upsert(
        "ana@example.com", name="Ana B", phone="+5511999999999"
    )
    sub, created = result
    assert not created and sub.name == "Ana B" and result.action == "updated"
    assert json.loads(_sent(put).content) == {"name": "Ana B"}  # only what differs


def test_upsert_adds_lists_of_an_existing_subscriber(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    api.post("/subscriber").respond(409, json=bodies.error("SUBSCRIBER_ALREADY_EXISTS"))
    add = api.post("/segmentation/add-subscriber/ana%40example.com").respond(
        200, json=bodies.envelope([bodies.membership("list-2")])
    )
    api.get("/subscriber/ana%40example.com").respond(
        200, json=bodies.envelope(bodies.subscriber(segmentationLists=["list-1"]))
    )
    sub, created = make_client().subscribers.upsert(
        "ana@example.com", segmentation_lists=["list-2"]
    )
    assert not created and sub.segmentation_lists == ["list-1", "list-2"]
    assert json.loads(_sent(add).content) == {"segmentationLists": ["list-2"]}


def test_add_subscriber_returns_memberships(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    route = api.post("/segmentation/add-subscriber/ana%40example.com").respond(
        200, json=bodies.envelope([bodies.membership("list-1"), bodies.membership("list-2")])
    )
    members = make_client().segmentations.add_subscriber("ana@example.com", ["list-1", "list-2"])
    assert isinstance(members, MembershipList)
    assert [m.segmentation_list_id for m in members] == ["list-1", "list-2"]
    assert members.request_id == bodies.REQUEST_ID
    assert members[0].request_id == bodies.REQUEST_ID
    assert json.loads(_sent(route).content) == {"segmentationLists": ["list-1", "list-2"]}


def test_remove_subscriber_returns_the_membership(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    route = api.delete("/segmentation/list-1/remove-subscriber/ana%40example.com").respond(
        200, json=bodies.envelope(bodies.membership("list-1"))
    )
    member = make_client().segmentations.remove_subscriber("list-1", "ana@example.com")
    assert isinstance(member, SegmentationMembership)
    assert member.segmentation_list_id == "list-1" and member.email == "ana@example.com"
    assert _sent(route).method == "DELETE"


def test_developer_mode_per_client_and_per_call(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    route = api.get("/subscriber/ana%40example.com").respond(
        200, json=bodies.envelope(bodies.subscriber())
    )
    dev = make_client(developer_mode=True)
    dev.subscribers.get("ana@example.com")
    assert route.calls.last.request.headers["x-developer-mode"] == "true"
    dev.subscribers.get("ana@example.com", developer_mode=False)
    assert "x-developer-mode" not in route.calls.last.request.headers
    prod = make_client()
    prod.subscribers.get("ana@example.com", developer_mode=True)
    assert route.calls.last.request.headers["x-developer-mode"] == "true"
    prod.with_options(developer_mode=True).subscribers.get("ana@example.com")
    assert route.calls.last.request.headers["x-developer-mode"] == "true"


def test_explicit_default_timeout_and_per_call_timeout(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    route = api.get("/subscriber/ana%40example.com").respond(
        200, json=bodies.envelope(bodies.subscriber())
    )
    pb = make_client()
    pb.subscribers.get("ana@example.com")
    timeout = route.calls.last.request.extensions["timeout"]
    assert timeout == {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": 30.0}
    pb.subscribers.get("ana@example.com", timeout=2.5)
    assert route.calls.last.request.extensions["timeout"]["read"] == 2.5
