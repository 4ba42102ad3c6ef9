"""Create, get and update subscribers: shapes, state, timestamps and documented errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.mock.conftest import LISTS, OTHER_KEY, Api


async def test_create_returns_201_with_defaults_and_ignores_read_only(api: Api) -> None:
    status, body = await api.create(
        {
            "email": "ada@example.com",
            "name": "Ada",
            "phone": "+5511999999999",
            "customFields": [{"label": "age", "value": "25"}, {"label": "city", "value": "Rio"}],
            "id": "client-chosen",
            "createdAt": "2000-01-01T00:00:00Z",
            "unknownExtra": {"ignored": True},
        }
    )
    assert status == 201
    sub = body["data"]
    assert sub["email"] == "ada@example.com"
    assert sub["id"] != "client-chosen" and len(sub["id"]) == 36
    assert sub["status"] == "free_subscriber"
    assert sub["createdAt"] == sub["updatedAt"] and not sub["createdAt"].startswith("2000")
    assert [(f["label"], f["value"]) for f in sub["customFields"]] == [
        ("age", "25"),
        ("city", "Rio"),
    ]
    assert all(len(f["id"]) == 36 for f in sub["customFields"])
    assert sub["segmentationLists"] == []
    assert "unsubscribedAt" not in sub and "blacklistedAt" not in sub and "unknownExtra" not in sub


async def test_minimal_create_omits_absent_fields(api: Api) -> None:
    status, body = await api.create({"email": "min@example.com"})
    assert status == 201
    assert "name" not in body["data"] and "phone" not in body["data"]


async def test_custom_field_ids_are_stable_per_label(api: Api) -> None:
    _, one = await api.create(
        {"email": "a@example.com", "customFields": [{"label": "age", "value": "1"}]}
    )
    _, two = await api.create(
        {"email": "b@example.com", "customFields": [{"label": "age", "value": "2"}]}
    )
    assert one["data"]["customFields"][0]["id"] == two["data"]["customFields"][0]["id"]


async def test_get_returns_what_was_created(api: Api) -> None:
    _, created = await api.create(
        {"email": "g@example.com", "name": "G", "segmentationLists": [LISTS[0]]}
    )
    status, got = await api.get("g@example.com")
    assert status == 200
    assert got["data"] == created["data"]
    assert got["data"]["segmentationLists"] == [LISTS[0]]
    assert got["requestId"] != created["requestId"]


@pytest.mark.parametrize(
    "email",
    ["a/b#c?d%e+f&x=y@example.com", "o'hara@example.com", "dots.in.local@sub.example.org"],
)
async def test_emails_with_reserved_characters_round_trip(api: Api, email: str) -> None:
    assert (await api.create({"email": email}))[0] == 201
    status, got = await api.get(email)
    assert status == 200 and got["data"]["email"] == email


async def test_email_identity_is_exact(api: Api) -> None:
    await api.create({"email": "Case@example.com"})
    assert (await api.get("case@example.com"))[0] == 404
    assert (await api.create({"email": "case@example.com"}))[0] == 201


async def test_get_unknown_is_404_subscriber_not_found(api: Api) -> None:
    status, body = await api.get("nobody@example.com")
    assert status == 404 and body["errorCode"] == "SUBSCRIBER_NOT_FOUND"
    status, body = await api.get("ünïcødé@例え.jp")
    assert status == 404 and body["errorCode"] == "SUBSCRIBER_NOT_FOUND"


async def test_duplicate_is_409_but_other_account_and_sandbox_are_separate(api: Api) -> None:
    assert (await api.create({"email": "dup@example.com"}))[0] == 201
    status, body = await api.create({"email": "dup@example.com", "name": "again"})
    assert status == 409 and body["errorCode"] == "SUBSCRIBER_ALREADY_EXISTS"
    assert (await api.create({"email": "dup@example.com"}, headers={"x-api-key": OTHER_KEY}))[
        0
    ] == 201
    sandbox = {"x-developer-mode": "true"}
    assert (await api.create({"email": "dup@example.com"}, headers=sandbox))[0] == 201


async def test_create_with_unknown_list_is_404_and_creates_nothing(api: Api) -> None:
    status, body = await api.create(
        {"email": "l@example.com", "segmentationLists": [LISTS[0], "no-such-list"]}
    )
    assert status == 404 and body["errorCode"] == "SEGMENTATION_LIST_NOT_FOUND"
    assert "no-such-list" in body["error"]
    assert (await api.get("l@example.com"))[0] == 404


async def test_create_unsubscribed_sets_unsubscribed_at(api: Api) -> None:
    _, body = await api.create({"email": "u@example.com", "status": "unsubscribed_subscriber"})
    assert body["data"]["unsubscribedAt"] == body["data"]["createdAt"]


INVALID_CREATE: list[tuple[Any, str]] = [
    ({"name": "no email"}, '"email" is required'),
    ({"email": "not-an-email"}, '"email" must be a valid email'),
    ({"email": ""}, '"email" must be a valid email'),
    ({"email": "useratexample.com"}, '"email" must be a valid email'),
    ({"email": 42}, '"email" must be a string'),
    ({"email": "p@example.com", "phone": "11999999999"}, '"phone" contains an invalid value'),
    ({"email": "p@example.com", "phone": "+0123"}, '"phone" contains an invalid value'),
    ({"email": "p@example.com", "phone": "+1234567890123456"}, '"phone" contains an invalid value'),
    ({"email": "p@example.com", "phone": "+123\n"}, '"phone" contains an invalid value'),
    (
        {"email": "p@example.com", "status": "vip"},
        '"status" must be one of [free_subscriber, paid_subscriber, unsubscribed_subscriber]',
    ),
    ({"email": "p@example.com", "name": 7}, '"name" must be a string'),
    ({"email": "p@example.com", "name": None}, '"name" must be a string'),
    ({"email": "p@example.com", "customFields": {}}, '"customFields" must be an array'),
    ({"email": "p@example.com", "customFields": ["x"]}, '"customFields[0]" must be of type object'),
    (
        {"email": "p@example.com", "customFields": [{"label": "age", "value": 25}]},
        '"customFields[0].value" must be a string',
    ),
    (
        {"email": "p@example.com", "customFields": [{"label": 1, "value": "x"}]},
        '"customFields[0].label" must be a string',
    ),
    (
        {"email": "p@example.com", "segmentationLists": "list-a"},
        '"segmentationLists" must be an array',
    ),
    (
        {"email": "p@example.com", "segmentationLists": [1]},
        '"segmentationLists[0]" must be a string',
    ),
    (["p@example.com"], '"value" must be of type object'),
    ("p@example.com", '"value" must be of type object'),
]


@pytest.mark.parametrize(("body", "message"), INVALID_CREATE)
async def test_create_invalid_input_is_422_naming_the_field(
    api: Api, body: Any, message: str
) -> None:
    status, data = await api.create(body)
    assert status == 422 and data["errorCode"] == "INVALID_INPUT"
    assert data["error"] == message


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "Body is necessary."), (b"   ", "Body is necessary."), (b"{nope", "not valid JSON")],
)
async def test_create_missing_body_is_400(api: Api, content: bytes, reason: str) -> None:
    headers = {"content-type": "application/json"}
    status, body = await api.create(content=content, headers=headers)
    assert status == 400 and body["errorCode"] == "MISSING_BODY"
    assert reason in body["error"]


async def test_update_changes_fields_and_moves_updated_at(api: Api) -> None:
    _, created = await api.create({"email": "up@example.com", "name": "Old"})
    status, body = await api.update(
        "up@example.com", {"name": "New", "phone": "+14155550100", "email": "ignored@example.com"}
    )
    assert status == 200
    sub = body["data"]
    assert (sub["name"], sub["phone"], sub["email"]) == ("New", "+14155550100", "up@example.com")
    assert sub["createdAt"] == created["data"]["createdAt"]
    assert sub["updatedAt"] > created["data"]["updatedAt"]
    assert (await api.get("up@example.com"))[1]["data"] == sub


async def test_update_status_sets_and_clears_unsubscribed_at(api: Api) -> None:
    await api.create({"email": "st@example.com"})
    _, unsub = await api.update("st@example.com", {"status": "unsubscribed_subscriber"})
    assert unsub["data"]["unsubscribedAt"] == unsub["data"]["updatedAt"]
    _, again = await api.update("st@example.com", {"status": "unsubscribed_subscriber"})
    assert again["data"]["unsubscribedAt"] == unsub["data"]["unsubscribedAt"]
    assert again["data"]["updatedAt"] > unsub["data"]["updatedAt"]
    _, paid = await api.update("st@example.com", {"status": "paid_subscriber"})
    assert paid["data"]["status"] == "paid_subscriber" and "unsubscribedAt" not in paid["data"]


async def test_update_with_empty_object_changes_nothing_but_updated_at(api: Api) -> None:
    _, created = await api.create({"email": "e@example.com", "name": "E"})
    status, body = await api.update("e@example.com", {})
    assert status == 200
    before, after = dict(created["data"]), dict(body["data"])
    assert after.pop("updatedAt") > before.pop("updatedAt")
    assert after == before


async def test_update_errors(api: Api) -> None:
    status, body = await api.update("ghost@example.com", {"name": "x"})
    assert status == 404 and body["errorCode"] == "SUBSCRIBER_NOT_FOUND"
    await api.create({"email": "v@example.com"})
    status, body = await api.update(
        "v@example.com", content=b"", headers={"content-type": "application/json"}
    )
    assert status == 400 and body["errorCode"] == "MISSING_BODY"
    status, body = await api.update("v@example.com", {"phone": "+55 11 99999"})
    assert status == 422 and body["error"] == '"phone" contains an invalid value'
    status, body = await api.update("v@example.com", {"status": "gone"})
    assert status == 422 and body["errorCode"] == "INVALID_INPUT"
