"""The specs as test oracles: what a request may look like, and what a server may answer.

Requests are checked against the *upstream* spec (openapi/pingback.yaml) as published, and
their bodies also against the derived spec, which only adds constraints the prose states
(E.164 pattern, at least one list id). Response bodies are generated from, and judged by, the
*derived* spec, which is the one the client promises to read.

This module resolves `$ref`s itself instead of reusing pingback_ext.spec, so a bug there cannot
hide from the tests that use it.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import yaml
from openapi_schema_validator import OAS30WriteValidator, oas30_format_checker

from pingback_ext.spec import derived_spec_path

REPO = Path(__file__).resolve().parents[2]
UPSTREAM_PATH = REPO / "openapi" / "pingback.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
#: OpenAPI-only keywords a plain JSON Schema validator or generator must not see.
ANNOTATIONS = frozenset({"example", "examples", "description", "title", "readOnly", "xml"})


@functools.cache
def upstream() -> dict[str, Any]:
    with UPSTREAM_PATH.open(encoding="utf-8") as fh:
        doc: dict[str, Any] = yaml.safe_load(fh)
    return doc


@functools.cache
def derived() -> dict[str, Any]:
    with derived_spec_path().open(encoding="utf-8") as fh:
        doc: dict[str, Any] = yaml.safe_load(fh)
    return doc


def inline(doc: dict[str, Any], node: Any, *, drop: frozenset[str] = frozenset()) -> Any:
    """`node` with every local $ref replaced by its target, and the keys in `drop` removed."""
    if isinstance(node, list):
        return [inline(doc, item, drop=drop) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return inline(doc, target, drop=drop)
    return {k: inline(doc, v, drop=drop) for k, v in node.items() if k not in drop}


def json_schema(doc: dict[str, Any], node: Any) -> Any:
    """An OpenAPI 3.0 schema as plain draft-4 JSON Schema (`format: phone` is not a format)."""
    schema = inline(doc, node, drop=ANNOTATIONS)

    def strip_phone(item: Any) -> Any:
        if isinstance(item, list):
            return [strip_phone(i) for i in item]
        if isinstance(item, dict):
            return {
                k: strip_phone(v) for k, v in item.items() if not (k == "format" and v == "phone")
            }
        return item

    return strip_phone(schema)


# ----------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Operation:
    """One operation of a spec, with its path-level parameters merged in."""

    operation_id: str
    method: str
    template: str
    spec: dict[str, Any]
    parameters: tuple[dict[str, Any], ...]

    def regex(self) -> re.Pattern[str]:
        pattern = re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        return re.compile(pattern)


def operations(doc: dict[str, Any]) -> dict[str, Operation]:
    found = {}
    for template, item in doc["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            own = op.get("parameters", [])
            names = {(p["in"], p["name"]) for p in own}
            params = tuple(own) + tuple(p for p in shared if (p["in"], p["name"]) not in names)
            found[op["operationId"]] = Operation(
                op["operationId"], method.upper(), template, op, params
            )
    return found


def base_path(doc: dict[str, Any]) -> str:
    return httpx.URL(doc["servers"][0]["url"]).path.rstrip("/")


# ----------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class SeenRequest:
    """A request that conforms to the upstream spec, decoded."""

    operation_id: str
    path: dict[str, str]
    headers: httpx.Headers
    body: Any


def _write_validator(doc: dict[str, Any], operation: Operation) -> OAS30WriteValidator:
    content = inline(doc, operation.spec["requestBody"])["content"]["application/json"]
    # The write validator rejects readOnly properties: the spec's own word on what not to send.
    return OAS30WriteValidator(content["schema"], format_checker=oas30_format_checker)


def _problems(validator: OAS30WriteValidator, body: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}"
        for e in validator.iter_errors(body)
    ]


def check_request(request: httpx.Request, *, api_key: str, developer_mode: bool) -> SeenRequest:
    """Assert that `request` is one the upstream spec allows; return what it carries.

    Method and path must match exactly one operation; every path segment must percent-decode
    (strict UTF-8); no query string (none is declared); required headers present with values
    their schemas allow; `x-api-key` is the key and `x-developer-mode: true` is sent exactly
    when developer mode is on; the body is JSON valid for the upstream schema as a *write*
    (no readOnly property) and for the derived one, present iff the operation takes one.
    """
    doc = upstream()
    prefix = base_path(doc)
    raw_path = request.url.raw_path.decode("ascii")
    assert raw_path.startswith(prefix + "/"), f"path {raw_path!r} is not under {prefix!r}"
    route = raw_path[len(prefix) :]
    matches = [
        (op, m)
        for op in operations(doc).values()
        if op.method == request.method and (m := op.regex().fullmatch(route))
    ]
    assert len(matches) == 1, f"{request.method} {route} matches {len(matches)} operations"
    operation, match = matches[0]
    assert not request.url.query, f"query {request.url.query!r} sent; the spec declares none"

    path = {}
    for name, raw in match.groupdict().items():
        assert raw != "" and raw not in (".", ".."), f"path parameter {name} is {raw!r}"
        path[name] = unquote(raw, errors="strict")

    headers = request.headers
    for param in operation.parameters:
        if param["in"] != "header":
            continue
        value = headers.get(param["name"])
        if value is None:
            assert not param.get("required"), f"required header {param['name']} missing"
            continue
        if param["schema"].get("type") == "boolean":
            assert value in ("true", "false"), f"{param['name']}: {value!r} is not a boolean"
    assert headers.get("x-api-key") == api_key, "x-api-key is not the client's key"
    expected_mode = "true" if developer_mode else None
    assert headers.get("x-developer-mode") == expected_mode, (
        f"x-developer-mode {headers.get('x-developer-mode')!r}, expected {expected_mode!r}"
    )

    content = request.content
    body: Any = None
    if "requestBody" in operation.spec:
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        assert media == "application/json", f"content-type {media!r}"
        body = json.loads(content.decode("utf-8"))
        problems = _problems(_write_validator(doc, operation), body)
        assert not problems, f"{operation.operation_id} body breaks the upstream spec: {problems}"
        derived_op = operations(derived())[operation.operation_id]
        problems = _problems(_write_validator(derived(), derived_op), body)
        assert not problems, f"{operation.operation_id} body breaks the derived spec: {problems}"
    else:
        assert content == b"", f"{operation.operation_id} takes no body; sent {content!r}"
    return SeenRequest(operation.operation_id, path, headers, body)


# ----------------------------------------------------------------------------- responses


def declared_statuses(operation_id: str) -> list[int]:
    return sorted(int(s) for s in operations(derived())[operation_id].spec["responses"])


def response_schema(operation_id: str, status: int) -> Any:
    """The derived spec's JSON Schema for the body of `status` (None: no JSON body)."""
    doc = derived()
    response = operations(doc)[operation_id].spec["responses"].get(str(status), {})
    media = inline(doc, response).get("content", {}).get("application/json")
    return None if media is None else json_schema(doc, media["schema"])


def documented_error_codes(operation_id: str, status: int) -> list[str]:
    """The errorCodes the derived spec's examples give for this operation and status."""
    doc = derived()
    response = inline(doc, operations(doc)[operation_id].spec["responses"].get(str(status), {}))
    examples = response.get("content", {}).get("application/json", {}).get("examples", {})
    return sorted({e["value"]["errorCode"] for e in examples.values()})
