"""Every documented error, and every way an answer can break the spec, maps to its exception."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from pingback_ext import errors, spec
from tests.client import bodies
from tests.client.conftest import ClientFactory

CALLS: dict[str, tuple[str, str, tuple[Any, ...]]] = {
    # operationId: (HTTP method, client call, args)
    "createSubscriber": ("POST", "subscribers.create", ("ana@example.com",)),
    "getSubscriber": ("GET", "subscribers.get", ("ana@example.com",)),
    "updateSubscriber": ("PUT", "subscribers.update", ("ana@example.com",)),
    "addSubscriberToSegment": (
        "POST", "segmentations.add_subscriber", ("ana@example.com", ["list-1"]),
    ),
    "removeSubscriberFromSegment": (
        "DELETE", "segmentations.remove_subscriber", ("list-1", "ana@example.com"),
    ),
}  # fmt: skip


def _call(pb: Any, operation_id: str) -> Any:
    _method, name, args = CALLS[operation_id]
    group, method = name.split(".")
    kwargs = {"name": "Ana"} if operation_id == "updateSubscriber" else {}
    return getattr(getattr(pb, group), method)(*args, max_retries=0, **kwargs)


def _documented_errors() -> list[tuple[str, int, str]]:
    """(operationId, status, errorCode) for every error example in the derived spec."""
    found = []
    for item in spec.derived_spec()["paths"].values():
        for operation in item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            for status, response in operation["responses"].items():
                if int(status) < 400:
                    continue
                for example in response["content"]["application/json"]["examples"].values():
                    found.append(
                        (operation["operationId"], int(status), example["value"]["errorCode"])
                    )
    return sorted(set(found))


EXPECTED_BY_CODE = {
    "MISSING_BODY": errors.MissingBody,
    "SUBSCRIBER_NOT_ENABLED": errors.SubscriberNotEnabled,
    "FORBIDDEN": errors.Forbidden,
    "SUBSCRIBER_NOT_FOUND": errors.SubscriberNotFound,
    "SEGMENTATION_LIST_NOT_FOUND": errors.SegmentationListNotFound,
    "SUBSCRIBER_ALREADY_EXISTS": errors.SubscriberAlreadyExists,
    "INVALID_INPUT": errors.InvalidInput,
    "SUBSCRIBER_EMAIL_IS_NECESSARY": errors.SubscriberEmailIsNecessary,
    "TOO_MANY_REQUESTS": errors.RateLimited,
    "INTERNAL_SERVER_ERROR": errors.ServerError,
}


@pytest.mark.parametrize(("operation_id", "status", "code"), _documented_errors())
def test_documented_error_maps_to_its_exception(
    make_client: ClientFactory, api: respx.MockRouter, operation_id: str, status: int, code: str
) -> None:
    api.route(method=CALLS[operation_id][0]).respond(
        status, json=bodies.error(code, "It went wrong."), headers={"Retry-After": "3"}
    )
    with pytest.raises(EXPECTED_BY_CODE[code]) as caught:
        _call(make_client(), operation_id)
    error = caught.value
    assert isinstance(error, errors.APIError)
    assert (error.status_code, error.error_code, error.message) == (status, code, "It went wrong.")
    assert error.request_id == bodies.REQUEST_ID
    assert error.response.status_code == status
    if isinstance(error, errors.RateLimited):
        assert error.retry_after == 3.0


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (403, {"message": "Forbidden"}, errors.Forbidden),  # a gateway's own body
        (429, "slow down", errors.RateLimited),
        (500, {"error": "boom", "errorCode": "DB_DOWN", "requestId": "r"}, errors.ServerError),
        (502, "<html>Bad Gateway</html>", errors.ServerError),
        (503, None, errors.ServerError),
        (418, {"error": "teapot", "errorCode": "TEAPOT", "requestId": "r"},
         errors.UnexpectedStatus),
        (401, {"error": "who?", "requestId": "r"}, errors.UnexpectedStatus),
    ],
)  # fmt: skip
def test_statuses_without_a_documented_code_map_by_status(
    make_client: ClientFactory, api: respx.MockRouter, status: int, body: Any, expected: type
) -> None:
    content = body if isinstance(body, str) or body is None else None
    kwargs: dict[str, Any] = {"json": body} if content is None and body is not None else {}
    api.get("/subscriber/ana%40example.com").respond(status, content=content, **kwargs)
    with pytest.raises(expected) as caught:
        make_client().subscribers.get("ana@example.com", max_retries=0)
    assert caught.value.status_code == status
    assert str(caught.value)  # a readable message, whatever the body


def test_error_code_wins_over_status(make_client: ClientFactory, api: respx.MockRouter) -> None:
    api.get("/subscriber/ana%40example.com").respond(
        404, json=bodies.error("SEGMENTATION_LIST_NOT_FOUND")
    )
    with pytest.raises(errors.SegmentationListNotFound):
        make_client().subscribers.get("ana@example.com")


def test_unknown_error_code_falls_back_to_the_status_class(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    api.get("/subscriber/ana%40example.com").respond(404, json=bodies.error("SOMETHING_NEW"))
    with pytest.raises(errors.NotFound) as caught:
        make_client().subscribers.get("ana@example.com")
    assert type(caught.value) is errors.NotFound and caught.value.error_code == "SOMETHING_NEW"


GOOD = bodies.subscriber()


def _answer(data: object) -> bytes:
    return json.dumps({"data": data, "requestId": "r"}).encode()


@pytest.mark.parametrize(
    ("status", "content"),
    [
        (200, b"not json"),
        (200, b"<html>bad gateway</html>"),
        (200, b"[]"),
        (200, b'{"requestId": "r"}'),  # no data
        (200, b'{"data": null, "requestId": "r"}'),
        (200, b'{"data": "ana@example.com", "requestId": "r"}'),
        (200, json.dumps({"data": GOOD}).encode()),  # no requestId
        (200, _answer({**GOOD, "email": None})),  # no email
        (200, _answer({k: v for k, v in GOOD.items() if k != "email"})),
        (200, _answer({**GOOD, "email": {"address": "a@b.c"}})),  # not a scalar
        (200, _answer({**GOOD, "createdAt": "yesterday"})),  # not a date-time
        (200, _answer({**GOOD, "createdAt": 1764132224})),  # seconds? milliseconds?
        (200, _answer({**GOOD, "customFields": {"age": 25}})),  # not a list
        (204, b""),
    ],
)
@pytest.mark.parametrize("strict", [False, True])
def test_success_answers_the_client_cannot_use_raise_response_validation_error(
    make_client: ClientFactory, api: respx.MockRouter, status: int, content: bytes, strict: bool
) -> None:
    """Whatever breaks the shape we rely on raises, leniently read or not; the answer is kept."""
    api.get("/subscriber/ana%40example.com").respond(
        status, content=content, headers={"content-type": "application/json"}
    )
    with pytest.raises(errors.ResponseValidationError) as caught:
        make_client(strict=strict).subscribers.get("ana@example.com")
    assert caught.value.status_code == status
    assert caught.value.response.content == content


@pytest.mark.parametrize(
    ("status", "content", "expected"),
    [
        (404, b'{"error": "gone"}', errors.NotFound),  # no errorCode, no requestId
        (404, b"{}", errors.NotFound),
        (404, b"<html>not found</html>", errors.NotFound),
        (404, b'"Not Found"', errors.NotFound),
        (404, b"", errors.NotFound),
        (404, b'{"errorCode": 404, "error": ["x"], "requestId": 7}', errors.NotFound),
        (400, b"{}", errors.BadRequest),
        (409, b"null", errors.Conflict),
        (422, b"[]", errors.UnprocessableEntity),
    ],
)
def test_declared_error_bodies_of_any_shape_are_their_status_unless_strict(
    make_client: ClientFactory,
    api: respx.MockRouter,
    status: int,
    content: bytes,
    expected: type[errors.APIError],
) -> None:
    api.post("/subscriber").respond(status, content=content)
    with pytest.raises(expected) as caught:
        make_client().subscribers.create("ana@example.com")
    assert type(caught.value) is expected
    assert caught.value.response.content == content
    assert caught.value.error_code is None and caught.value.request_id is None
    with pytest.raises(errors.ResponseValidationError) as strictly:
        make_client(strict=True).subscribers.create("ana@example.com")
    assert strictly.value.response.content == content


@pytest.mark.parametrize(
    "data",
    [
        {**GOOD, "status": "vip"},
        {**GOOD, "createdAt": "2020-01-01"},
        {**GOOD, "createdAt": "2020-01-01T10:00:00"},
        {**GOOD, "name": None, "phone": None, "customFields": None, "blacklistedAt": None},
        {**GOOD, "name": 25, "phone": 5511999999999, "segmentationLists": [7, True]},
        {**GOOD, "customFields": [{"id": "cf-1", "label": "age", "value": 25}]},
        {**GOOD, "loyalty": {"tier": 3}},
    ],
    ids=["enum", "date", "no-offset", "nulls", "scalars", "number-value", "extra"],
)
def test_what_a_newer_api_may_send_raises_only_in_strict_mode(
    make_client: ClientFactory, api: respx.MockRouter, data: dict[str, Any]
) -> None:
    api.get("/subscriber/ana%40example.com").respond(200, json={"data": data, "requestId": "r"})
    if "loyalty" in data:  # the spec leaves objects open: kept, strictly too
        kept = make_client(strict=True).subscribers.get("ana@example.com")
        assert kept.additional_properties == {"loyalty": {"tier": 3}}
    else:
        with pytest.raises(errors.ResponseValidationError):
            make_client(strict=True).subscribers.get("ana@example.com")
    sub = make_client().subscribers.get("ana@example.com")
    assert sub.email == GOOD["email"] and sub.request_id == "r"
    assert sub.created_at.tzinfo is not None
    read_as = {"2020-01-01": "2020-01-01T00:00:00+00:00"}  # no offset: UTC
    read_as["2020-01-01T10:00:00"] = "2020-01-01T10:00:00+00:00"
    if data["createdAt"] in read_as:
        assert sub.created_at.isoformat() == read_as[data["createdAt"]]
    if data["status"] == "vip":
        assert sub.status == "vip" and sub.to_dict()["status"] == "vip"
    if data["name"] is None:
        assert not sub.name and not sub.phone and not sub.custom_fields
        assert not sub.blacklisted_at and "name" not in sub.to_dict()
    if data["name"] == 25:
        assert (sub.name, sub.phone, sub.segmentation_lists) == (
            "25", "5511999999999", ["7", "true"],
        )  # fmt: skip
    if data["customFields"] and data["customFields"] != GOOD["customFields"]:
        assert sub.custom_fields and sub.custom_fields[0].value == 25
    if "loyalty" in data:
        assert sub.additional_properties == {"loyalty": {"tier": 3}}


def test_memberships_that_break_the_spec(make_client: ClientFactory, api: respx.MockRouter) -> None:
    api.post("/segmentation/add-subscriber/ana%40example.com").respond(
        200, json={"data": {"not": "a list"}, "requestId": "r"}
    )
    with pytest.raises(errors.ResponseValidationError):
        make_client().segmentations.add_subscriber("ana@example.com", ["list-1"])


@pytest.mark.parametrize(
    ("side_effect", "expected", "sent"),
    [
        (httpx.ConnectError("refused"), errors.APIConnectionError, False),
        (httpx.ConnectTimeout("slow connect"), errors.APITimeoutError, False),
        (httpx.ReadTimeout("slow read"), errors.APITimeoutError, True),
        (httpx.RemoteProtocolError("reset"), errors.APIConnectionError, True),
    ],
)
def test_transport_errors(
    make_client: ClientFactory,
    api: respx.MockRouter,
    side_effect: Exception,
    expected: type,
    sent: bool,
) -> None:
    api.get("/subscriber/ana%40example.com").mock(side_effect=side_effect)
    with pytest.raises(expected) as caught:
        make_client().subscribers.get("ana@example.com", max_retries=0)
    assert isinstance(caught.value, errors.TransportError)
    assert caught.value.request_sent is sent


def test_every_exception_is_a_pingback_error() -> None:
    classes = [
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, BaseException)
    ]
    assert len(classes) > 20
    assert all(issubclass(cls, errors.PingbackError) for cls in classes)
    assert issubclass(errors.InsecureBaseURLError, ValueError)
    assert issubclass(errors.InvalidRequestError, ValueError)
