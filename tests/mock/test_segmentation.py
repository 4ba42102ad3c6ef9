"""Segmentation lists: adding and removing memberships, and the documented failures."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mock.conftest import LISTS, Api

EMAIL = "seg@example.com"


async def test_add_returns_memberships_in_request_order_and_is_idempotent(api: Api) -> None:
    _, created = await api.create({"email": EMAIL})
    status, body = await api.add(EMAIL, {"segmentationLists": [LISTS[1], LISTS[0]]})
    assert status == 200
    first = body["data"]
    assert [m["segmentationListId"] for m in first] == [LISTS[1], LISTS[0]]
    for membership in first:
        assert membership["email"] == EMAIL
        assert membership["subscriberId"] == created["data"]["id"]
        assert membership["createdAt"] == membership["updatedAt"]
    status, again = await api.add(EMAIL, {"segmentationLists": [LISTS[0], LISTS[2]]})
    assert status == 200
    assert again["data"][0] == first[1]
    _, got = await api.get(EMAIL)
    assert got["data"]["segmentationLists"] == [LISTS[1], LISTS[0], LISTS[2]]


async def test_add_unknown_list_is_404_and_adds_nothing(api: Api) -> None:
    await api.create({"email": EMAIL})
    status, body = await api.add(EMAIL, {"segmentationLists": [LISTS[0], "missing"]})
    assert status == 404 and body["errorCode"] == "SEGMENTATION_LIST_NOT_FOUND"
    assert (await api.get(EMAIL))[1]["data"]["segmentationLists"] == []


async def test_add_unknown_subscriber_is_404(api: Api) -> None:
    status, body = await api.add("ghost@example.com", {"segmentationLists": [LISTS[0]]})
    assert status == 404 and body["errorCode"] == "SUBSCRIBER_NOT_FOUND"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, '"segmentationLists" is required'),
        ({"segmentationLists": []}, '"segmentationLists" must contain at least 1 items'),
        ({"segmentationLists": "list-a"}, '"segmentationLists" must be an array'),
        ({"segmentationLists": [None]}, '"segmentationLists[0]" must be a string'),
        ([LISTS[0]], '"value" must be of type object'),
    ],
)
async def test_add_invalid_input_is_422(api: Api, body: Any, message: str) -> None:
    await api.create({"email": EMAIL})
    status, data = await api.add(EMAIL, body)
    assert status == 422 and data["errorCode"] == "INVALID_INPUT" and data["error"] == message


async def test_add_without_body_is_400_missing_body(api: Api) -> None:
    await api.create({"email": EMAIL})
    status, body = await api.add(EMAIL)
    assert status == 400 and body["errorCode"] == "MISSING_BODY"


async def test_unsubscribed_subscriber_is_not_enabled(api: Api) -> None:
    await api.create({"email": EMAIL, "segmentationLists": [LISTS[0]]})
    await api.update(EMAIL, {"status": "unsubscribed_subscriber"})
    status, body = await api.add(EMAIL, {"segmentationLists": [LISTS[1]]})
    assert status == 400 and body["errorCode"] == "SUBSCRIBER_NOT_ENABLED"
    status, body = await api.remove(LISTS[0], EMAIL)
    assert status == 400 and body["errorCode"] == "SUBSCRIBER_NOT_ENABLED"


async def test_blacklisted_subscriber_is_not_enabled(api: Api) -> None:
    await api.create({"email": EMAIL, "segmentationLists": [LISTS[0]]})
    api.mock.tenant().blacklist(EMAIL)
    _, got = await api.get(EMAIL)
    assert got["data"]["blacklistedAt"] >= got["data"]["createdAt"]
    status, body = await api.add(EMAIL, {"segmentationLists": [LISTS[1]]})
    assert status == 400 and body["errorCode"] == "SUBSCRIBER_NOT_ENABLED"
    status, body = await api.remove(LISTS[0], EMAIL)
    assert status == 400 and body["errorCode"] == "SUBSCRIBER_NOT_ENABLED"
    api.mock.tenant().blacklist(EMAIL, blacklisted=False)
    assert (await api.add(EMAIL, {"segmentationLists": [LISTS[1]]}))[0] == 200


async def test_remove_returns_the_membership_and_forgets_it(api: Api) -> None:
    await api.create({"email": EMAIL})
    _, added = await api.add(EMAIL, {"segmentationLists": [LISTS[0], LISTS[1]]})
    status, body = await api.remove(LISTS[0], EMAIL)
    assert status == 200 and body["data"] == added["data"][0]
    assert (await api.get(EMAIL))[1]["data"]["segmentationLists"] == [LISTS[1]]
    status, body = await api.remove(LISTS[0], EMAIL)
    assert status == 404 and body["errorCode"] == "SUBSCRIBER_NOT_FOUND"
    assert "not in this segmentation list" in body["error"]


async def test_remove_unknown_subscriber_or_list_is_404(api: Api) -> None:
    status, body = await api.remove(LISTS[0], "ghost@example.com")
    assert status == 404 and body["errorCode"] == "SUBSCRIBER_NOT_FOUND"
    await api.create({"email": EMAIL})
    status, body = await api.remove("missing", EMAIL)
    assert status == 404 and body["errorCode"] == "SEGMENTATION_LIST_NOT_FOUND"


async def test_seeded_list_via_control_is_usable(api: Api) -> None:
    await api.create({"email": EMAIL})
    response = await api.client.post("/_mock/segmentation-lists", json={"id": "fresh"})
    assert response.status_code == 201 and "fresh" in response.json()["data"]["segmentationLists"]
    assert (await api.add(EMAIL, {"segmentationLists": ["fresh"]}))[0] == 200
