"""OpenAPI 3.0 schemas as plain JSON Schema, for validating and generating in tests."""

from __future__ import annotations

from typing import Any

from codegen.spec_io import Document, inline_refs, operations

ANNOTATIONS = {"example", "examples", "description", "title", "readOnly", "writeOnly", "xml"}


def as_json_schema(node: Any, *, request: bool = False) -> Any:
    """Drop OpenAPI-only annotations; for requests, drop readOnly properties (never sent)."""
    if isinstance(node, list):
        return [as_json_schema(item, request=request) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in ANNOTATIONS:
            continue
        if key == "format" and value == "phone":
            continue  # not a JSON Schema format; the pattern (an addition) carries the meaning
        if key == "properties":
            value = {
                name: sub
                for name, sub in value.items()
                if not (request and isinstance(sub, dict) and sub.get("readOnly"))
            }
            result[key] = {
                name: as_json_schema(sub, request=request) for name, sub in value.items()
            }
            continue
        result[key] = as_json_schema(value, request=request)
    if request and "required" in result:
        result["required"] = [n for n in result["required"] if n in result.get("properties", {})]
    return result


def response_schemas(doc: Document) -> dict[tuple[str, str], Any]:
    """(operationId, status) -> JSON Schema of the application/json body."""
    flat = inline_refs(doc, doc)
    found = {}
    for _path, _method, op in operations(flat):
        for status, response in op.get("responses", {}).items():
            media = response.get("content", {}).get("application/json")
            if media is not None:
                found[(op["operationId"], str(status))] = as_json_schema(media["schema"])
    return found


def request_schemas(doc: Document) -> dict[str, Any]:
    """operationId -> JSON Schema of the request body as a client may send it."""
    flat = inline_refs(doc, doc)
    found = {}
    for _path, _method, op in operations(flat):
        body = op.get("requestBody")
        if body:
            schema = body["content"]["application/json"]["schema"]
            found[op["operationId"]] = as_json_schema(schema, request=True)
    return found


def strategy(schema: Any) -> Any:
    """A hypothesis strategy for documents valid under a JSON Schema (draft 4).

    hypothesis-jsonschema 0.23.1 breaks on current hypothesis (its `many().more()` is gone), so
    we use the generator of schemathesis, which is pinned (==4.32.5) in pyproject.toml.
    Formats are not generated specially: validation here does not check formats either.
    """
    from schemathesis.generation.jsonschema.builder import build

    return build(schema, draft=4, formats={})
