"""Each derivation step, given a revision without what it works on, names itself and what it
looked for in one line (a DerivationError), never a traceback."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from codegen import spec_io, steps
from codegen.derive import DerivationError, apply
from hypothesis import given, settings
from hypothesis import strategies as st

UPSTREAM = spec_io.load(spec_io.UPSTREAM_SPEC)
STEPS = {s.name: s for s in [*steps.ADDITIONS, *steps.REFACTORINGS]}
SUBSCRIBER = "/subscriber/{email}"
ADD = "/segmentation/add-subscriber/{email}"
REMOVE = "/segmentation/{id}/remove-subscriber/{email}"


def _rename_everywhere(old: str, new: str) -> Callable[[dict[str, Any]], None]:
    def edit(node: Any) -> None:
        if isinstance(node, dict):
            for key in list(node):
                edit(node[key])
                if key == old:
                    node[new] = node.pop(old)
        elif isinstance(node, list):
            for item in node:
                edit(item)

    return edit


def _replace_value(old: str, new: str) -> Callable[[dict[str, Any]], None]:
    def edit(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if value == old:
                    node[key] = new
                else:
                    edit(value)
        elif isinstance(node, list):
            for item in node:
                edit(item)

    return edit


def _drop_api_key(doc: dict[str, Any]) -> None:
    for item in doc["paths"].values():
        item["parameters"] = [p for p in item["parameters"] if p["name"] != "x-api-key"]


def _segmentation_only(doc: dict[str, Any]) -> None:
    for path in ("/subscriber", SUBSCRIBER):
        del doc["paths"][path]


def _set_custom_field_value_type(kind: str) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        value = doc["components"]["schemas"]["CustomFields"]["items"]["properties"]["value"]
        value["type"] = kind

    return edit


# step -> (steps to run first, the edit, what the message must say after the step's name)
CASES: dict[str, tuple[list[str], Callable[[dict[str, Any]], Any], str]] = {
    "forbidden-and-rate-limited": ([], lambda d: d["paths"].clear(), "found no operation"),
    "update-validation-errors": (
        [],
        lambda d: d["paths"][SUBSCRIBER].pop("put"),
        "operation updateSubscriber (PUT) not found",
    ),
    "bodies-required": (
        [],
        lambda d: d["paths"][ADD]["post"].pop("requestBody"),
        "operation addSubscriberToSegment has no request body",
    ),
    "invalid-input-everywhere": ([], lambda d: d["paths"].clear(), "found no operation"),
    "request-id-required": (
        [],
        _rename_everywhere("requestId", "reqId"),
        "found no response body with a requestId field",
    ),
    "success-data-required": (
        [],
        _rename_everywhere("data", "payload"),
        "found no success body with a data field",
    ),
    "error-fields-required": (
        [],
        _rename_everywhere("errorCode", "code"),
        "found no error body with exactly the fields error, errorCode, requestId",
    ),
    "custom-field-example": (
        [],
        lambda d: d["components"]["schemas"].pop("CustomFields"),
        "components.schemas.CustomFields not found",
    ),
    "phone-e164-pattern": (
        [],
        _replace_value("phone", "tel"),
        "found no string field with `format: phone`",
    ),
    "stateful-links": (
        [],
        lambda d: d["paths"].pop(REMOVE),
        "operation removeSubscriberFromSegment not found",
    ),
    "server-assigned-fields-required": (
        [],
        lambda d: d["components"]["schemas"]["Subscriber"]["properties"].pop("createdAt"),
        "Subscriber has no createdAt",
    ),
    "api-key-security-scheme": ([], _drop_api_key, "found no x-api-key header parameter"),
    "shared-error-model": (
        [],
        _rename_everywhere("errorCode", "code"),
        "createSubscriber 400: error body is not error, errorCode, requestId (all strings)",
    ),
    "single-status-enum": (
        [],
        lambda d: d["components"]["schemas"]["Subscriber"]["properties"].pop("status"),
        "components.schemas.Subscriber.properties.status not found",
    ),
    "named-custom-field": (
        [],
        lambda d: d["components"]["schemas"]["CustomFields"].pop("items"),
        "components.schemas.CustomFields.items not found",
    ),
    "create-body-without-read-only": (
        ["named-custom-field"],
        lambda d: d["components"].pop("requestBodies"),
        "components.requestBodies not found",
    ),
    "named-request-bodies": (
        [],
        lambda d: d["paths"][SUBSCRIBER]["put"]["requestBody"].pop("content"),
        "operation updateSubscriber request body: content not found",
    ),
    "subscriber-envelope": (
        [],
        _segmentation_only,
        "found no success body for SubscriberResponse",
    ),
    "membership-model": (
        [],
        _rename_everywhere("email", "subscriberEmail"),
        "found no success body whose data is a membership (createdAt, email, id, "
        "segmentationListId, subscriberId, updatedAt)",
    ),
    "lenient-custom-field-values": (
        ["named-custom-field"],
        _set_custom_field_value_type("integer"),
        "CustomField.value is no longer `type: string`",
    ),
}


def test_every_step_has_a_case() -> None:
    assert set(CASES) == set(STEPS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_step_that_no_longer_applies_names_itself(name: str) -> None:
    before, edit, looked_for = CASES[name]
    doc = copy.deepcopy(UPSTREAM)
    edit(doc)
    with pytest.raises(DerivationError) as caught:
        apply(doc, [*(STEPS[b] for b in before), STEPS[name]])
    assert str(caught.value) == (
        f"derivation step {name!r} does not apply to this revision: {looked_for}"
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_step_applies_to_todays_upstream(name: str) -> None:
    """The same steps, unedited input: the failures above are about the edits."""
    before, _edit, _looked_for = CASES[name]
    apply(copy.deepcopy(UPSTREAM), [*(STEPS[b] for b in before), STEPS[name]])


@pytest.mark.parametrize(
    "junk", [None, 7, "text", [], {"$ref": "#/nowhere"}], ids=["none", "int", "str", "list", "ref"]
)
def test_a_shape_no_step_foresaw_still_names_the_step(junk: Any) -> None:
    doc = copy.deepcopy(UPSTREAM)
    doc["paths"][SUBSCRIBER]["put"]["requestBody"] = junk
    with pytest.raises(DerivationError) as caught:
        apply(doc, [*steps.ADDITIONS, *steps.REFACTORINGS])
    message = str(caught.value)
    assert message.startswith("derivation step '") and "\n" not in message


# Junk anywhere in today's upstream: the derivation works or names a step, in one line.
def _places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _places(value, (*path, index))
    return found


JUNK = st.sampled_from(
    [None, True, 0, "", "object", [], [1], {}, {"type": "object"}, {"properties": []},
     {"$ref": "#/components/schemas/Subscriber"}, {"$ref": "#/nowhere"}, {"$ref": 5},
     {"allOf": [{}]}, {"anyOf": []}, {"items": []}]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_places(UPSTREAM)), JUNK), min_size=1, max_size=2))
def test_junk_anywhere_derives_or_names_a_step(edits: list[tuple[tuple[Any, ...], Any]]) -> None:
    doc = copy.deepcopy(UPSTREAM)
    for path, value in edits:
        node: Any = doc
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = copy.deepcopy(value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit replaced this place's parent
    try:
        apply(doc, [*steps.ADDITIONS, *steps.REFACTORINGS])
    except DerivationError as exc:
        assert str(exc).startswith("derivation step '") and "\n" not in str(exc)
