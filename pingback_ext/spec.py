"""The derived OpenAPI spec at run time: where it is, and how response bodies are read.

Responses are checked against the spec before the generated models parse them, so a body that
breaks the spec becomes one ResponseValidationError instead of a raw KeyError or TypeError.

Two readings (`read_body`). Strict: the body must be what the spec allows (the spec leaves
objects open: a field it does not list is allowed, and kept). Lenient (the default, a tolerant
reader as Stainless SDKs have): every answer whose meaning is clear is read. Before the shape is
checked, the body is repaired where the meaning is plain:

* `null` for a field that is not required is "not set" (the key is dropped);
* a number or boolean where the spec says string becomes its JSON text (`25` -> `"25"`), except
  where the derived spec lists the scalar types a field may have (`x-pingback-lenient-types`:
  a custom field's value is kept as `str | int | float | bool`, typed so in the models);
* a date-time with or without fractions or offset is read as one (no offset: UTC), so every
  datetime a result holds is timezone-aware;

then what a newer API may add is accepted too — a new enum value, a value outside a pattern,
format or length, a field an object closes itself to — while the shape we rely on (required
fields, types, `data`) is still checked. The generated models parse enums strictly, so a new enum
value is swapped for a known one while the model is built, and put back after as an
`UnknownValue` (a str with a `.value`, so `to_dict()` still works).

PyYAML and jsonschema_rs are imported on first use, not with the package: `import pingback_ext`
stays cheap, and the spec is read once, when the first answer is checked.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema_rs

_REPO_SPEC = Path(__file__).resolve().parents[1] / "openapi" / "pingback.derived.yaml"
_ANNOTATIONS = frozenset({"example", "examples", "description", "title", "readOnly", "xml"})
#: Constraints a newer API may loosen without breaking a client that reads leniently.
_GROWABLE = frozenset({"enum", "pattern", "format", "minLength", "maxLength"})
#: The scalar types a lenient reader also accepts where the spec says string (set by the
#: derivation step `lenient-custom-field-values`; JSON Schema tools ignore it).
LENIENT_TYPES = "x-pingback-lenient-types"


def derived_spec_path() -> Path:
    """The derived spec: packaged beside pingback_ext in a wheel, else the repo's openapi/."""
    from importlib import resources

    packaged = resources.files("pingback_ext").joinpath("_spec/pingback.derived.yaml")
    if packaged.is_file():
        return Path(str(packaged))
    return _REPO_SPEC


@functools.cache
def derived_spec() -> dict[str, Any]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with derived_spec_path().open(encoding="utf-8") as fh:
        doc: dict[str, Any] = yaml.load(fh, Loader=loader)
    return doc


def _inline(doc: dict[str, Any], node: Any) -> Any:
    """A JSON Schema with local $refs inlined and OpenAPI annotations dropped."""
    if isinstance(node, list):
        return [_inline(doc, item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        return _inline(doc, target)
    return {
        key: _inline(doc, value)
        for key, value in node.items()
        if key not in _ANNOTATIONS and (key == LENIENT_TYPES or not key.startswith("x-"))
    }


def with_lenient_types(schema: Any) -> Any:
    """`schema` with each `x-pingback-lenient-types` field widened to an anyOf of its types:
    what the lenient reader validates against, and what the models are generated from."""
    if isinstance(schema, list):
        return [with_lenient_types(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if LENIENT_TYPES in schema:
        base = {k: v for k, v in schema.items() if k != LENIENT_TYPES}
        kept = {k: v for k, v in base.items() if k in _ANNOTATIONS}
        checked = {k: v for k, v in base.items() if k not in _ANNOTATIONS}
        return {**kept, "anyOf": [checked, *({"type": t} for t in schema[LENIENT_TYPES])]}
    return {key: with_lenient_types(value) for key, value in schema.items()}


def _strict(schema: Any) -> Any:
    """`schema` as upstream types it: without the lenient reader's extension."""
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {key: _strict(value) for key, value in schema.items() if key != LENIENT_TYPES}


@functools.cache
def _operations() -> dict[str, dict[str, Any]]:
    doc = derived_spec()
    found: dict[str, dict[str, Any]] = {}
    for item in doc["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "operationId" in operation:
                found[operation["operationId"]] = operation
    return found


def declared_statuses(operation_id: str) -> frozenset[int]:
    return frozenset(int(status) for status in _operations()[operation_id]["responses"])


@functools.cache
def _response_schema(operation_id: str, status: int) -> Any:
    response = _operations()[operation_id]["responses"].get(str(status))
    media = (response or {}).get("content", {}).get("application/json")
    return None if media is None else _strict(_inline(derived_spec(), media["schema"]))


@functools.cache
def _lenient_schema(operation_id: str, status: int) -> Any:
    response = _operations()[operation_id]["responses"].get(str(status))
    media = (response or {}).get("content", {}).get("application/json")
    return None if media is None else with_lenient_types(_inline(derived_spec(), media["schema"]))


def success_status(operation_id: str) -> int:
    """The 2xx status the spec declares for the operation (each declares one)."""
    return min(s for s in declared_statuses(operation_id) if 200 <= s < 300)


@functools.cache
def response_validator(operation_id: str, status: int) -> jsonschema_rs.Validator | None:
    """A strict validator for the JSON body of `status`, or None where the spec declares none."""
    schema = _response_schema(operation_id, status)
    if schema is None:
        return None
    import jsonschema_rs

    # date-time is checked (the models would read "2020-01-01" as a naive datetime); email is
    # not: the server decides what it accepts as an address, the client only reads it back.
    return jsonschema_rs.Draft4Validator(
        schema, validate_formats=True, formats={"email": _any_text}
    )


def lenient(schema: Any) -> Any:
    """`schema` without what a newer API may grow: enums, patterns, formats, lengths, and
    `additionalProperties: false`."""
    if isinstance(schema, list):
        return [lenient(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    return {
        key: lenient(value)
        for key, value in schema.items()
        if key not in _GROWABLE and not (key == "additionalProperties" and value is False)
    }


@functools.cache
def _lenient_validator(operation_id: str, status: int) -> jsonschema_rs.Validator | None:
    import jsonschema_rs

    schema = _lenient_schema(operation_id, status)
    return None if schema is None else jsonschema_rs.Draft4Validator(lenient(schema))


def _any_text(value: str) -> bool:
    return True


def first_violation(validator: jsonschema_rs.Validator, body: Any) -> str | None:
    """A one-line description of the first way `body` breaks the schema, or None."""
    for error in validator.iter_errors(body):
        return _describe(error)
    return None


def _describe(error: jsonschema_rs.ValidationError) -> str:
    where = "/".join(str(p) for p in error.instance_path) or "(body)"
    return f"{where}: {error.message}"


class UnknownValue(str):
    """An enum value the spec does not list (yet): the server's string, kept as it came."""

    __slots__ = ()

    @property
    def value(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"UnknownValue({str(self)!r})"


@dataclass
class Reading:
    """How to read one body: the problem if it cannot be read, else the body to parse (new enum
    values swapped for known ones) and the values to put back into the parsed result."""

    body: Any
    problem: str | None = None
    unknown: list[tuple[list[str | int], str]] = field(default_factory=list)

    def restore(self, result: Any) -> None:
        """Put each new enum value back where the model holds the swapped one."""
        for path, value in self.unknown:
            if not path or path[0] != "data":
                continue
            target = result
            *parents, last = path[1:]
            for step in parents:
                target = _child(target, step)
            if isinstance(last, int):
                target[last] = UnknownValue(value)
            else:
                setattr(target, _attribute(target, last), UnknownValue(value))


def _attribute(model: Any, json_name: str) -> str:
    """The generated model's attribute for a JSON property (`createdAt` -> `created_at`)."""
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", json_name).lower()
    if not hasattr(model, name):
        raise AttributeError(f"{type(model).__name__} has no attribute for {json_name!r}")
    return name


def _child(target: Any, step: str | int) -> Any:
    return target[step] if isinstance(step, int) else getattr(target, _attribute(target, step))


def read_body(operation_id: str, status: int, body: Any, *, strict: bool) -> Reading:
    """Check `body` against the spec's schema for (operation, status); see the module doc."""
    validator = response_validator(operation_id, status)
    if validator is None:
        return Reading(body)
    if strict:
        return Reading(body, first_violation(validator, body))
    problems: list[str] = []
    repaired = _repair(_lenient_schema(operation_id, status), body, [], problems)
    if problems:
        return Reading(body, problems[0])
    lenient_validator = _lenient_validator(operation_id, status)
    assert lenient_validator is not None
    problem = first_violation(lenient_validator, repaired)
    if problem is not None:
        return Reading(body, problem)
    schema = _response_schema(operation_id, status)
    reading = Reading(repaired)
    for error in validator.iter_errors(repaired):
        if error.schema_path and error.schema_path[-1] == "enum":
            allowed = _at(schema, list(error.schema_path))
            path = list(error.instance_path)
            _replace(reading.body, path, allowed[0])
            reading.unknown.append((path, str(error.instance)))
    return reading


def _repair(schema: Any, value: Any, path: list[str | int], problems: list[str]) -> Any:
    """A copy of `value` with what the lenient reader reads plainly made plain (module doc);
    what it cannot read is left for the validator, or named in `problems`."""
    if not isinstance(schema, dict):
        return value
    kind = schema.get("type")
    if kind == "object" and isinstance(value, dict):
        properties: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        return {
            key: _repair(properties.get(key), item, [*path, key], problems)
            for key, item in value.items()
            if not (item is None and key in properties and key not in required)
        }
    if kind == "array" and isinstance(value, list):
        items = schema.get("items")
        return [_repair(items, item, [*path, i], problems) for i, item in enumerate(value)]
    if kind != "string":
        return copy.deepcopy(value)
    if schema.get("format") == "date-time":
        return _date_time(value, path, problems)
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return value


def _date_time(value: Any, path: list[str | int], problems: list[str]) -> Any:
    """An ISO 8601 date and time, with or without fractions or offset (none: UTC; a date alone:
    its midnight), in the form the models parse; anything else (a number: seconds or
    milliseconds?) is a problem, its meaning is not clear."""
    from dateutil.parser import isoparse

    where = "/".join(str(p) for p in path) or "(body)"
    if not isinstance(value, str):
        problems.append(f"{where}: {_short(value)} is not a date-time")
        return value
    try:
        parsed = isoparse(value)
    except (ValueError, OverflowError):
        problems.append(f"{where}: {_short(value)} is not a date-time")
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.isoformat()


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _at(node: Any, path: list[str | int]) -> Any:
    for step in path:
        node = node[step]
    return node


def _replace(body: Any, path: list[str | int], value: Any) -> None:
    *parents, last = path
    _at(body, parents)[last] = value
