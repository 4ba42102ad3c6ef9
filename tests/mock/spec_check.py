"""Validate the mock's responses against the derived spec (upstream until it exists).

Declared statuses are checked against that operation's response schema, with `requestId`
required everywhere; undeclared statuses (405, 413, 415, ...) against the shared error shape.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import yaml

OPENAPI = Path(__file__).resolve().parents[2] / "openapi"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
TIMESTAMP_FIELDS = ("createdAt", "updatedAt", "unsubscribedAt", "blacklistedAt")
ERROR_SHAPE: dict[str, Any] = {
    "type": "object",
    "required": ["error", "errorCode", "requestId"],
    "properties": {
        "error": {"type": "string", "minLength": 1},
        "errorCode": {"type": "string", "pattern": "^[A-Z_]+$"},
        "requestId": {"type": "string"},
    },
}


@cache
def spec() -> dict[str, Any]:
    """The derived spec when present, else upstream."""
    path = OPENAPI / "pingback.derived.yaml"
    if not path.exists():
        path = OPENAPI / "pingback.yaml"
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def _resolve(node: Any, root: dict[str, Any], depth: int = 0) -> Any:
    if depth > 50:
        raise ValueError("$ref cycle")
    if isinstance(node, list):
        return [_resolve(item, root, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        merged = {**_resolve(target, root, depth + 1)}
        merged.update({k: v for k, v in node.items() if k != "$ref"})
        return _resolve(merged, root, depth + 1)
    return {key: _resolve(value, root, depth + 1) for key, value in node.items()}


def response_schema(path: str, method: str, status: int) -> dict[str, Any] | None:
    """The resolved JSON schema for one response, or None if the status is undeclared."""
    doc = spec()
    responses = doc["paths"][path][method.lower()]["responses"]
    declared = responses.get(str(status))
    if declared is None:
        return None
    resolved = _resolve(declared, doc)
    schema: dict[str, Any] = resolved["content"]["application/json"]["schema"]
    return schema


def _require_request_id(schema: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in schema:
        return {**schema, "anyOf": [_require_request_id(s) for s in schema["anyOf"]]}
    required = list(dict.fromkeys([*schema.get("required", []), "requestId"]))
    return {**schema, "required": required}


def _check_timestamps(node: Any) -> None:
    if isinstance(node, list):
        for item in node:
            _check_timestamps(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in TIMESTAMP_FIELDS:
                assert isinstance(value, str) and TIMESTAMP.match(value), (key, value)
            else:
                _check_timestamps(value)


def _check_no_nulls(node: Any) -> None:
    assert node is not None, "the mock must omit fields, never send null"
    if isinstance(node, list):
        for item in node:
            _check_no_nulls(item)
    elif isinstance(node, dict):
        for value in node.values():
            _check_no_nulls(value)


def check_response(response: httpx.Response, path: str | None, method: str) -> Any:
    """Assert the response is JSON, carries a requestId, and matches the spec; return body."""
    assert response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert isinstance(body, dict)
    assert body.get("requestId") == response.headers["x-request-id"]
    _check_no_nulls(body)
    _check_timestamps(body)
    schema = None if path is None else response_schema(path, method, response.status_code)
    if response.status_code >= 400:
        jsonschema.validate(body, ERROR_SHAPE)
    if schema is not None:
        jsonschema.Draft4Validator(_require_request_id(schema)).validate(body)
    elif response.status_code < 400:
        raise AssertionError(f"undeclared success status {response.status_code} for {path}")
    return body
