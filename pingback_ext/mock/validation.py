"""Request-body validation with Joi-style messages that name the offending field.

The rules follow the spec as a JSON Schema validator reads it, so that a contract suite
agrees with the mock: anything the schema allows is accepted (unknown properties are
ignored, optional fields may be absent), anything it forbids is a 422 INVALID_INPUT.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pingback_ext import emails
from pingback_ext.mock.errors import ApiError, invalid_input

STATUSES = ("free_subscriber", "paid_subscriber", "unsubscribed_subscriber")
# The spec's `^\+[1-9]\d{1,14}$` read with ECMA-262 semantics (OpenAPI's regex dialect):
# `\d` is ASCII only and `$` does not match before a trailing newline.
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")


@dataclass(frozen=True)
class CustomFieldInput:
    """One `customFields` entry as sent; either part may be absent."""

    label: str | None
    value: str | None


@dataclass(frozen=True)
class CreateInput:
    """A validated create body; `None` means the field was absent."""

    email: str
    name: str | None = None
    phone: str | None = None
    status: str | None = None
    custom_fields: tuple[CustomFieldInput, ...] = ()
    segmentation_lists: tuple[str, ...] = ()


@dataclass(frozen=True)
class UpdateInput:
    """A validated update body: only the fields that were sent."""

    changes: dict[str, str] = field(default_factory=dict)


def is_valid_email(value: str) -> bool:
    """The toolkit's one email rule (pingback_ext.emails), as the client and the importer use it."""
    return emails.is_valid_email(value)


def is_valid_phone(value: str) -> bool:
    """True when `value` is E.164 exactly as the derived spec's pattern says."""
    return _E164.fullmatch(value) is not None


def require_object(body: Any) -> dict[str, Any]:
    """Non-object JSON (array, string, number, null) is 422, as Joi reports it."""
    if not isinstance(body, dict):
        raise invalid_input('"value" must be of type object')
    return body


def _text(value: Any, label: str) -> str:
    """A string that can be stored and echoed: JSON allows lone surrogates, UTF-8 does not."""
    if not isinstance(value, str):
        raise invalid_input(f'"{label}" must be a string')
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid_input(f'"{label}" must not contain lone surrogates') from None
    return value


def _string(body: dict[str, Any], name: str, label: str | None = None) -> str | None:
    if name not in body:
        return None
    return _text(body[name], label or name)


def _name_phone_status(body: dict[str, Any]) -> dict[str, str]:
    """Validate the three fields create and update share; return those present."""
    out: dict[str, str] = {}
    name = _string(body, "name")
    if name is not None:
        out["name"] = name
    phone = _string(body, "phone")
    if phone is not None:
        if not is_valid_phone(phone):
            raise invalid_input('"phone" contains an invalid value')
        out["phone"] = phone
    status = _string(body, "status")
    if status is not None:
        if status not in STATUSES:
            raise invalid_input(f'"status" must be one of [{", ".join(STATUSES)}]')
        out["status"] = status
    return out


def _custom_fields(body: dict[str, Any]) -> tuple[CustomFieldInput, ...]:
    if "customFields" not in body:
        return ()
    raw = body["customFields"]
    if not isinstance(raw, list):
        raise invalid_input('"customFields" must be an array')
    fields: list[CustomFieldInput] = []
    for index, item in enumerate(raw):
        where = f"customFields[{index}]"
        if not isinstance(item, dict):
            raise invalid_input(f'"{where}" must be of type object')
        label = _string(item, "label", f"{where}.label")
        value = _string(item, "value", f"{where}.value")
        fields.append(CustomFieldInput(label=label, value=value))
    return tuple(fields)


def _list_ids(body: dict[str, Any], *, required: bool) -> tuple[str, ...]:
    if "segmentationLists" not in body:
        if required:
            raise invalid_input('"segmentationLists" is required')
        return ()
    raw = body["segmentationLists"]
    if not isinstance(raw, list):
        raise invalid_input('"segmentationLists" must be an array')
    if required and not raw:
        raise invalid_input('"segmentationLists" must contain at least 1 items')
    return tuple(_text(item, f"segmentationLists[{index}]") for index, item in enumerate(raw))


def validate_create(body: Any) -> CreateInput:
    """POST /subscriber: `email` is required; read-only and unknown properties are ignored."""
    obj = require_object(body)
    if "email" not in obj:
        raise invalid_input('"email" is required')
    email = _string(obj, "email")
    assert email is not None
    if not is_valid_email(email):
        raise invalid_input('"email" must be a valid email')
    shared = _name_phone_status(obj)
    return CreateInput(
        email=email,
        name=shared.get("name"),
        phone=shared.get("phone"),
        status=shared.get("status"),
        custom_fields=_custom_fields(obj),
        segmentation_lists=_list_ids(obj, required=False),
    )


def validate_update(body: Any) -> UpdateInput:
    """PUT /subscriber/{email}: only name, phone and status can change; `{}` changes nothing."""
    return UpdateInput(changes=_name_phone_status(require_object(body)))


def validate_segmentation(body: Any) -> tuple[str, ...]:
    """POST /segmentation/add-subscriber/{email}: a non-empty array of list ids."""
    return _list_ids(require_object(body), required=True)


def parse_developer_mode(value: str | None) -> bool:
    """`x-developer-mode`: absent or "false" is production, "true" the sandbox, else 422."""
    if value is None:
        return False
    lowered = value.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ApiError(422, "INVALID_INPUT", '"x-developer-mode" must be a boolean')
