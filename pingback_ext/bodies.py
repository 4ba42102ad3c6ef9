"""Keyword arguments in, generated request models out (with errors that name the field).

The generated models are imported by the functions that build them, with the first request:
attrs and the generated client are about a third of what `import pingback_ext` would cost.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

import httpx

from pingback_ext import emails
from pingback_ext.errors import InvalidRequestError
from pingback_ext.settings import NotGiven, check_headers

if TYPE_CHECKING:
    from pingback_ext._generated.models import (
        CustomFieldInput,
        SegmentationListsInput,
        SubscriberCreate,
        SubscriberStatus,
        SubscriberUpdate,
    )

CustomFieldsArg: TypeAlias = (
    "Mapping[str, str | int | float] | Iterable[CustomFieldInput | Mapping[str, object]]"
)


class RequestOptions(TypedDict, total=False):
    """Per-call overrides of the client's settings, and escape hatches for what the generated
    surface lacks (a field upstream added before we regenerate): `extra_headers`,
    `extra_query`, and `extra_body` (merged into the JSON body).

    An option left out or NOT_GIVEN keeps the client's setting (what a wrapper that forwards
    its own arguments passes); so does `developer_mode=None`. `timeout=None`: no timeout.
    """

    developer_mode: bool | str | NotGiven | None
    timeout: float | httpx.Timeout | NotGiven | None
    max_retries: int | NotGiven
    extra_headers: Mapping[str, str]
    extra_query: Mapping[str, str | int | float]
    extra_body: Mapping[str, Any]


class UpdateFields(RequestOptions, total=False):
    """What PUT /subscriber/{email} can change (see SubscriberUpdate)."""

    name: str
    phone: str
    status: SubscriberStatus | str


class CreateFields(UpdateFields, total=False):
    """What POST /subscriber takes besides the email (see SubscriberCreate)."""

    custom_fields: CustomFieldsArg
    segmentation_lists: Sequence[str]


@dataclass(frozen=True)
class Extras:
    """A call's escape hatches: headers, query parameters and body fields sent as given."""

    headers: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, str], ...] = ()
    body: dict[str, Any] = field(default_factory=dict)


OPTION_NAMES = frozenset(RequestOptions.__annotations__)
UPDATE_NAMES = frozenset(UpdateFields.__annotations__) - OPTION_NAMES


def options_of(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The per-call options among a call's keyword arguments (to pass on to follow-up calls)."""
    return {k: v for k, v in fields.items() if k in OPTION_NAMES}


def check_keywords(method: str, given: Mapping[str, Any], fields: frozenset[str]) -> None:
    """A TypeError for any keyword a public `method` does not take, before anything is sent (as
    Python does for a misspelt keyword: `developer_mod=True` must not be dropped silently)."""
    for name in given:
        if name not in fields and name not in OPTION_NAMES:
            raise TypeError(f"{method}() got an unexpected keyword argument {name!r}")


def _unknown(fields: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """Fields of a record (bulk, CSV) that no request takes: bad data, not a misspelt keyword."""
    extra = set(fields) - allowed - OPTION_NAMES
    if extra:
        raise InvalidRequestError(f"unknown field(s): {', '.join(sorted(extra))}")


def extras(options: Mapping[str, Any]) -> Extras:
    """The escape hatches of a call, checked (see RequestOptions)."""
    query = options.get("extra_query") or {}
    body = options.get("extra_body") or {}
    if not isinstance(query, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str | int | float) and not isinstance(v, bool)
        for k, v in query.items()
    ):
        raise InvalidRequestError("extra_query must map names to strings or numbers")
    if not isinstance(body, Mapping) or not all(isinstance(k, str) for k in body):
        raise InvalidRequestError("extra_body must be a mapping of JSON field names to values")
    try:  # as httpx will encode it: UTF-8 JSON, no NaN or infinity
        json.dumps(dict(body), allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise InvalidRequestError(f"extra_body cannot be sent as JSON: {exc}") from None
    for key, value in query.items():
        _string(f"extra_query {key!r}", key)
        _string(f"extra_query {key!r} value", str(value))
    return Extras(
        headers=check_headers(options.get("extra_headers") or {}, what="extra_headers",
                              per_call=True),
        query=tuple((k, str(v)) for k, v in query.items()),
        body=dict(body),
    )  # fmt: skip


def _string(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidRequestError(f"{name} must be a string, got {type(value).__name__}")
    try:
        value.encode("utf-8")  # JSON bodies are UTF-8: a lone surrogate cannot be sent
    except UnicodeEncodeError:
        raise InvalidRequestError(f"{name} is not valid Unicode text (a lone surrogate)") from None
    return value


def status(value: SubscriberStatus | str) -> SubscriberStatus:
    from pingback_ext._generated.models import SubscriberStatus

    try:
        return SubscriberStatus(value)
    except ValueError:
        allowed = ", ".join(s.value for s in SubscriberStatus)
        raise InvalidRequestError(f"status must be one of {allowed}; got {value!r}") from None


def _field_value(label: str, value: object) -> str:
    # The spec types values as strings; numbers convert without loss, anything else is a mistake.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidRequestError(
            f"custom field {label!r}: value must be a string or number, got {type(value).__name__}"
        )
    return _string(f"custom field {label!r} value", value if isinstance(value, str) else str(value))


def custom_fields(value: CustomFieldsArg) -> list[CustomFieldInput]:
    """From {"age": "25"} or [{"label": "age", "value": "25"}] or CustomFieldInput objects."""
    from pingback_ext._generated.models import CustomFieldInput

    if isinstance(value, Mapping):
        return [CustomFieldInput(label=_string("custom field label", k), value=_field_value(k, v))
                for k, v in value.items()]  # fmt: skip
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidRequestError(
            f"custom_fields must be a mapping or a list of fields, got {type(value).__name__}"
        )
    fields = []
    for item in value:
        if isinstance(item, CustomFieldInput):
            fields.append(item)
        elif isinstance(item, Mapping) and "label" in item:
            label = _string("custom field label", item["label"])
            fields.append(
                CustomFieldInput(label=label, value=_field_value(label, item.get("value")))
            )
        else:
            raise InvalidRequestError(
                f"custom_fields items must be {{'label': ..., 'value': ...}}, got {item!r}"
            )
    return fields


def segmentation_lists(value: Sequence[str] | str) -> list[str]:
    if isinstance(value, Mapping) or not isinstance(value, str | Iterable):
        raise InvalidRequestError(
            f"segmentation lists must be a list id or a list of them, got {type(value).__name__}"
        )
    ids = [value] if isinstance(value, str) else list(value)
    for list_id in ids:
        if not isinstance(list_id, str) or not list_id.strip():
            raise InvalidRequestError(f"segmentation list ids must be non-empty strings: {ids!r}")
        _string("segmentation list id", list_id)
    return ids


def update_body(fields: Mapping[str, Any]) -> SubscriberUpdate:
    from pingback_ext._generated.models import SubscriberUpdate
    from pingback_ext._generated.types import UNSET

    _unknown(fields, UPDATE_NAMES)
    given = {k: v for k, v in fields.items() if k in UPDATE_NAMES and v is not None}
    if not given:
        raise InvalidRequestError(
            f"nothing to update: pass one of {', '.join(sorted(UPDATE_NAMES))}"
        )
    return SubscriberUpdate(
        name=_string("name", given["name"]) if "name" in given else UNSET,
        phone=_string("phone", given["phone"]) if "phone" in given else UNSET,
        status=status(given["status"]) if "status" in given else UNSET,
    )


CREATE_NAMES = frozenset(CreateFields.__annotations__) - OPTION_NAMES


def create_body(email: str, fields: Mapping[str, Any]) -> SubscriberCreate:
    from pingback_ext._generated.models import SubscriberCreate
    from pingback_ext._generated.types import UNSET

    _unknown(fields, CREATE_NAMES)
    problem = emails.email_problem(email)
    if problem is not None:  # the spec's `format: email`: the API would answer 422
        raise InvalidRequestError(f"email {email!r} is not valid: {problem}")
    given = {k: v for k, v in fields.items() if v is not None}
    return SubscriberCreate(
        email=email,
        name=_string("name", given["name"]) if "name" in given else UNSET,
        phone=_string("phone", given["phone"]) if "phone" in given else UNSET,
        status=status(given["status"]) if "status" in given else UNSET,
        custom_fields=custom_fields(given["custom_fields"]) if "custom_fields" in given else UNSET,
        segmentation_lists=(
            segmentation_lists(given["segmentation_lists"])
            if "segmentation_lists" in given
            else UNSET
        ),
    )


def lists_body(list_ids: Sequence[str] | str) -> SegmentationListsInput:
    from pingback_ext._generated.models import SegmentationListsInput

    ids = segmentation_lists(list_ids)
    if not ids:
        raise InvalidRequestError("pass at least one segmentation list id")
    return SegmentationListsInput(segmentation_lists=ids)
