"""The API surface of a spec, and what changed between two of them.

`scripts/regenerate` prints `summarize(old, new)` so that dropping a new upstream revision
into openapi/ and running one command tells a maintainer what changed and what breaks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from codegen.spec_io import Document, inline_refs, operations, resolve


@dataclass(frozen=True)
class Field:
    type: str
    required: bool
    enum: tuple[str, ...] = ()


@dataclass
class Operation:
    method: str
    path: str
    parameters: dict[str, Field] = field(default_factory=dict)
    request: dict[str, Field] = field(default_factory=dict)
    responses: dict[str, dict[str, Field]] = field(default_factory=dict)


def _type(schema: Document) -> str:
    if "type" in schema:
        kind = str(schema["type"])
        return f"{kind}({schema['format']})" if "format" in schema else kind
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return key
    return "any"


def _fields(schema: Any, prefix: str = "", required: bool = True) -> dict[str, Field]:
    """Flatten a (ref-free) schema into dotted field paths: `customFields[].label`."""
    found: dict[str, Field] = {}
    if not isinstance(schema, dict):
        return found
    members = [m for key in ("allOf", "anyOf", "oneOf") for m in schema.get(key, [])]
    for member in members:
        found.update(_fields(member, prefix, required))
    if schema.get("type") == "array" or "items" in schema:
        found.update(_fields(schema.get("items", {}), prefix + "[]", required))
    required_names = set(schema.get("required", []))
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        enum = tuple(str(v) for v in sub.get("enum", []))
        found[path] = Field(_type(sub), required and name in required_names, enum)
        found.update(_fields(sub, path, required and name in required_names))
    return found


def surface(doc: Document) -> dict[str, Operation]:
    flat = inline_refs(doc, doc)
    result: dict[str, Operation] = {}
    for path, method, op in operations(flat):
        entry = Operation(method.upper(), path)
        params = [*flat["paths"][path].get("parameters", []), *op.get("parameters", [])]
        for param in params:
            schema = param.get("schema", {})
            entry.parameters[f"{param['in']}:{param['name']}"] = Field(
                _type(schema), bool(param.get("required"))
            )
        for requirement in op.get("security", flat.get("security", [])):
            for scheme_name in requirement:
                scheme = resolve(flat, flat["components"]["securitySchemes"][scheme_name])
                if scheme.get("type") == "apiKey":
                    entry.parameters[f"{scheme['in']}:{scheme['name']}"] = Field("string", True)
        body = op.get("requestBody")
        if body:
            schema = body.get("content", {}).get("application/json", {}).get("schema", {})
            entry.request = {"(body)": Field("object", bool(body.get("required")))}
            entry.request.update(_fields(schema))
        for status, response in op.get("responses", {}).items():
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            entry.responses[str(status)] = _fields(schema)
        result[op.get("operationId", f"{method} {path}")] = entry
    return result


def _compare_fields(
    where: str, old: dict[str, Field], new: dict[str, Field], *, incoming: bool
) -> list[str]:
    """incoming=True for what the client sends (request fields, parameters)."""
    lines = []
    for name in sorted(new.keys() - old.keys()):
        breaking = incoming and new[name].required
        lines.append(
            f"{'BREAKING ' if breaking else ''}+ {where} {name} ({new[name].type}"
            f"{', required' if new[name].required else ''})"
        )
    for name in sorted(old.keys() - new.keys()):
        lines.append(f"BREAKING - {where} {name} ({old[name].type})")
    for name in sorted(old.keys() & new.keys()):
        before, after = old[name], new[name]
        if before.type != after.type:
            lines.append(f"BREAKING ~ {where} {name}: type {before.type} -> {after.type}")
        if incoming and after.required and not before.required:
            lines.append(f"BREAKING ~ {where} {name}: now required")
        if not incoming and before.required and not after.required:
            lines.append(f"BREAKING ~ {where} {name}: no longer always present")
        removed = set(before.enum) - set(after.enum)
        added = set(after.enum) - set(before.enum)
        if removed:
            lines.append(f"BREAKING ~ {where} {name}: enum lost {sorted(removed)}")
        if added:
            lines.append(f"~ {where} {name}: enum gained {sorted(added)}")
    return lines


def diff(old: Document, new: Document) -> list[str]:
    """One line per change of the API surface; breaking ones start with BREAKING."""
    before, after = surface(old), surface(new)
    lines: list[str] = []
    for op_id in sorted(after.keys() - before.keys()):
        lines.append(f"+ operation {op_id} ({after[op_id].method} {after[op_id].path})")
    for op_id in sorted(before.keys() - after.keys()):
        lines.append(f"BREAKING - operation {op_id} ({before[op_id].method} {before[op_id].path})")
    for op_id in sorted(before.keys() & after.keys()):
        old_op, new_op = before[op_id], after[op_id]
        if (old_op.method, old_op.path) != (new_op.method, new_op.path):
            lines.append(
                f"BREAKING ~ operation {op_id}: {old_op.method} {old_op.path}"
                f" -> {new_op.method} {new_op.path}"
            )
        lines += _compare_fields(
            f"{op_id} parameter", old_op.parameters, new_op.parameters, incoming=True
        )
        lines += _compare_fields(f"{op_id} request", old_op.request, new_op.request, incoming=True)
        for status in sorted(new_op.responses.keys() - old_op.responses.keys()):
            lines.append(f"+ {op_id} response {status}")
        for status in sorted(old_op.responses.keys() - new_op.responses.keys()):
            lines.append(f"BREAKING - {op_id} response {status}")
        for status in sorted(old_op.responses.keys() & new_op.responses.keys()):
            lines += _compare_fields(
                f"{op_id} {status} response",
                old_op.responses[status],
                new_op.responses[status],
                incoming=False,
            )
    return lines


def summarize(old: Document | None, new: Document) -> str:
    if old is None:
        ops = surface(new)
        return f"API surface: {len(ops)} operations (no previous derived spec to compare)."
    lines = diff(old, new)
    if not lines:
        return "API surface unchanged."
    breaking = sum(line.startswith("BREAKING") for line in lines)
    head = f"API surface changed: {len(lines)} change(s), {breaking} breaking."
    return "\n".join([head, *(f"  {line}" for line in lines)])
