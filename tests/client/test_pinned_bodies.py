"""Pinned: the request bodies built from keyword arguments, and the path-segment guards.

Each test makes the client send (or refuse to send) a request and looks at the JSON that left.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import respx

from pingback_ext import InvalidRequestError
from pingback_ext import bodies as request_bodies
from pingback_ext._generated.models import CustomFieldInput, SubscriberStatus
from tests.client import bodies
from tests.client.conftest import ClientFactory


@pytest.fixture
def create(api: respx.MockRouter) -> respx.Route:
    return api.post("/subscriber").respond(201, json=bodies.envelope(bodies.subscriber()))


@pytest.fixture
def update(api: respx.MockRouter) -> respx.Route:
    return api.put("/subscriber/ana%40example.com").respond(
        200, json=bodies.envelope(bodies.subscriber())
    )


def sent(route: respx.Route) -> Any:
    assert route.call_count == 1
    return json.loads(route.calls.last.request.content)


# ----------------------------------------------------------------------------- custom fields


def test_custom_fields_from_model_objects_are_sent_as_given(
    make_client: ClientFactory, create: respx.Route
) -> None:
    fields = [
        CustomFieldInput(label="age", value="25"),
        CustomFieldInput(label="city", value="Rio"),
    ]
    make_client().subscribers.create("ana@example.com", custom_fields=fields)
    assert sent(create)["customFields"] == [
        {"label": "age", "value": "25"}, {"label": "city", "value": "Rio"},
    ]  # fmt: skip


def test_custom_fields_mixing_objects_and_mappings_keep_their_order(
    make_client: ClientFactory, create: respx.Route
) -> None:
    fields = [
        {"label": "age", "value": 25},
        CustomFieldInput(label="city", value="Rio"),
        {"label": "score", "value": 1.5},
    ]
    make_client().subscribers.create("ana@example.com", custom_fields=fields)
    assert sent(create)["customFields"] == [
        {"label": "age", "value": "25"},
        {"label": "city", "value": "Rio"},
        {"label": "score", "value": "1.5"},
    ]


def test_custom_fields_from_a_mapping_turn_numbers_into_text(
    make_client: ClientFactory, create: respx.Route
) -> None:
    make_client().subscribers.create(
        "ana@example.com", custom_fields={"age": 25, "score": 2.5, "city": "Rio", "zero": 0}
    )
    assert sent(create)["customFields"] == [
        {"label": "age", "value": "25"},
        {"label": "score", "value": "2.5"},
        {"label": "city", "value": "Rio"},
        {"label": "zero", "value": "0"},
    ]


@pytest.mark.parametrize(
    ("custom_fields", "names"),
    [
        ({"vip": True}, ["'vip'", "bool"]),
        ({"age": None}, ["'age'", "NoneType"]),
        ({"tags": ["a"]}, ["'tags'", "list"]),
        ([{"label": "age"}], ["'age'", "NoneType"]),  # a value is required
        ([{"label": "age", "value": False}], ["'age'", "bool"]),
        ([{"label": 5, "value": "x"}], ["custom field label", "int"]),
        ({5: "x"}, ["custom field label", "int"]),
        ({"\ud800": "x"}, ["custom field label", "surrogate"]),
        ([{"label": "\udfff", "value": "x"}], ["custom field label", "surrogate"]),
        ([{"value": "x"}], ["custom_fields", "label"]),
        (["age=25"], ["custom_fields", "'age=25'"]),
        ([("age", "25")], ["custom_fields", "('age', '25')"]),
    ],
)
def test_bad_custom_fields_are_refused_naming_the_field(
    make_client: ClientFactory, api: respx.MockRouter, custom_fields: Any, names: list[str]
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make_client().subscribers.create("ana@example.com", custom_fields=custom_fields)
    message = str(caught.value)
    for name in names:
        assert name in message
    if names[0] == "custom field label":  # the message starts with what it is about
        assert message.startswith("custom field label"), message
    assert not api.calls


# ----------------------------------------------------------------------------- create


def test_create_sends_only_the_fields_given(
    make_client: ClientFactory, create: respx.Route
) -> None:
    make_client().subscribers.create("ana@example.com", name=None, phone=None, timeout=5,
                                     max_retries=1, developer_mode=False)  # fmt: skip
    assert sent(create) == {"email": "ana@example.com"}


def test_create_with_every_field(make_client: ClientFactory, create: respx.Route) -> None:
    make_client().subscribers.create(
        "ana@example.com", name="Ana", phone="+5511999999999",
        status=SubscriberStatus.PAID_SUBSCRIBER, segmentation_lists="list-1",
    )  # fmt: skip
    assert sent(create) == {
        "email": "ana@example.com", "name": "Ana", "phone": "+5511999999999",
        "status": "paid_subscriber", "segmentationLists": ["list-1"],
    }  # fmt: skip


def test_create_with_an_empty_list_of_lists_sends_it(
    make_client: ClientFactory, create: respx.Route
) -> None:
    make_client().subscribers.create("ana@example.com", segmentation_lists=[])
    assert sent(create) == {"email": "ana@example.com", "segmentationLists": []}


@pytest.mark.parametrize("field", ["name", "phone"])
@pytest.mark.parametrize("value", [5, b"bytes", ["x"]])
def test_create_text_fields_must_be_text(
    make_client: ClientFactory, api: respx.MockRouter, field: str, value: object
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make_client().subscribers.create("ana@example.com", **{field: value})
    assert str(caught.value).startswith(f"{field} ") and type(value).__name__ in str(caught.value)
    assert not api.calls


@pytest.mark.parametrize("status", ["vip", "FREE_SUBSCRIBER", "", 3])
def test_an_unknown_status_is_refused_listing_the_allowed_ones(
    make_client: ClientFactory, api: respx.MockRouter, status: object
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make_client().subscribers.create("ana@example.com", status=status)
    allowed = ", ".join(s.value for s in SubscriberStatus)  # all of them, in the spec's order
    assert str(caught.value).startswith("status ")
    assert allowed in str(caught.value) and repr(status) in str(caught.value)
    assert not api.calls


@pytest.mark.parametrize("lists", [[""], ["  "], ["list-1", ""], [5], [None]])
def test_segmentation_list_ids_must_be_non_empty_text(
    make_client: ClientFactory, api: respx.MockRouter, lists: list[Any]
) -> None:
    with pytest.raises(InvalidRequestError, match="segmentation list id"):
        make_client().subscribers.create("ana@example.com", segmentation_lists=lists)
    with pytest.raises(InvalidRequestError, match="segmentation list id"):
        make_client().segmentations.add_subscriber("ana@example.com", lists)
    assert not api.calls


def test_unknown_fields_are_refused_before_sending(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    pb = make_client()
    with pytest.raises((InvalidRequestError, TypeError), match="colour"):
        pb.subscribers.create("ana@example.com", colour="red")
    with pytest.raises((InvalidRequestError, TypeError), match="colour"):
        pb.subscribers.update("ana@example.com", name="Ana", colour="red")
    with pytest.raises((InvalidRequestError, TypeError), match="custom_fields"):
        pb.subscribers.update("ana@example.com", custom_fields={"a": "b"})
    assert not api.calls


# ----------------------------------------------------------------------------- update


@pytest.mark.parametrize(
    "options",
    [{}, {"timeout": 5}, {"max_retries": 0}, {"developer_mode": True}, {"name": None},
     {"name": None, "status": None, "phone": None, "timeout": 5}],
)  # fmt: skip
def test_update_without_a_field_to_change_sends_nothing(
    make_client: ClientFactory, api: respx.MockRouter, options: dict[str, Any]
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make_client().subscribers.update("ana@example.com", **options)
    assert str(caught.value).startswith("nothing to update")
    assert "name, phone, status" in str(caught.value)
    assert not api.calls


def test_update_sends_each_field_alone(make_client: ClientFactory, update: respx.Route) -> None:
    pb = make_client()
    expected = {"name": "Ana", "phone": "+5511999999999", "status": "paid_subscriber"}
    for field, value in expected.items():
        pb.subscribers.update("ana@example.com", **{field: value}, timeout=5)
        assert json.loads(update.calls.last.request.content) == {field: value}


def test_update_with_every_field(make_client: ClientFactory, update: respx.Route) -> None:
    make_client().subscribers.update(
        "ana@example.com", name="Ana", phone="+1", status=SubscriberStatus.FREE_SUBSCRIBER
    )
    assert sent(update) == {"name": "Ana", "phone": "+1", "status": "free_subscriber"}


@pytest.mark.parametrize("field", ["name", "phone"])
def test_update_text_fields_must_be_text(
    make_client: ClientFactory, api: respx.MockRouter, field: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make_client().subscribers.update("ana@example.com", **{field: 5})
    assert str(caught.value).startswith(f"{field} ") and "int" in str(caught.value)
    assert not api.calls


# ----------------------------------------------------------------------------- lists


def test_add_subscriber_takes_one_id_or_several(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    route = api.post("/segmentation/add-subscriber/ana%40example.com").respond(
        200, json=bodies.envelope([bodies.membership("list-1")])
    )
    pb = make_client()
    pb.segmentations.add_subscriber("ana@example.com", "list-1")
    assert json.loads(route.calls.last.request.content) == {"segmentationLists": ["list-1"]}
    pb.segmentations.add_subscriber("ana@example.com", ("list-1", "list-2"))
    assert json.loads(route.calls.last.request.content) == {
        "segmentationLists": ["list-1", "list-2"]
    }


def test_add_subscriber_needs_at_least_one_list(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    with pytest.raises(InvalidRequestError, match=r"^pass at least one segmentation list id$"):
        make_client().segmentations.add_subscriber("ana@example.com", [])
    assert not api.calls


# ----------------------------------------------------------------------------- path segments


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (5, ["int"]),
        (None, ["NoneType"]),
        ("", ["empty"]),
        ("  ", ["empty"]),
        (".", ["'.'"]),
        ("..", ["'..'"]),
        ("a\x00b@example.com", ["NUL"]),
        ("\ud800@example.com", ["surrogate"]),
    ],
)
def test_unsafe_path_values_are_refused_naming_the_argument(
    make_client: ClientFactory, api: respx.MockRouter, value: Any, words: list[str]
) -> None:
    pb = make_client()
    for call, name in [
        (lambda: pb.subscribers.get(value), "email"),
        (lambda: pb.subscribers.update(value, name="x"), "email"),
        (lambda: pb.subscribers.create(value), "email"),
        (lambda: pb.segmentations.add_subscriber(value, ["list-1"]), "email"),
        (lambda: pb.segmentations.remove_subscriber("list-1", value), "email"),
        (
            lambda: pb.segmentations.remove_subscriber(value, "a@example.com"),
            "segmentation list id",
        ),
    ]:
        with pytest.raises(InvalidRequestError) as caught:
            call()
        message = str(caught.value)
        assert message.startswith(name), message
        for word in words:
            assert word in message, message
    assert not api.calls


@pytest.mark.parametrize("value", ["a.b@example.com", "...", ".a", "a..", " a ", "%2e%2e"])
def test_values_that_only_look_like_dot_segments_are_sent(
    make_client: ClientFactory, api: respx.MockRouter, value: str
) -> None:
    route = api.route(method="GET").respond(200, json=bodies.envelope(bodies.subscriber(value)))
    make_client().subscribers.get(value)
    assert route.call_count == 1


def test_per_call_options_reach_every_request_of_an_upsert(
    make_client: ClientFactory, api: respx.MockRouter
) -> None:
    """On 409 an upsert brings the subscriber up to date: every request with the call's options."""
    api.post("/subscriber").respond(409, json=bodies.error("SUBSCRIBER_ALREADY_EXISTS"))
    put = api.put("/subscriber/ana%40example.com").respond(
        200, json=bodies.envelope(bodies.subscriber(name="Ana B"))
    )
    add = api.post("/segmentation/add-subscriber/ana%40example.com").respond(
        200, json=bodies.envelope([bodies.membership("list-2")])
    )
    api.get("/subscriber/ana%40example.com").respond(  # as it was: name Ana, in list-1 only
        200, json=bodies.envelope(bodies.subscriber())
    )
    _, created = make_client().subscribers.upsert(
        "ana@example.com", name="Ana B", segmentation_lists=["list-2"], developer_mode=True
    )
    assert not created
    assert sent(put) == {"name": "Ana B"} and sent(add) == {"segmentationLists": ["list-2"]}
    for call in api.calls:
        assert call.request.headers.get("x-developer-mode") == "true", call.request


def test_a_records_unknown_fields_are_named_in_order() -> None:
    """Bulk and CSV records reach the body builders directly: bad columns are named, sorted."""
    with pytest.raises(InvalidRequestError) as caught:
        request_bodies.create_body("ana@example.com", {"size": "L", "colour": "red", "name": "A"})
    assert str(caught.value).endswith(": colour, size")
    with pytest.raises(InvalidRequestError) as caught:
        request_bodies.update_body({"name": "Ana", "segmentation_lists": ["x"], "age": 3})
    assert str(caught.value).endswith(": age, segmentation_lists")


@pytest.mark.parametrize(("field", "value", "name"), [
    ("custom_fields", 5, "custom_fields"), ("custom_fields", 2.5, "custom_fields"),
    ("segmentation_lists", 5, "segmentation list"),
    ("segmentation_lists", 2.5, "segmentation list"),
])  # fmt: skip
def test_a_field_of_the_wrong_shape_is_refused_naming_it(
    make_client: ClientFactory, api: respx.MockRouter, field: str, value: object, name: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        make_client().subscribers.create("ana@example.com", **{field: value})
    message = str(caught.value)
    assert message.startswith(name) and type(value).__name__ in message, message
    assert not api.calls


@pytest.mark.parametrize("email", ["not-an-email", "ana@", "@example.com", "ana@@example.com"])
def test_a_create_body_refuses_an_email_the_spec_refuses_naming_it(email: str) -> None:
    with pytest.raises(InvalidRequestError, match=f"email {email!r} is not valid: ."):
        request_bodies.create_body(email, {})
