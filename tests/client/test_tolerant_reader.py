"""The tolerant reader, as a property: schema-valid answers with drift applied.

By default the client reads every answer whose meaning is clear (pingback_ext.spec): a number or
boolean where the spec says string, `null` for an optional field, a missing optional field, a
field the spec does not list, a date-time without offset, a status the spec does not list. An
error answer is its status's error whatever its body. `strict=True` raises for every drift that
breaks the spec (missing optional and extra fields do not: the spec allows both). Both twins.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingback_ext import errors
from tests.client.conftest import BASE_URL, ClientFactory
from tests.client.test_pinned_errors import BY_DECLARED_STATUS

PROPERTY = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EMAIL = "ana@example.com"
STATUSES = ("free_subscriber", "paid_subscriber", "unsubscribed_subscriber")
SUBSCRIBER_OPTIONAL = ("name", "phone", "status", "customFields", "segmentationLists",
                       "blacklistedAt", "unsubscribedAt")  # fmt: skip
DATE_TIMES = ("createdAt", "updatedAt", "blacklistedAt", "unsubscribedAt")

# --------------------------------------------------------------------------- valid answers

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
stamps = st.datetimes(
    min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2100, 1, 1)
).map(lambda d: d.replace(tzinfo=datetime.UTC).isoformat(timespec="milliseconds"))
custom_field = st.fixed_dictionaries({}, optional={"id": texts, "label": texts, "value": texts})
subscriber = st.fixed_dictionaries(
    {"id": texts, "email": st.just(EMAIL), "createdAt": stamps, "updatedAt": stamps},
    optional={
        "name": texts,
        "phone": st.from_regex(r"\+[1-9][0-9]{1,14}", fullmatch=True),
        "status": st.sampled_from(STATUSES),
        "customFields": st.lists(custom_field, max_size=3),
        "segmentationLists": st.lists(texts, max_size=3),
        "blacklistedAt": stamps,
        "unsubscribedAt": stamps,
    },
)
membership = st.fixed_dictionaries(
    {
        "id": texts,
        "email": st.just(EMAIL),
        "subscriberId": texts,
        "segmentationListId": texts,
        "createdAt": stamps,
        "updatedAt": stamps,
    }
)
scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
)
json_values = st.recursive(
    st.none() | scalars | texts,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)


# --------------------------------------------------------------------------- drift


@dataclass
class Drifted:
    """A subscriber's data after drift, and what the default client must read from it."""

    data: dict[str, Any]
    #: the fields whose drift breaks the spec (strict reading must refuse the answer)
    breaking: set[str] = field(default_factory=set)
    #: field -> the value the client must give (None: not set)
    expected: dict[str, Any] = field(default_factory=dict)

    @property
    def breaks_spec(self) -> bool:
        return bool(self.breaking)


def _as_text(value: bool | int | float) -> str:
    return json.dumps(value)


@st.composite
def drifted_subscriber(draw: st.DrawFn) -> Drifted:
    drifted = Drifted(dict(draw(subscriber)))
    data = drifted.data
    kinds = draw(
        st.lists(
            st.sampled_from(["scalar", "null", "missing", "extra", "offset", "enum", "value"]),
            min_size=1,
            max_size=4,
        )
    )
    for kind in kinds:
        if kind == "scalar":
            name = draw(st.sampled_from(["id", "email", "name", "phone", "segmentationLists"]))
            value = draw(scalars)
            if name == "segmentationLists":
                data[name] = [*(data.get(name) or []), value]
                drifted.expected[name] = [
                    item if isinstance(item, str) else _as_text(item) for item in data[name]
                ]
            else:
                data[name] = value
                drifted.expected[name] = _as_text(value)
            drifted.breaking.add(name)
        elif kind == "null":
            name = draw(st.sampled_from(SUBSCRIBER_OPTIONAL))
            data[name] = None
            drifted.expected[name] = None
            drifted.breaking.add(name)
        elif kind == "missing":
            name = draw(st.sampled_from(SUBSCRIBER_OPTIONAL))
            data.pop(name, None)
            drifted.expected[name] = None
            drifted.breaking.discard(name)
        elif kind == "extra":
            name = draw(texts.filter(lambda n: n and n[0].isupper()))  # never a listed field
            data[name] = draw(json_values)
            drifted.expected[name] = data[name]
        elif kind == "offset":
            name = draw(st.sampled_from(DATE_TIMES))
            stamp = draw(st.datetimes(min_value=datetime.datetime(2000, 1, 1)))
            data[name] = stamp.isoformat(timespec=draw(st.sampled_from(["seconds", "auto"])))
            written = datetime.datetime.fromisoformat(data[name])  # fractions may be cut
            drifted.expected[name] = written.replace(tzinfo=datetime.UTC)
            drifted.breaking.add(name)
        elif kind == "enum":
            status = draw(texts.filter(lambda s: s not in STATUSES))
            data["status"] = status
            drifted.expected["status"] = status
            drifted.breaking.add("status")
        else:  # a custom field's value is a number or a boolean, as upstream's example
            value = draw(scalars)
            data["customFields"] = [{"label": "age", "value": value}]
            drifted.expected["customFields"] = [value]
            drifted.breaking.add("customFields")
    return drifted


SUBSCRIBER_CALLS = {
    "create": ("POST", "/subscriber", lambda pb: pb.subscribers.create(EMAIL)),
    "get": ("GET", "/subscriber/ana%40example.com", lambda pb: pb.subscribers.get(EMAIL)),
    "update": (
        "PUT", "/subscriber/ana%40example.com", lambda pb: pb.subscribers.update(EMAIL, name="A")
    ),
}  # fmt: skip
SUCCESS = {"create": 201, "get": 200, "update": 200}


def _serve(router: respx.MockRouter, method: str, path: str, status: int, content: bytes) -> None:
    router.request(method, path).respond(
        status, content=content, headers={"content-type": "application/json"}
    )


def _attribute(name: str) -> str:
    return {"customFields": "custom_fields", "segmentationLists": "segmentation_lists"}.get(
        name,
        {
            "createdAt": "created_at",
            "updatedAt": "updated_at",
            "blacklistedAt": "blacklisted_at",
            "unsubscribedAt": "unsubscribed_at",
        }.get(name, name),
    )


def _check_read(sub: Any, drifted: Drifted) -> None:
    listed = {"id", "email", "name", "phone", "status", "customFields", "segmentationLists",
              *DATE_TIMES}  # fmt: skip
    for name, want in drifted.expected.items():
        if name not in listed:
            assert sub.additional_properties[name] == want
            continue
        got = getattr(sub, _attribute(name))
        if want is None:
            assert not got and name not in sub.to_dict(), name
        elif name == "customFields":
            assert [f.value for f in got] == want
            assert all(type(f.value) is type(w) for f, w in zip(got, want, strict=True))
        elif name == "status":
            assert got == want and sub.to_dict()["status"] == want
        else:
            assert got == want, name
    for name in DATE_TIMES:
        got = getattr(sub, _attribute(name))
        if got:
            assert got.tzinfo is not None, name  # every datetime read is aware


@pytest.mark.parametrize("call", sorted(SUBSCRIBER_CALLS))
def test_drifted_subscribers_are_read_by_default_and_refused_strictly(
    make_client: ClientFactory, call: str
) -> None:
    method, path, run = SUBSCRIBER_CALLS[call]
    lenient, strict = make_client(max_retries=0), make_client(max_retries=0, strict=True)

    @PROPERTY
    @given(drifted=drifted_subscriber())
    def check(drifted: Drifted) -> None:
        content = json.dumps({"data": drifted.data, "requestId": "r-1"}).encode()
        with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
            _serve(router, method, path, SUCCESS[call], content)
            sub = run(lenient)
            assert sub.email == drifted.expected.get("email", EMAIL)
            assert sub.request_id == "r-1"
            _check_read(sub, drifted)
            if drifted.breaks_spec:
                with pytest.raises(errors.ResponseValidationError) as caught:
                    run(strict)
                assert caught.value.response.content == content
            else:
                assert run(strict).to_dict() == sub.to_dict()

    check()


@st.composite
def drifted_memberships(draw: st.DrawFn) -> tuple[list[dict[str, Any]], bool]:
    items = [dict(m) for m in draw(st.lists(membership, min_size=1, max_size=3))]
    breaks = False
    for item in items:
        kind = draw(st.sampled_from(["none", "scalar", "extra", "offset"]))
        if kind == "scalar":
            item[draw(st.sampled_from(["id", "subscriberId", "segmentationListId"]))] = draw(
                scalars
            )
            breaks = True
        elif kind == "extra":
            item["Role"] = draw(json_values)
        elif kind == "offset":
            item["createdAt"] = item["createdAt"].removesuffix("+00:00")
            breaks = True
    return items, breaks


MEMBERSHIP_ATTRIBUTES = (
    ("id", "id"),
    ("subscriberId", "subscriber_id"),
    ("segmentationListId", "segmentation_list_id"),
)


def test_drifted_memberships_are_read_by_default_and_refused_strictly(
    make_client: ClientFactory,
) -> None:
    lenient, strict = make_client(max_retries=0), make_client(max_retries=0, strict=True)
    add = "/segmentation/add-subscriber/ana%40example.com"
    remove = "/segmentation/list-1/remove-subscriber/ana%40example.com"

    @PROPERTY
    @given(drifted=drifted_memberships())
    def check(drifted: tuple[list[dict[str, Any]], bool]) -> None:
        items, breaks = drifted
        added = json.dumps({"data": items, "requestId": "r"}).encode()
        removed = json.dumps({"data": items[0], "requestId": "r"}).encode()
        with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
            _serve(router, "POST", add, 200, added)
            _serve(router, "DELETE", remove, 200, removed)
            got = lenient.segmentations.add_subscriber(EMAIL, ["list-1"])
            one = lenient.segmentations.remove_subscriber("list-1", EMAIL)
            for member, item in zip([*got, one], [*items, items[0]], strict=True):
                for name, attribute in MEMBERSHIP_ATTRIBUTES:
                    value = item[name]
                    want = value if isinstance(value, str) else json.dumps(value)
                    assert getattr(member, attribute) == want
                assert member.created_at.tzinfo is not None
                assert member.additional_properties == {k: item[k] for k in item if k == "Role"}
            if breaks:
                with pytest.raises(errors.ResponseValidationError):
                    strict.segmentations.add_subscriber(EMAIL, ["list-1"])
            else:
                strict.segmentations.add_subscriber(EMAIL, ["list-1"])

    check()


# --------------------------------------------------------------------------- error answers

#: create declares 400, 403, 404, 409, 422, 429 and 500; 502 and 503 come from gateways.
BY_STATUS: dict[int, type[errors.APIError]] = {
    **BY_DECLARED_STATUS,
    502: errors.ServerError,
    503: errors.ServerError,
}
#: Statuses strict reading checks the body of (the others come from proxies too).
STRICTLY_CHECKED = (400, 404, 409, 422)

error_fields = st.fixed_dictionaries(
    {},
    optional={
        "error": json_values,
        # never a known errorCode: the status alone decides the class here
        "errorCode": json_values.filter(
            lambda v: not (isinstance(v, str) and v in errors.BY_ERROR_CODE)
        ),
        "requestId": json_values,
    },
)
error_bodies = st.one_of(
    st.just(b""),
    st.just(b"{}"),
    st.just(b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
    texts.map(lambda t: json.dumps(t).encode()),  # a bare JSON string
    json_values.map(lambda v: json.dumps(v).encode()),
    error_fields.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
)


def _spec_valid_error(content: bytes) -> bool:
    try:
        body = json.loads(content)
    except ValueError:
        return False
    return isinstance(body, dict) and all(
        isinstance(body.get(name), str) for name in ("error", "errorCode", "requestId")
    )


def test_error_answers_of_any_shape_are_their_status(make_client: ClientFactory) -> None:
    lenient, strict = make_client(max_retries=0), make_client(max_retries=0, strict=True)

    @PROPERTY
    @given(status=st.sampled_from(sorted(BY_STATUS)), content=error_bodies)
    def check(status: int, content: bytes) -> None:
        with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
            router.post("/subscriber").respond(status, content=content)
            with pytest.raises(errors.APIError) as caught:
                lenient.subscribers.create(EMAIL)
            error = caught.value
            assert type(error) is BY_STATUS[status]
            assert error.response.content == content and error.status_code == status
            try:
                body = json.loads(content)
            except ValueError:
                body = None
            sent_id = body.get("requestId") if isinstance(body, dict) else None
            want_id = sent_id if isinstance(sent_id, str) else None
            assert error.request_id == want_id
            if status in STRICTLY_CHECKED and not _spec_valid_error(content):
                with pytest.raises(errors.ResponseValidationError) as strictly:
                    strict.subscribers.create(EMAIL)
                assert strictly.value.response.content == content
            else:
                with pytest.raises(BY_STATUS[status]):
                    strict.subscribers.create(EMAIL)

    check()


# --------------------------------------------------------------------------- acceptance

NUMBER_25 = {
    "id": "sub-1",
    "email": EMAIL,
    "customFields": [{"id": "cf-1", "label": "age", "value": 25}],
    "createdAt": "2026-11-26T04:43:44.123Z",
    "updatedAt": "2026-11-26T04:43:44.123Z",
}


@pytest.mark.parametrize("call", sorted(SUBSCRIBER_CALLS))
def test_a_custom_field_value_of_25_is_read_and_refused_strictly(
    make_client: ClientFactory, api: respx.MockRouter, call: str
) -> None:
    method, path, run = SUBSCRIBER_CALLS[call]
    _serve(
        api, method, path, SUCCESS[call], json.dumps({"data": NUMBER_25, "requestId": "r"}).encode()
    )
    sub = run(make_client())
    assert sub.custom_fields and sub.custom_fields[0].value == 25
    assert type(sub.custom_fields[0].value) is int
    with pytest.raises(errors.ResponseValidationError):
        run(make_client(strict=True))


@pytest.mark.parametrize(
    ("status", "content", "expected"),
    [
        (404, b"{}", errors.NotFound),
        (502, b"<html><body>502 Bad Gateway</body></html>", errors.ServerError),
        (429, b"", errors.RateLimited),
    ],
)
def test_error_statuses_whatever_the_body(
    make_client: ClientFactory,
    api: respx.MockRouter,
    status: int,
    content: bytes,
    expected: type[errors.APIError],
) -> None:
    api.get("/subscriber/ana%40example.com").respond(
        status, content=content, headers={"retry-after": "3"} if status == 429 else {}
    )
    with pytest.raises(expected) as caught:
        make_client(max_retries=0).subscribers.get(EMAIL)
    assert type(caught.value) is expected
    assert caught.value.response.content == content
    assert caught.value.body == (json.loads(content) if content.startswith(b"{") else
                                 content.decode() or None)  # fmt: skip
    if status == 429:
        assert isinstance(caught.value, errors.RateLimited) and caught.value.retry_after == 3


def test_upsert_sees_a_number_25_as_the_value_25_it_sends(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    """The server's `25` for a custom field sent as "25" is no change: upsert sends nothing."""
    api.post("/subscriber").respond(
        409, json={"error": "e", "errorCode": "SUBSCRIBER_ALREADY_EXISTS", "requestId": "r"}
    )
    api.get("/subscriber/ana%40example.com").respond(
        200, json={"data": {**NUMBER_25, "name": "Ana"}, "requestId": "r"}
    )
    result = make_client().subscribers.upsert(
        EMAIL, name="Ana", custom_fields=[{"label": "age", "value": "25"}]
    )
    assert result.action == "unchanged" and not result.not_applied


DEEP = b"[" * 100_000 + b"]" * 100_000  # deeper than Python's JSON reader goes


@pytest.mark.parametrize(
    ("status", "expected"),
    [(200, errors.ResponseValidationError), (404, errors.NotFound), (502, errors.ServerError)],
)
def test_a_body_nested_too_deep_is_still_a_typed_error(
    make_client: ClientFactory, api: respx.MockRouter, status: int, expected: type[Exception]
) -> None:
    api.get("/subscriber/ana%40example.com").respond(
        status, content=DEEP, headers={"content-type": "application/json"}
    )
    with pytest.raises(expected) as caught:
        make_client(max_retries=0).subscribers.get(EMAIL)
    error = caught.value
    assert isinstance(error, errors.APIError | errors.ResponseValidationError)
    assert error.response.content == DEEP and error.body == DEEP.decode()
