"""The derivation from the upstream spec to the spec we generate from, as named steps.

Two kinds of step, kept apart on purpose:

* ADDITIONS declare what upstream's prose promises but its paths do not (they may narrow
  or extend what is valid; each says why in one line).
* REFACTORINGS change no meaning; they only reshape the document so that the generated
  client is good (shared models, auth as a security scheme, sensible names).

`tests/codegen/test_derivation.py` proves the split: everything valid under
upstream + ADDITIONS is valid under the derived spec and vice versa.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from codegen.spec_io import Document, operations, resolve

Kind = Literal["addition", "refactoring"]


class StepDoesNotApply(Exception):
    """Upstream changed under a step: what it works on is gone. The message says what it
    looked for, in one line; `derive` adds the step's name."""


@dataclass(frozen=True)
class Step:
    name: str
    kind: Kind
    reason: str
    apply: Callable[[Document], None]


ERROR_FIELDS = ("error", "errorCode", "requestId")
E164_PATTERN = r"^\+[1-9]\d{1,14}$"
SCHEMAS = "#/components/schemas/"


# --------------------------------------------------------------------------- helpers


def _at(node: Any, *keys: str) -> Any:
    """node[k1][k2]..., or StepDoesNotApply naming the dotted path that is missing."""
    for depth, key in enumerate(keys):
        if not isinstance(node, dict) or key not in node:
            raise StepDoesNotApply(f"{'.'.join(keys[: depth + 1])} not found")
        node = node[key]
    return node


def _operation(doc: Document, op_id: str, method: str | None = None) -> Document:
    for _path, found_method, op in operations(doc):
        if op.get("operationId") == op_id and method in (None, found_method):
            return op
    raise StepDoesNotApply(f"operation {op_id}{f' ({method.upper()})' if method else ''} not found")


def _body_schema(doc: Document, op_id: str) -> Document:
    op = _operation(doc, op_id)
    if "requestBody" not in op:
        raise StepDoesNotApply(f"operation {op_id} has no request body")
    try:
        schema: Document = _at(
            resolve(doc, op["requestBody"]), "content", "application/json", "schema"
        )
    except StepDoesNotApply as exc:
        raise StepDoesNotApply(f"operation {op_id} request body: {exc}") from None
    return schema


def _found(count: int, what: str) -> None:
    if count == 0:
        raise StepDoesNotApply(f"found no {what}")


def _json_media(response: Document) -> Document | None:
    media: Document | None = response.get("content", {}).get("application/json")
    return media


def _variants(schema: Document) -> list[Document]:
    """The alternatives of a schema: anyOf/oneOf members, or the schema itself."""
    for key in ("anyOf", "oneOf"):
        if key in schema:
            members: list[Document] = schema[key]
            return members
    return [schema]


def _responses(doc: Document) -> Iterator[tuple[str, Document, str, Document]]:
    """(operationId, operation, status, response) for every declared response."""
    for _path, _method, op in operations(doc):
        for status, response in op.get("responses", {}).items():
            yield op["operationId"], op, str(status), resolve(doc, response)


def _is_error_status(status: str) -> bool:
    return status[0] in "45"


def _error_schema(code: str, message: str) -> Document:
    return {
        "type": "object",
        "properties": {
            "error": {"type": "string", "example": message},
            "errorCode": {"type": "string", "example": code},
            "requestId": {"type": "string", "example": "ff37b0a8-de19-4f72-a7ed-0bd1cb73f29f"},
        },
    }


def _error_response(description: str, code: str, message: str) -> Document:
    return {
        "description": description,
        "content": {"application/json": {"schema": _error_schema(code, message)}},
    }


def _add_response(op: Document, status: str, response: Document) -> None:
    responses = op.setdefault("responses", {})
    if status in responses:
        return
    responses[status] = response
    # Keep statuses in numeric order so the document reads naturally.
    op["responses"] = dict(sorted(responses.items(), key=lambda item: str(item[0])))


# --------------------------------------------------------------------------- additions


def add_request_id_required(doc: Document) -> None:
    found = 0
    for _op_id, _op, _status, response in _responses(doc):
        media = _json_media(response)
        if media is None:
            continue
        for variant in _variants(media["schema"]):
            if "requestId" in variant.get("properties", {}):
                found += 1
                required = variant.setdefault("required", [])
                if "requestId" not in required:
                    required.append("requestId")
    _found(found, "response body with a requestId field")


def add_success_data_required(doc: Document) -> None:
    found = 0
    for _op_id, _op, status, response in _responses(doc):
        media = _json_media(response)
        if media is None or _is_error_status(status):
            continue
        for variant in _variants(media["schema"]):
            if "data" in variant.get("properties", {}):
                found += 1
                required = variant.setdefault("required", [])
                if "data" not in required:
                    required.insert(0, "data")
    _found(found, "success body with a data field")


def add_error_fields_required(doc: Document) -> None:
    found = 0
    for _op_id, _op, status, response in _responses(doc):
        media = _json_media(response)
        if media is None or not _is_error_status(status):
            continue
        for variant in _variants(media["schema"]):
            if set(variant.get("properties", {})) == set(ERROR_FIELDS):
                found += 1
                variant["required"] = list(ERROR_FIELDS)
    _found(found, "error body with exactly the fields " + ", ".join(ERROR_FIELDS))


def add_forbidden_and_rate_limited(doc: Document) -> None:
    _found(len(operations(doc)), "operation")
    for _path, _method, op in operations(doc):
        _add_response(
            op,
            "403",
            _error_response(
                "Forbidden: the x-api-key header is missing or not a valid key.",
                "FORBIDDEN",
                "Forbidden.",
            ),
        )
        limited = _error_response(
            "Too many requests: more than 5 requests per second (bursts of 2).",
            "TOO_MANY_REQUESTS",
            "Too many requests.",
        )
        limited["headers"] = {
            "Retry-After": {
                "description": "Seconds (or an HTTP date) to wait before trying again.",
                "schema": {"type": "string"},
            }
        }
        _add_response(op, "429", limited)


def add_update_validation_errors(doc: Document) -> None:
    op = _operation(doc, "updateSubscriber", "put")
    _add_response(
        op, "400", _error_response("Body is necessary.", "MISSING_BODY", "Body is necessary.")
    )
    _add_response(
        op,
        "422",
        _error_response(
            "Unprocessable Entity.", "INVALID_INPUT", '"phone" contains an invalid value'
        ),
    )


def require_bodies(doc: Document) -> None:
    for op_id in ("updateSubscriber", "addSubscriberToSegment"):
        _body_schema(doc, op_id)  # both must be there before either is changed
    for op_id in ("updateSubscriber", "addSubscriberToSegment"):
        resolve(doc, _operation(doc, op_id)["requestBody"])["required"] = True
    schema = _body_schema(doc, "addSubscriberToSegment")
    lists = _at(schema, "properties", "segmentationLists")
    schema["required"] = ["segmentationLists"]
    lists["minItems"] = 1


def add_invalid_input_everywhere(doc: Document) -> None:
    _found(len(operations(doc)), "operation")
    for _path, _method, op in operations(doc):
        _add_response(
            op,
            "422",
            _error_response(
                "Unprocessable Entity: a parameter or header is not valid.",
                "INVALID_INPUT",
                '"x-developer-mode" must be a boolean',
            ),
        )


def fix_custom_field_example(doc: Document) -> None:
    value = _at(doc, "components", "schemas", "CustomFields", "items", "properties", "value")
    if not isinstance(value.get("example"), str):
        value["example"] = str(value.get("example", "25"))


def _walk_schemas(node: Any) -> Iterator[Document]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk_schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_schemas(value)


def add_phone_pattern(doc: Document) -> None:
    found = 0
    for node in _walk_schemas(doc):
        if node.get("type") == "string" and node.get("format") == "phone":
            found += 1
            node["pattern"] = E164_PATTERN
    _found(found, "string field with `format: phone`")


#: Fields a stored record always has: set by the server when it creates the record (readOnly).
SERVER_ASSIGNED = ("id", "createdAt", "updatedAt")


def add_server_assigned_fields_required(doc: Document) -> None:
    subscriber = _at(doc, "components", "schemas", "Subscriber")
    props = _at(subscriber, "properties")
    missing = [name for name in SERVER_ASSIGNED if name not in props]
    if missing:
        raise StepDoesNotApply(f"Subscriber has no {', '.join(missing)}")
    required = subscriber.setdefault("required", [])
    required.extend(name for name in SERVER_ASSIGNED if name not in required)
    found = 0
    for media in _success_media(doc):
        target = _membership_target(media)
        if _is_membership(target):
            found += 1
            target["required"] = [name for name in target["properties"] if name in MEMBERSHIP_KEYS]
    _found(found, "success body whose data is a membership")


LINKS: dict[str, dict[str, Document]] = {
    "createSubscriber": {
        "201": {
            "GetCreatedSubscriber": {
                "operationId": "getSubscriber",
                "parameters": {"email": "$response.body#/data/email"},
            },
            "UpdateCreatedSubscriber": {
                "operationId": "updateSubscriber",
                "parameters": {"email": "$response.body#/data/email"},
            },
            "AddCreatedSubscriberToSegment": {
                "operationId": "addSubscriberToSegment",
                "parameters": {"email": "$response.body#/data/email"},
            },
        }
    },
    "updateSubscriber": {
        "200": {
            "GetUpdatedSubscriber": {
                "operationId": "getSubscriber",
                "parameters": {"email": "$response.body#/data/email"},
            },
            "AddUpdatedSubscriberToSegment": {
                "operationId": "addSubscriberToSegment",
                "parameters": {"email": "$response.body#/data/email"},
            },
        }
    },
    "addSubscriberToSegment": {
        "200": {
            "RemoveAddedMembership": {
                "operationId": "removeSubscriberFromSegment",
                "parameters": {
                    "id": "$response.body#/data/0/segmentationListId",
                    "email": "$response.body#/data/0/email",
                },
            },
            "GetSegmentedSubscriber": {
                "operationId": "getSubscriber",
                "parameters": {"email": "$response.body#/data/0/email"},
            },
        }
    },
}


def _follow_pointer(doc: Document, schema: Any, pointer: str) -> bool:
    """Whether a body described by `schema` can have something at JSON pointer `pointer`."""
    node = resolve(doc, schema)
    for part in pointer.strip("/").split("/"):
        if not isinstance(node, dict):
            return False
        if part.isdigit() and "items" in node:
            node = resolve(doc, node["items"])
        elif part in node.get("properties", {}):
            node = resolve(doc, node["properties"][part])
        else:
            return False
    return True


def add_links(doc: Document) -> None:
    """Every linked operation, response and body field must exist, or the link misleads."""
    for op_id, by_status in LINKS.items():
        responses = _at(_operation(doc, op_id), "responses")
        for status, links in by_status.items():
            if status not in responses:
                raise StepDoesNotApply(f"operation {op_id} has no {status} response")
            response = resolve(doc, responses[status])
            schema = _at(response, "content", "application/json", "schema")
            for link in links.values():
                _operation(doc, link["operationId"])
                for expression in link["parameters"].values():
                    pointer = expression.removeprefix("$response.body#")
                    if not _follow_pointer(doc, schema, pointer):
                        raise StepDoesNotApply(
                            f"operation {op_id} {status} body has no field at {pointer}"
                        )
            response.setdefault("links", {}).update(copy.deepcopy(links))


ADDITIONS = [
    Step(
        "forbidden-and-rate-limited",
        "addition",
        "The prose's response-code table lists 403 and 429 (5 req/s, burst 2) for every call.",
        add_forbidden_and_rate_limited,
    ),
    Step(
        "update-validation-errors",
        "addition",
        "PUT takes a body like POST; the errors page's MISSING_BODY/INVALID_INPUT apply to it.",
        add_update_validation_errors,
    ),
    Step(
        "bodies-required",
        "addition",
        "The errors page answers a missing body with MISSING_BODY and a missing field with "
        "INVALID_INPUT; PUT and add-subscriber need one, and at least one list id.",
        require_bodies,
    ),
    Step(
        "invalid-input-everywhere",
        "addition",
        "INVALID_INPUT (422) also answers invalid parameters and headers (x-developer-mode), "
        "which every operation takes; GET declared none.",
        add_invalid_input_everywhere,
    ),
    Step(
        "request-id-required",
        "addition",
        "The prose: 'Each request to the API will return a requestId inside the body'.",
        add_request_id_required,
    ),
    Step(
        "success-data-required",
        "addition",
        "Every success the docs show carries `data`, the one thing each call exists to return.",
        add_success_data_required,
    ),
    Step(
        "error-fields-required",
        "addition",
        "Upstream's errors page documents every error body as error + errorCode + requestId.",
        add_error_fields_required,
    ),
    Step(
        "custom-field-example",
        "addition",
        "CustomFields.value is type string but its example is the number 25 (invalid example).",
        fix_custom_field_example,
    ),
    Step(
        "phone-e164-pattern",
        "addition",
        "`format: phone` is not a standard format; the description says E.164 (+5511999999999).",
        add_phone_pattern,
    ),
    Step(
        "stateful-links",
        "addition",
        "OpenAPI links so stateful tests walk create -> get/update -> add to list -> remove.",
        add_links,
    ),
    Step(
        "server-assigned-fields-required",
        "addition",
        "A stored subscriber has the id and timestamps the server gave it (readOnly), and a "
        "membership is known by its email, subscriber id and list id: every answer the docs "
        "show carries them.",
        add_server_assigned_fields_required,
    ),
]


# --------------------------------------------------------------------------- refactorings


def api_key_security_scheme(doc: Document) -> None:
    schemes = doc.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["ApiKeyAuth"] = {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "Your API key.",
    }

    def is_api_key(param: Document) -> bool:
        param = resolve(doc, param)
        return bool(param.get("in") == "header" and param.get("name", "").lower() == "x-api-key")

    found = 0
    for holder in [*doc.get("paths", {}).values(), *(op for _p, _m, op in operations(doc))]:
        if "parameters" in holder:
            kept = [p for p in holder["parameters"] if not is_api_key(p)]
            found += len(holder["parameters"]) - len(kept)
            holder["parameters"] = kept
    _found(found, "x-api-key header parameter")
    for _path, _method, op in operations(doc):
        # Per operation: openapi-python-client ignores a global `security`.
        op["security"] = [{"ApiKeyAuth": []}]


def _error_shaped(schema: Document) -> bool:
    props = schema.get("properties", {})
    return (
        schema.get("type") == "object"
        and set(props) == set(ERROR_FIELDS)
        and all(props[name].get("type") == "string" for name in ERROR_FIELDS)
    )


def _example_key(code: str, title: str, taken: dict[str, Any]) -> str:
    if code not in taken:
        return code
    return re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_").upper() or f"{code}_{len(taken)}"


def shared_error_model(doc: Document) -> None:
    required_sets = set()
    for _op_id, _op, status, response in _responses(doc):
        media = _json_media(response)
        if media is None or not _is_error_status(status):
            continue
        variants = _variants(media["schema"])
        if not all(_error_shaped(v) for v in variants):
            raise StepDoesNotApply(
                f"{_op_id} {status}: error body is not {', '.join(ERROR_FIELDS)} (all strings)"
            )
        examples: dict[str, Any] = {}
        for variant in variants:
            required_sets.add(tuple(variant.get("required", [])))
            props = variant["properties"]
            code = str(props["errorCode"].get("example", "ERROR"))
            key = _example_key(
                code, str(variant.get("title", response.get("description", ""))), examples
            )
            examples[key] = {
                "summary": variant.get("title", response.get("description", code)),
                "value": {name: props[name].get("example", "") for name in ERROR_FIELDS},
            }
        media["schema"] = {"$ref": SCHEMAS + "Error"}
        media["examples"] = examples
    if len(required_sets) > 1:
        raise StepDoesNotApply(f"error bodies disagree on required fields: {sorted(required_sets)}")
    error: Document = {
        "type": "object",
        "description": "Every error body: a message, a machine-readable code and the requestId.",
        "properties": {
            "error": {"type": "string", "description": "Human-readable message."},
            "errorCode": {"type": "string", "description": "Machine-readable error code."},
            "requestId": {"type": "string", "description": "Quote it to Pingback support."},
        },
    }
    if required_sets and (required := list(next(iter(required_sets)))):
        error["required"] = required
    _found(len(required_sets), "error body")
    doc["components"]["schemas"]["Error"] = error


def single_status_enum(doc: Document) -> None:
    schemas = _at(doc, "components", "schemas")
    status = _at(doc, "components", "schemas", "Subscriber", "properties", "status")
    _at(status, "enum")
    schemas["SubscriberStatus"] = {
        "type": "string",
        "description": "free_subscriber, paid_subscriber, or unsubscribed_subscriber (opted out).",
        "enum": list(status["enum"]),
    }
    for node in _walk_schemas(doc["paths"]):
        props = node.get("properties", {})
        candidate = props.get("status")
        if isinstance(candidate, dict) and candidate.get("enum") == status["enum"]:
            props["status"] = {"$ref": SCHEMAS + "SubscriberStatus"}
    schemas["Subscriber"]["properties"]["status"] = {"$ref": SCHEMAS + "SubscriberStatus"}


def named_custom_field(doc: Document) -> None:
    schemas = _at(doc, "components", "schemas")
    item = _at(doc, "components", "schemas", "CustomFields", "items")
    schemas["CustomField"] = {**item, "description": "A custom field: a label and its value."}
    schemas["CustomFields"]["items"] = {"$ref": SCHEMAS + "CustomField"}


def _without_read_only(doc: Document, schema: Document) -> Document:
    result = copy.deepcopy(schema)
    props = result.get("properties", {})
    for name in [n for n, p in props.items() if resolve(doc, p).get("readOnly")]:
        del props[name]
    if "required" in result:
        result["required"] = [n for n in result["required"] if n in props]
    return result


def create_body_without_read_only(doc: Document) -> None:
    schemas = _at(doc, "components", "schemas")
    _at(doc, "components", "schemas", "CustomField")
    _at(doc, "components", "schemas", "Subscriber", "properties", "customFields")
    _at(doc, "components", "requestBodies", "Subscriber", "content", "application/json")
    schemas["CustomFieldInput"] = _without_read_only(doc, schemas["CustomField"])
    schemas["CustomFieldInput"]["description"] = "A custom field to set: a label and its value."
    create = _without_read_only(doc, schemas["Subscriber"])
    create["description"] = "A subscriber to create (the server assigns id and timestamps)."
    create["properties"]["customFields"] = {
        "description": schemas["Subscriber"]["properties"]["customFields"].get("description", ""),
        "type": "array",
        "items": {"$ref": SCHEMAS + "CustomFieldInput"},
    }
    schemas["SubscriberCreate"] = create
    body = doc["components"]["requestBodies"]["Subscriber"]
    body["content"]["application/json"]["schema"] = {"$ref": SCHEMAS + "SubscriberCreate"}


def _hoist_body(doc: Document, op_id: str, name: str, description: str) -> None:
    _body_schema(doc, op_id)
    media = resolve(doc, _operation(doc, op_id)["requestBody"])["content"]["application/json"]
    doc["components"]["schemas"][name] = {**media["schema"], "description": description}
    media["schema"] = {"$ref": SCHEMAS + name}


def named_request_bodies(doc: Document) -> None:
    _hoist_body(doc, "updateSubscriber", "SubscriberUpdate", "Fields of a subscriber to change.")
    _hoist_body(
        doc,
        "addSubscriberToSegment",
        "SegmentationListsInput",
        "Segmentation list IDs to add a subscriber to.",
    )


def _hoist_success(
    doc: Document, name: str, match: Callable[[Document], bool], description: str
) -> None:
    """Replace matching 2xx body schemas by one named component."""
    found = 0
    for _op_id, _op, status, response in _responses(doc):
        media = _json_media(response)
        if media is None or _is_error_status(status) or not match(media["schema"]):
            continue
        schema = media["schema"]
        existing = doc["components"]["schemas"].get(name)
        body = {**schema, "description": description}
        if existing is not None and existing != body:
            raise StepDoesNotApply(f"{name}: matching bodies differ; cannot share one model")
        found += 1
        doc["components"]["schemas"][name] = body
        media["schema"] = {"$ref": SCHEMAS + name}
    _found(found, f"success body for {name}")


def _data(schema: Document) -> Any:
    return schema.get("properties", {}).get("data")


def subscriber_envelope(doc: Document) -> None:
    _hoist_success(
        doc,
        "SubscriberResponse",
        lambda s: _data(s) == {"$ref": SCHEMAS + "Subscriber"},
        "A subscriber and the requestId of the call.",
    )


MEMBERSHIP_FIELDS = {"id", "email", "subscriberId", "segmentationListId", "createdAt", "updatedAt"}
#: What a membership is known by. Its id and dates are left optional: a removal whose answer was
#: lost is confirmed by reading the subscriber (calls.py), which knows these three and not those.
MEMBERSHIP_KEYS = ("email", "subscriberId", "segmentationListId")


def _is_membership(node: Any) -> bool:
    return isinstance(node, dict) and set(node.get("properties", {})) == MEMBERSHIP_FIELDS


def _success_media(doc: Document) -> Iterator[Document]:
    for _op_id, _op, status, response in _responses(doc):
        media = _json_media(response)
        if media is not None and not _is_error_status(status):
            yield media


def _membership_target(media: Document) -> Any:
    data = _data(media["schema"])
    return data.get("items") if isinstance(data, dict) and "items" in data else data


def membership_model(doc: Document) -> None:
    schemas = _at(doc, "components", "schemas")
    ref = {"$ref": SCHEMAS + "SegmentationMembership"}
    _found(
        sum(_is_membership(_membership_target(m)) for m in _success_media(doc)),
        "success body whose data is a membership (" + ", ".join(sorted(MEMBERSHIP_FIELDS)) + ")",
    )
    for media in list(_success_media(doc)):
        data, target = _data(media["schema"]), _membership_target(media)
        if not _is_membership(target):
            continue
        model = {**target, "description": "A subscriber's membership of a segmentation list."}
        if schemas.setdefault("SegmentationMembership", model) != model:
            raise StepDoesNotApply("membership bodies differ; cannot share one model")
        if "items" in data:
            data["items"] = ref
        else:
            media["schema"]["properties"]["data"] = ref
    _hoist_success(
        doc,
        "SegmentationMembershipList",
        lambda s: _data(s) == {"type": "array", "items": ref},
        "Memberships created by adding a subscriber to lists, and the requestId.",
    )
    _hoist_success(
        doc,
        "SegmentationMembershipResponse",
        lambda s: _data(s) == ref,
        "The membership removed, and the requestId.",
    )


#: Scalar types a lenient reader accepts where the contract says string (strict readers, and
#: every JSON Schema tool, ignore the extension: the contract stays upstream's).
LENIENT_TYPES = "x-pingback-lenient-types"


def lenient_custom_field_values(doc: Document) -> None:
    value = _at(doc, "components", "schemas", "CustomField", "properties", "value")
    if value.get("type") != "string":
        raise StepDoesNotApply("CustomField.value is no longer `type: string`")
    value[LENIENT_TYPES] = ["integer", "number", "boolean"]


REFACTORINGS = [
    Step(
        "api-key-security-scheme",
        "refactoring",
        "x-api-key as an apiKey scheme per operation, so no function takes x_api_key=.",
        api_key_security_scheme,
    ),
    Step(
        "shared-error-model",
        "refactoring",
        "All error bodies share one shape; anyOf of same-shaped objects becomes one Error.",
        shared_error_model,
    ),
    Step(
        "single-status-enum",
        "refactoring",
        "The status enum is declared twice; one SubscriberStatus serves both.",
        single_status_enum,
    ),
    Step(
        "named-custom-field",
        "refactoring",
        "Name the custom field item so it is one model, not an anonymous inline class.",
        named_custom_field,
    ),
    Step(
        "create-body-without-read-only",
        "refactoring",
        "readOnly fields must not be sent; the generator ignores readOnly, so drop them.",
        create_body_without_read_only,
    ),
    Step(
        "named-request-bodies",
        "refactoring",
        "Name inline request bodies (SubscriberUpdate, SegmentationListsInput).",
        named_request_bodies,
    ),
    Step(
        "subscriber-envelope",
        "refactoring",
        "One SubscriberResponse instead of three identical inline envelopes.",
        subscriber_envelope,
    ),
    Step(
        "membership-model",
        "refactoring",
        "One SegmentationMembership model for both segmentation endpoints.",
        membership_model,
    ),
    Step(
        "lenient-custom-field-values",
        "refactoring",
        "Upstream's example for a custom field value is the number 25: the client reads numbers "
        "and booleans there too (typed so); strict readers keep `type: string`.",
        lenient_custom_field_values,
    ),
]
