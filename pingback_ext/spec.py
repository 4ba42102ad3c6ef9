"""The derived OpenAPI spec at run time: where it is, and validators for response bodies.

Responses are checked against the spec before the generated models parse them, so a body that
breaks the spec becomes one ResponseValidationError instead of a raw KeyError or TypeError.
PyYAML and jsonschema_rs are imported on first use, not with the package: `import pingback_ext`
stays cheap, and the spec is read once, when the first answer is checked.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema_rs

_REPO_SPEC = Path(__file__).resolve().parents[1] / "openapi" / "pingback.derived.yaml"
_ANNOTATIONS = frozenset({"example", "examples", "description", "title", "readOnly", "xml"})


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
    return {key: _inline(doc, value) for key, value in node.items() if key not in _ANNOTATIONS}


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
def response_validator(operation_id: str, status: int) -> jsonschema_rs.Validator | None:
    """A validator for the JSON body of `status`, or None where the spec declares no body."""
    response = _operations()[operation_id]["responses"].get(str(status))
    media = (response or {}).get("content", {}).get("application/json")
    if media is None:
        return None
    import jsonschema_rs

    schema = _inline(derived_spec(), media["schema"])
    # date-time is checked (the models would read "2020-01-01" as a naive datetime); email is
    # not: the server decides what it accepts as an address, the client only reads it back.
    return jsonschema_rs.Draft4Validator(
        schema, validate_formats=True, formats={"email": _any_text}
    )


def _any_text(value: str) -> bool:
    return True


def first_violation(validator: jsonschema_rs.Validator, body: Any) -> str | None:
    """A one-line description of the first way `body` breaks the schema, or None."""
    for error in validator.iter_errors(body):
        where = "/".join(str(p) for p in error.instance_path) or "(body)"
        return f"{where}: {error.message}"
    return None
