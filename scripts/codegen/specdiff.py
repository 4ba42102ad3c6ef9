"""What changed in the API surface between two upstream revisions, and whom it breaks.

    python -m codegen.specdiff OLD.yaml NEW.yaml     # scripts/spec-diff; exit 1 if breaking

Each change is judged by direction, as oasdiff reasons (oasdiff itself is a Go binary that
these machines cannot install; this covers the rules that matter for this API):

* request side (our client writes, the server reads): the new revision must accept everything
  the old one accepted. A new required field, header or parameter, a removed field, parameter
  or operation, a narrower type, format, enum, pattern, length, range or item count, a moved
  operation -> BREAKING. Wider or removed constraints and new optional inputs are not.
* response side (the server writes, our client reads): a removed field, status or content
  type, a changed type, a field no longer always present -> BREAKING. A new field, status,
  enum value or a wider constraint is named as not breaking for our default client, which
  reads forward-compatibly (a strict reader could break on it).
* the whole API: base URLs (servers); security requirements per operation.

Where this differs from oasdiff it is because callers use our generated client, not raw
HTTP: a removed field is BREAKING even when it was optional (the generated model loses the
attribute, the generated function the argument), and so are a renamed path parameter or
operationId. Additions to responses are named, not failed, because our client reads
forward-compatibly (unknown fields and values pass through).

Rule by rule against oasdiff's families (what it says, what we say, why): docs/spec-gate.md.

Descriptions, examples, summaries and unreferenced components are not the API surface.
`$ref`s are followed, and within one body, parameter or header each referenced schema is
compared once, at the first path that reaches it (fan-out and cycles are linear, and a change
in a component is one line there, not one per path); the total work and the input size are
bounded (MAX_WORK, spec_io.MAX_BYTES). Parameters merge path level and operation level,
`allOf` members merge into one schema, `anyOf`/`oneOf` alternatives are matched by title,
then by shape, then by position (alternatives merged into one schema are each compared with
it). An apiKey security scheme counts as the parameter it is, so moving the key between a
header parameter and a scheme is no change. Paths match with their parameters' names blanked,
so a renamed path parameter is one change (BREAKING: the generated function's argument is
renamed).
"""

from __future__ import annotations

import argparse
import datetime
import enum
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen.spec_io import Document, SpecError, check_openapi, load_with_text, operations, resolve


class Severity(enum.IntEnum):
    BREAKING = 0
    #: A response may now carry something new: a strict reader could break, ours does not.
    TOLERATED = 1
    COMPATIBLE = 2
    #: Not an API change, but worth a maintainer's eye (e.g. a keyword OpenAPI 3 ignores).
    NOTE = 3


TAGS = {
    Severity.BREAKING: "BREAKING",
    Severity.TOLERATED: "not breaking for our default client (it reads forward-compatibly)",
    Severity.COMPATIBLE: "not breaking",
    Severity.NOTE: "note",
}
SIDES = ("api", "operation", "request", "response")
CREDENTIAL = "x-spec-diff-api-key"  # marks a parameter that stands for an apiKey scheme
SCOPE = "\x1f"  # between a scheme and one of its scopes in a security alternative
WHOLE_API = "the whole API"


@dataclass(frozen=True)
class Change:
    operation: str  # "createSubscriber (POST /subscriber)" or WHOLE_API
    side: str  # one of SIDES
    severity: Severity
    kind: str  # a stable id for tests and tools, e.g. "property-removed"
    text: str  # one line, printable

    @property
    def breaking(self) -> bool:
        return self.severity is Severity.BREAKING

    def line(self) -> str:
        side = f"{self.side} " if self.side in ("request", "response") else ""
        return f"{TAGS[self.severity]}: {side}{self.text}"


def show(value: Any) -> str:
    """Text from a spec, made safe for one terminal line (control chars, separators escaped)."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    shown = one_line(text)
    return shown if len(shown) <= 200 else shown[:199] + "…"


def one_line(text: str) -> str:
    out = []
    for char in text:
        if char.isprintable() and char not in "\u2028\u2029":
            out.append(char)
        else:
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


# --------------------------------------------------------------------------- schema helpers

ALL_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
UPPER_BOUNDS = {
    "maxLength": "maximum length",
    "maxItems": "maximum item count",
    "maxProperties": "maximum property count",
    "maximum": "maximum",
    "maxContains": "maximum matching item count",
}
LOWER_BOUNDS = {
    "minLength": "minimum length",
    "minItems": "minimum item count",
    "minProperties": "minimum property count",
    "minimum": "minimum",
    "minContains": "minimum matching item count",
}


COUNT_FLOORS = ("minLength", "minItems", "minProperties")
MAX_DEPTH = 64  # fields within fields; the real spec goes 4 deep
MAX_WORK = 100_000  # schema comparisons and merges; the real spec needs about 900


def _mapping(node: Any) -> dict[str, Any]:
    return node if isinstance(node, dict) else {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _types(schema: dict[str, Any]) -> frozenset[str]:
    """The JSON types a schema admits (no `type` admits all, but `properties` or `items` alone
    mean an object or an array as every generator reads them; nullable adds null)."""
    declared = schema.get("type")
    if isinstance(declared, str):
        found = {declared}
    elif isinstance(declared, list) and declared:
        found = {str(t) for t in declared}
    elif "properties" in schema:
        found = {"object"}
    elif "items" in schema:
        found = {"array"}
    else:
        return ALL_TYPES
    if schema.get("nullable") is True:
        found.add("null")
    if "number" in found:
        found.add("integer")
    return frozenset(found)


def _type_name(schema: dict[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        name = "|".join(str(t) for t in declared)
    elif isinstance(declared, str):
        name = declared
    elif any(k in schema for k in ("anyOf", "oneOf")):
        name = "anyOf" if "anyOf" in schema else "oneOf"
    else:
        name = "any"
    if isinstance(schema.get("format"), str):
        name += f"({schema['format']})"
    if schema.get("nullable") is True:
        name += ", nullable"
    return show(name)


def _enum(schema: dict[str, Any]) -> list[Any] | None:
    if isinstance(schema.get("enum"), list):
        return list(schema["enum"])
    if "const" in schema:
        return [schema["const"]]
    return None


def _key(value: Any) -> str:
    return repr(value)


def _same(was: Any, now: Any) -> bool:
    """Equal values, NaN included (YAML's .nan is not equal to itself)."""
    return bool(was == now) or _key(was) == _key(now)


def _server_urls(servers: Any) -> list[str]:
    if not isinstance(servers, list):
        return []
    found = [str(s["url"]) for s in servers if isinstance(s, dict) and "url" in s]
    return [url.rstrip("/") or url for url in found]


def _date(value: Any) -> datetime.date | None:
    """An `x-sunset` date: YAML reads 2026-01-31 as a date, quoted it is an ISO string."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _merge(into: dict[str, Any], member: dict[str, Any]) -> None:
    """allOf: both must hold. Properties merge (same name: both schemas), required unites,
    bounds take the stricter, enums intersect; other keywords: the first one stays."""
    for name, prop in _mapping(member.get("properties")).items():
        props = into.setdefault("properties", {})
        props[name] = {"allOf": [props[name], prop]} if name in props else prop
    if isinstance(member.get("required"), list):
        existing: list[Any] = into["required"] if isinstance(into.get("required"), list) else []
        into["required"] = [*existing, *(n for n in member["required"] if n not in existing)]
    for key in UPPER_BOUNDS:
        if _number(member.get(key)) is not None:
            current = _number(into.get(key))
            into[key] = member[key] if current is None else min(current, member[key])
    for key in LOWER_BOUNDS:
        if _number(member.get(key)) is not None:
            current = _number(into.get(key))
            into[key] = member[key] if current is None else max(current, member[key])
    if isinstance(member.get("enum"), list) and isinstance(into.get("enum"), list):
        keep = {_key(v) for v in member["enum"]}
        into["enum"] = [v for v in into["enum"] if _key(v) in keep]
    for key, value in member.items():
        if key not in ("properties", "required", *UPPER_BOUNDS, *LOWER_BOUNDS):
            into.setdefault(key, value)


class _Side:
    """Which way data flows: requests are read by the server, responses by our client."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.request = name == "request"

    def narrower(self) -> Severity:
        return Severity.BREAKING if self.request else Severity.COMPATIBLE

    def wider(self) -> Severity:
        return Severity.COMPATIBLE if self.request else Severity.TOLERATED

    def different(self) -> Severity:
        """Neither wider nor narrower (e.g. a changed pattern)."""
        return Severity.BREAKING if self.request else Severity.TOLERATED

    def hides(self, prop: dict[str, Any]) -> bool:
        """readOnly fields are never sent; writeOnly ones never come back."""
        return prop.get("readOnly" if self.request else "writeOnly") is True


REQUEST, RESPONSE = _Side("request"), _Side("response")


# --------------------------------------------------------------------------- the comparison


@dataclass
class _Operation:
    label: str
    method: str
    path: str
    op_id: str | None
    item: dict[str, Any]
    op: dict[str, Any]


def _normal_path(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path)


def _path_params(path: str) -> list[str]:
    return re.findall(r"\{([^}]*)\}", path)


@dataclass
class Comparison:
    old: Document
    new: Document
    changes: list[Change] = field(default_factory=list)
    _operation: str = WHOLE_API
    _side: str = "api"
    _work: int = 0
    _root_default: bool = True
    _compared: set[tuple[Any, Any]] = field(default_factory=set)
    _kept: list[Any] = field(default_factory=list)

    # ---- recording

    def _add(self, severity: Severity, kind: str, text: str) -> None:
        # Values are shown through show() where they are formatted; this is the guarantee.
        printable = one_line(text)
        self.changes.append(Change(self._operation, self._side, severity, kind, printable))

    # ---- whole document

    def run(self) -> list[Change]:
        check_openapi(self.old)
        check_openapi(self.new)
        self._servers()
        self._security_schemes()
        self._webhooks()
        old_ops, new_ops = self._operations(self.old), self._operations(self.new)
        pairs: list[tuple[_Operation, _Operation]] = []
        for key in [k for k in old_ops if k in new_ops]:
            pairs.append((old_ops.pop(key), new_ops.pop(key)))
        by_id = {o.op_id: k for k, o in new_ops.items() if o.op_id}
        for key, old_op in list(old_ops.items()):
            if old_op.op_id in by_id:
                new_op = new_ops.pop(by_id.pop(old_op.op_id))
                del old_ops[key]
                pairs.append((old_op, new_op))
        self._side = "operation"
        for gone in old_ops.values():
            self._operation = gone.label
            self._add(Severity.BREAKING, "operation-removed", "operation removed")
        for added in new_ops.values():
            self._operation = added.label
            self._add(Severity.COMPATIBLE, "operation-added", "new operation")
        for old_op, new_op in pairs:
            self._compare_operation(old_op, new_op)
        return self.changes

    def _servers(self) -> None:
        self._operation, self._side = WHOLE_API, "api"
        self._urls(_server_urls(self.old.get("servers")), _server_urls(self.new.get("servers")))

    def _urls(self, old: list[str], new: list[str]) -> None:
        gone = [u for u in old if u not in new]
        added = [u for u in new if u not in old]
        if len(gone) == 1 and len(added) == 1:
            self._add(
                Severity.BREAKING,
                "server-changed",
                f"base URL {show(gone[0])} -> {show(added[0])} (callers using the old one break)",
            )
            return
        for url in gone:
            self._add(Severity.BREAKING, "server-removed", f"base URL {show(url)} removed")
        for url in added:
            self._add(Severity.COMPATIBLE, "server-added", f"new base URL {show(url)}")

    def _webhooks(self) -> None:
        """OpenAPI 3.1 webhooks: requests the server sends to the caller's own server. Our
        client has no webhook code, so a change is named, not failed (oasdiff fails a removed
        webhook: a receiver built from the spec stops getting it)."""
        before = _mapping(self.old.get("webhooks"))
        after = _mapping(self.new.get("webhooks"))
        self._operation, self._side = WHOLE_API, "api"
        for name in sorted(set(before) | set(after), key=str):
            if name not in after:
                self._add(Severity.COMPATIBLE, "webhook-removed", f"webhook {show(name)} removed")
            elif name not in before:
                self._add(Severity.COMPATIBLE, "webhook-added", f"new webhook {show(name)}")
            elif _signature(before[name]) != _signature(after[name]):
                self._add(Severity.COMPATIBLE, "webhook-changed", f"webhook {show(name)} changed")

    def _security_schemes(self) -> None:
        """Where OAuth 2 and OpenID Connect callers get tokens, and the scopes offered. Who
        must send what is compared per operation (security); this is the rest. Named, not
        failed: the generated client takes a token, never fetches one."""

        def schemes(doc: Document) -> dict[str, dict[str, Any]]:
            found = _mapping(_mapping(doc.get("components")).get("securitySchemes"))
            return {str(k): _mapping(resolve(doc, v)) for k, v in found.items()}

        def details(scheme: dict[str, Any]) -> dict[str, Any]:
            found: dict[str, Any] = {}
            if isinstance(scheme.get("openIdConnectUrl"), str):
                found["openIdConnectUrl"] = scheme["openIdConnectUrl"]
            for flow, spec in _mapping(scheme.get("flows")).items():
                for key in ("authorizationUrl", "tokenUrl", "refreshUrl"):
                    if key in _mapping(spec):
                        found[f"{flow} {key}"] = spec[key]
                for scope in _mapping(_mapping(spec).get("scopes")):
                    found[f"{flow} scope {scope}"] = True
            return found

        before, after = schemes(self.old), schemes(self.new)
        self._operation, self._side = WHOLE_API, "api"
        for name in [n for n in before if n in after]:
            was, now = details(before[name]), details(after[name])
            for key in sorted(set(was) | set(now)):
                if _same(was.get(key), now.get(key)):
                    continue
                if " scope " in key:
                    verb = "now offered" if key in now else "no longer offered"
                    text = f"security scheme {show(name)}: {show(key)} {verb}"
                else:
                    text = (
                        f"security scheme {show(name)}: {show(key)} "
                        f"{show(was.get(key, '(none)'))} -> {show(now.get(key, '(none)'))}"
                    )
                self._add(Severity.COMPATIBLE, "security-scheme-changed", text)

    def _operations(self, doc: Document) -> dict[tuple[str, str], _Operation]:
        found = {}
        for path, method, op in operations(doc):
            op_id = op.get("operationId")
            op_id = str(op_id) if op_id is not None else None
            label = f"{show(op_id) + ' ' if op_id else ''}({method.upper()} {show(path)})"
            item = doc["paths"].get(path, {})
            found[(method, _normal_path(path))] = _Operation(label, method, path, op_id, item, op)
        return found

    def _compare_operation(self, old: _Operation, new: _Operation) -> None:
        self._operation, self._side = new.label, "operation"
        if (old.method, _normal_path(old.path)) != (new.method, _normal_path(new.path)):
            self._add(
                Severity.BREAKING,
                "operation-moved",
                f"moved from {old.method.upper()} {show(old.path)}",
            )
        elif old.op_id != new.op_id:
            self._add(
                Severity.BREAKING,
                "operation-id-changed",
                f"operationId {show(old.op_id)} -> {show(new.op_id)} "
                "(the generated function is renamed)",
            )
        if old.op.get("deprecated") is not True and new.op.get("deprecated") is True:
            self._add(Severity.COMPATIBLE, "operation-deprecated", "now deprecated")
        elif old.op.get("deprecated") is True and new.op.get("deprecated") is not True:
            self._add(Severity.COMPATIBLE, "operation-reactivated", "no longer deprecated")
        self._sunset(old.op, new.op, "")
        self._tags(old, new)
        self._operation_servers(old, new)
        self._stability(old.op, new.op)
        self._callbacks(old, new)
        self._side = "request"
        self._security(old, new)
        self._parameters(old, new)
        self._request_body(old, new)
        self._side = "response"
        self._responses(old, new)

    def _operation_servers(self, old: _Operation, new: _Operation) -> None:
        """`servers` on an operation or its path item replace the API's base URLs for it."""

        def effective(doc: Document, op: _Operation) -> list[str] | None:
            for node in (op.op, op.item):
                if isinstance(node.get("servers"), list) and node["servers"]:
                    return _server_urls(node["servers"])
            return None

        before, after = effective(self.old, old), effective(self.new, new)
        if before is None and after is None:
            return  # the API's own base URLs, compared once for the whole API
        self._urls(
            before if before is not None else _server_urls(self.old.get("servers")),
            after if after is not None else _server_urls(self.new.get("servers")),
        )

    def _stability(self, was: dict[str, Any], now: dict[str, Any]) -> None:
        """`x-stability-level` (draft < alpha < beta < stable), which oasdiff polices: named,
        not failed; a lower level says the operation may change without notice."""
        levels = ["draft", "alpha", "beta", "stable"]
        before, after = was.get("x-stability-level"), now.get("x-stability-level")
        if _same(before, after):
            return
        text = f"stability {show(before or '(none)')} -> {show(after or '(none)')}"
        lower = before in levels and after in levels and levels.index(after) < levels.index(before)
        self._add(Severity.COMPATIBLE, "stability-changed", text + (" (lower)" if lower else ""))

    def _callbacks(self, old: _Operation, new: _Operation) -> None:
        """Callbacks are requests the server makes to the caller's own server; our client has
        no code for them, so a change is named, not failed."""
        before, after = _mapping(old.op.get("callbacks")), _mapping(new.op.get("callbacks"))
        for name in sorted(set(before) | set(after), key=str):
            if name not in after:
                self._add(Severity.COMPATIBLE, "callback-removed", f"callback {show(name)} removed")
            elif name not in before:
                self._add(Severity.COMPATIBLE, "callback-added", f"new callback {show(name)}")
            elif _signature(before[name]) != _signature(after[name]):
                text = f"callback {show(name)} changed (our client has no callback code)"
                self._add(Severity.COMPATIBLE, "callback-changed", text)

    def _tags(self, old: _Operation, new: _Operation) -> None:
        """openapi-python-client puts each function in the module of its operation's first
        tag (api/<tag>/): a changed first tag moves it, and `from ... import` breaks."""

        def tags(op: _Operation) -> list[str]:
            found = op.op.get("tags")
            return [str(t) for t in found] if isinstance(found, list) else []

        before, after = tags(old), tags(new)
        if before == after:
            return
        text = f"tags {show(before)} -> {show(after)}"
        if before[:1] != after[:1]:
            self._add(
                Severity.BREAKING,
                "operation-module-changed",
                text + " (the first tag names the generated function's module: it moves)",
            )
        else:
            self._add(Severity.COMPATIBLE, "tags-changed", text)

    def _sunset(self, was: dict[str, Any], now: dict[str, Any], place: str) -> None:
        """`x-sunset`: the date after which a deprecated operation or parameter may go.

        Reported, not BREAKING: this revision still serves the same calls; the date is a
        schedule, and the removal itself, when it comes, is BREAKING. Deleting the date or
        moving it earlier takes migration time from callers, so the line says so (oasdiff
        fails those: its gate also polices deprecation policy, ours judges the revision)."""
        before, after = was.get("x-sunset"), now.get("x-sunset")
        if _same(before, after):
            return
        prefix = f"{place}: " if place else ""
        if after is None:
            text = f"{prefix}sunset {show(str(before))} deleted (no end date announced any more)"
            self._add(Severity.COMPATIBLE, "sunset-deleted", text)
            return
        if before is None:
            text = f"{prefix}sunset {show(str(after))} announced"
            self._add(Severity.COMPATIBLE, "sunset-added", text)
            return
        old_date, new_date = _date(before), _date(after)
        text = f"{prefix}sunset {show(str(before))} -> {show(str(after))}"
        if old_date is not None and new_date is not None and new_date < old_date:
            self._add(
                Severity.COMPATIBLE, "sunset-earlier", text + " (earlier: less time to migrate)"
            )
        elif old_date is not None and new_date is not None and new_date > old_date:
            self._add(Severity.COMPATIBLE, "sunset-later", text + " (later)")
        else:
            self._add(Severity.COMPATIBLE, "sunset-changed", text)

    # ---- security

    def _security(self, old: _Operation, new: _Operation) -> None:
        """A caller satisfies one alternative today; it breaks if no new one asks for less."""
        counts = (len(self._requirements(self.old, old)), len(self._requirements(self.new, new)))
        single = counts == (1, 1)
        before = self._alternatives(self.old, old, keys_are_parameters=single)
        after = self._alternatives(self.new, new, keys_are_parameters=single)
        if before == after:
            return
        stranded = [a for a in before if not any(b <= a for b in after)]
        text = f"security {self._show_alts(before)} -> {self._show_alts(after)}"
        if stranded:
            self._add(Severity.BREAKING, "security-changed", text)
        else:
            self._add(Severity.COMPATIBLE, "security-relaxed", text)

    def _alternatives(
        self, doc: Document, op: _Operation, *, keys_are_parameters: bool
    ) -> list[frozenset[str]]:
        """What a caller may send to be let in, one set per alternative.

        When both revisions have one alternative, its API keys are parameters (compared
        there) and are left out here. Otherwise each alternative counts the API keys the
        operation's required parameters already make every caller send, so a key that moves
        between a parameter and a scheme is still no change."""
        requirements = self._requirements(doc, op)
        if keys_are_parameters:
            return [frozenset(d for d in requirements[0] if not d.startswith("apiKey "))]
        sent = set()
        for source in (op.item.get("parameters"), op.op.get("parameters")):
            for raw in source if isinstance(source, list) else []:
                param = _mapping(resolve(doc, raw))
                if param.get("required") is True and param.get("in") != "path":
                    sent.add(f"apiKey {param.get('in')}:{param.get('name')}")
        return sorted({r | sent for r in requirements}, key=sorted)

    def _requirements(self, doc: Document, op: _Operation) -> list[frozenset[str]]:
        declared = op.op.get("security", doc.get("security"))
        if not isinstance(declared, list) or not declared:
            return [frozenset()]
        schemes = _mapping(_mapping(doc.get("components")).get("securitySchemes"))
        found = []
        for requirement in declared:
            described = set()
            for name, scopes in _mapping(requirement).items():
                scheme = _mapping(resolve(doc, schemes.get(name, {})))
                kind = str(scheme.get("type", "?"))
                if kind == "apiKey":
                    described.add(f"apiKey {scheme.get('in')}:{scheme.get('name')}")
                elif kind == "http":
                    described.add(f"http {str(scheme.get('scheme', '')).lower()}")
                else:
                    # Each scope on its own: asking for fewer scopes strands no caller (a
                    # token with [read, write] still has write), asking for more does.
                    listed = scopes if isinstance(scopes, list) else []
                    described.add(f"{kind} {name}")
                    described |= {f"{kind} {name}{SCOPE}{scope}" for scope in map(str, listed)}
            found.append(frozenset(described))
        return found

    @staticmethod
    def _show_alts(alternatives: list[frozenset[str]]) -> str:
        def one(alternative: frozenset[str]) -> str:
            scopes: dict[str, list[str]] = {}
            for item in sorted(alternative):
                base, separator, scope = item.partition(SCOPE)
                if separator:
                    scopes.setdefault(base, []).append(scope)
            parts = [
                f"{item} [{', '.join(scopes[item])}]" if item in scopes else item
                for item in sorted(alternative)
                if SCOPE not in item
            ]
            return " + ".join(parts) or "none"

        return show(" or ".join(one(a) for a in alternatives))

    # ---- parameters

    def _params(self, doc: Document, op: _Operation) -> dict[tuple[str, str], dict[str, Any]]:
        """Path-level parameters overridden by operation-level ones, keyed so that a renamed
        path parameter keeps its key (its position), and header names ignore case. An apiKey
        security scheme is a required parameter too: moving the key between the two is no
        change for a caller."""
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for source in (op.item.get("parameters"), op.op.get("parameters")):
            for raw in source if isinstance(source, list) else []:
                param = _mapping(resolve(doc, raw))
                where, name = str(param.get("in", "?")), str(param.get("name", "?"))
                merged[(where, name.lower() if where == "header" else name)] = param
        requirements = self._requirements(doc, op)
        if len(requirements) == 1:
            for described in requirements[0]:
                if described.startswith("apiKey "):
                    where, _, name = described[len("apiKey ") :].partition(":")
                    key = (where, name.lower() if where == "header" else name)
                    merged.setdefault(
                        key,
                        {
                            "in": where,
                            "name": name,
                            "required": True,
                            "schema": {"type": "string"},
                            CREDENTIAL: True,
                        },
                    )
        positions = {name: i for i, name in enumerate(_path_params(op.path))}
        keyed = {}
        for (where, name), param in merged.items():
            if where == "path" and name in positions:
                keyed[("path", f"#{positions[name]}")] = param
            else:
                keyed[(where, name)] = param
        return keyed

    def _parameters(self, old: _Operation, new: _Operation) -> None:
        before, after = self._params(self.old, old), self._params(self.new, new)
        for key in [k for k in after if k not in before]:
            param = after[key]
            place = f"{show(key[0])} parameter {show(param.get('name'))}"
            if param.get("required") is True:
                self._add(Severity.BREAKING, "parameter-added-required", f"new required {place}")
            else:
                self._add(Severity.COMPATIBLE, "parameter-added", f"new optional {place}")
        for key in [k for k in before if k not in after]:
            place = f"{show(key[0])} parameter {show(before[key].get('name'))}"
            if before[key].get(CREDENTIAL):
                text = f"{place} (an API key) no longer required"
                self._add(Severity.COMPATIBLE, "credential-removed", text)
            else:
                self._add(Severity.BREAKING, "parameter-removed", f"{place} removed")
        for key in [k for k in before if k in after]:
            was, now = before[key], after[key]
            place = f"{show(key[0])} parameter {show(now.get('name'))}"
            if key[0] == "path" and was.get("name") != now.get("name"):
                self._add(
                    Severity.BREAKING,
                    "path-parameter-renamed",
                    f"path parameter {show(was.get('name'))} renamed to {show(now.get('name'))}"
                    " (the generated function's argument is renamed)",
                )
            if now.get("required") is True and was.get("required") is not True:
                self._add(Severity.BREAKING, "parameter-now-required", f"{place}: now required")
            elif was.get("required") is True and now.get("required") is not True:
                self._add(Severity.COMPATIBLE, "parameter-now-optional", f"{place}: now optional")
            if was.get("deprecated") is not True and now.get("deprecated") is True:
                self._add(Severity.COMPATIBLE, "parameter-deprecated", f"{place}: now deprecated")
            elif was.get("deprecated") is True and now.get("deprecated") is not True:
                text = f"{place}: no longer deprecated"
                self._add(Severity.COMPATIBLE, "parameter-reactivated", text)
            self._sunset(was, now, place)
            self._serialization(was, now, place)
            was_schema, now_schema = self._param_schema(was), self._param_schema(now)
            self._default(
                self._flatten(self.old, was_schema)[0],
                self._flatten(self.new, now_schema)[0],
                place,
                REQUEST,
                required=was.get("required") is True,
            )
            self._root(was_schema, now_schema, place, REQUEST, root_default=False)

    def _serialization(self, was: dict[str, Any], now: dict[str, Any], place: str) -> None:
        """style, explode and allowReserved decide how a value is written into the URL or
        header: the server now reads another encoding than the old client writes."""
        for key in ("style", "explode", "allowReserved"):
            if was.get(key) != now.get(key):
                text = f"{place}: {key} {show(was.get(key, '(default)'))} -> " + show(
                    now.get(key, "(default)")
                )
                self._add(Severity.BREAKING, "parameter-serialization-changed", text)
        if bool(was.get("allowEmptyValue")) != bool(now.get("allowEmptyValue")):
            allowed = bool(now.get("allowEmptyValue"))
            self._add(
                Severity.COMPATIBLE if allowed else Severity.BREAKING,
                "parameter-empty-value-changed",
                f"{place}: empty value {'now' if allowed else 'no longer'} allowed",
            )

    @staticmethod
    def _param_schema(param: dict[str, Any]) -> Any:
        if "schema" in param:
            return param["schema"]
        for media in _mapping(param.get("content")).values():
            return _mapping(media).get("schema", {})
        return {}

    # ---- bodies

    def _request_body(self, old: _Operation, new: _Operation) -> None:
        was = _mapping(resolve(self.old, old.op.get("requestBody")))
        now = _mapping(resolve(self.new, new.op.get("requestBody")))
        if not was and not now:
            return
        if not was:
            if now.get("required") is True:
                self._add(Severity.BREAKING, "body-added-required", "new required body")
            else:
                self._add(Severity.COMPATIBLE, "body-added", "new optional body")
            return
        if not now:
            self._add(Severity.BREAKING, "body-removed", "body removed")
            return
        if now.get("required") is True and was.get("required") is not True:
            self._add(Severity.BREAKING, "body-now-required", "body: now required")
        elif was.get("required") is True and now.get("required") is not True:
            self._add(Severity.COMPATIBLE, "body-now-optional", "body: now optional")
        self._content(was, now, "body", REQUEST)

    def _content(self, was: dict[str, Any], now: dict[str, Any], place: str, side: _Side) -> None:
        before, after = _mapping(was.get("content")), _mapping(now.get("content"))
        gone = [m for m in before if m not in after]
        added = [m for m in after if m not in before]
        for media in gone:
            self._add(
                Severity.BREAKING,
                "content-type-removed",
                f"{place}: {show(media)} no longer" + (" accepted" if side.request else " sent"),
            )
        for media in added:
            self._add(
                side.wider(),
                "content-type-added",
                f"{place}: {show(media)} now" + (" accepted" if side.request else " possible"),
            )
        common = [m for m in before if m in after]
        for media in common:
            label = place if len(common) == 1 else f"{place} ({show(media)})"
            self._root(
                _mapping(before[media]).get("schema", {}),
                _mapping(after[media]).get("schema", {}),
                label,
                side,
            )

    def _responses(self, old: _Operation, new: _Operation) -> None:
        before = {str(k): v for k, v in _mapping(old.op.get("responses")).items()}
        after = {str(k): v for k, v in _mapping(new.op.get("responses")).items()}
        for status in [s for s in before if s not in after]:
            self._status_removed(status)
        for status in [s for s in after if s not in before]:
            self._add(Severity.TOLERATED, "status-added", f"new status {show(status)}")
        for status in [s for s in before if s in after]:
            was = _mapping(resolve(self.old, before[status]))
            now = _mapping(resolve(self.new, after[status]))
            self._headers(was, now, show(status))
            self._content(was, now, f"{show(status)} body", RESPONSE)

    def _status_removed(self, status: str) -> None:
        """A success status removed breaks the calls that got it. An error status or the
        `default` response removed is named, not failed: the answer still arrives as an
        APIError (errors.error_class picks the class by errorCode first, and an undeclared
        status is UnexpectedStatus), and the server says it no longer sends it."""
        if status == "default":
            self._add(
                Severity.COMPATIBLE,
                "default-response-removed",
                "default response removed (undeclared statuses are errors to our client anyway)",
            )
        elif status.startswith("2"):
            self._add(Severity.BREAKING, "status-removed", f"status {show(status)} removed")
        else:
            self._add(
                Severity.COMPATIBLE,
                "error-status-removed",
                f"status {show(status)} removed (not a success: our client maps undeclared "
                "statuses to errors anyway)",
            )

    def _headers(self, was: dict[str, Any], now: dict[str, Any], status: str) -> None:
        def headers(doc: Document, response: dict[str, Any]) -> dict[str, Any]:
            found = _mapping(response.get("headers")).items()
            return {str(k).lower(): _mapping(resolve(doc, v)) for k, v in found}

        before, after = headers(self.old, was), headers(self.new, now)
        for name in [n for n in before if n not in after]:
            self._add(
                Severity.BREAKING,
                "response-header-removed",
                f"{status} header {show(name)} removed",
            )
        for name in [n for n in after if n not in before]:
            self._add(
                Severity.TOLERATED, "response-header-added", f"{status} new header {show(name)}"
            )
        for name in [n for n in before if n in after]:
            place = f"{status} header {show(name)}"
            was_required = before[name].get("required") is True
            now_required = after[name].get("required") is True
            if was_required and not now_required:
                text = f"{place}: no longer always sent"
                self._add(Severity.BREAKING, "response-header-now-optional", text)
            elif now_required and not was_required:
                text = f"{place}: now always sent"
                self._add(Severity.COMPATIBLE, "response-header-now-required", text)
            self._root(
                self._param_schema(before[name]),
                self._param_schema(after[name]),
                f"{status} header {show(name)}",
                RESPONSE,
            )

    # ---- schemas

    def _flatten(self, doc: Document, node: Any, depth: int = 0) -> tuple[dict[str, Any], str]:
        """Resolve refs and merge allOf members (a lone anyOf/oneOf member is the same thing);
        return the schema and the $refs it was reached through (its own, its members')."""
        self._spend()
        ref = str(node.get("$ref") or "") if isinstance(node, dict) else ""
        schema = resolve(doc, node)
        if not isinstance(schema, dict):
            return {}, ref
        members = list(schema["allOf"]) if isinstance(schema.get("allOf"), list) else []
        absorbed = {"allOf"}
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list) and len(schema[key]) == 1:
                members.append(schema[key][0])
                absorbed.add(key)
        if not members:
            return schema, ref
        if depth > 32:
            raise SpecError("allOf nested too deeply (circular $ref?)")
        merged = {k: v for k, v in schema.items() if k not in absorbed}
        merged = {**merged, "properties": dict(_mapping(merged.get("properties")))}
        refs = [ref] if ref else []
        for member in members:
            flat, member_refs = self._flatten(doc, member, depth + 1)
            _merge(merged, flat)
            refs += [member_refs] if member_refs else []
        if not merged["properties"]:
            del merged["properties"]
        return merged, "|".join(refs)

    def _root(
        self,
        old_node: Any,
        new_node: Any,
        place: str,
        side: _Side,
        *,
        root_default: bool = True,
    ) -> None:
        """Compare one body, parameter or header schema. Within it each pair of referenced
        schemas is compared once, at the first path that reaches it: a component reached by
        many paths (fan-out, cycles) is reported once, not once per path.

        Defaults: a field's is judged by its parent (which knows if it is required), a
        parameter's by _parameters; the root's here unless `root_default` is False."""
        self._compared = set()
        self._kept = []
        self._root_default = root_default
        self._schema(old_node, new_node, place, "", side, ())

    def _identity(self, node: Any, ref: str) -> Any:
        """What names a schema for the compared-once rule: its $ref(s), or for an inline
        schema the node itself (a YAML alias shares it like a $ref does); kept alive so that
        its id cannot be reused while the body is compared."""
        if ref:
            return ref
        self._kept.append(node)
        return ("inline", id(node))

    def _spend(self, steps: int = 1) -> None:
        """Bound the work: a document crafted to make comparing explode is refused."""
        self._work += steps
        if self._work > MAX_WORK:
            raise SpecError(
                f"too complex to compare (more than {MAX_WORK:,} schema comparisons; "
                "the real spec needs about 900)"
            )

    def _schema(
        self,
        old_node: Any,
        new_node: Any,
        place: str,
        path: str,
        side: _Side,
        seen: tuple[tuple[str, str], ...],
    ) -> None:
        self._spend()
        old, old_ref = self._flatten(self.old, old_node)
        new, new_ref = self._flatten(self.new, new_node)
        if old_ref or new_ref:
            seen = (*seen, (old_ref, new_ref))
        if len(seen) > MAX_DEPTH or path.count(".") + path.count("[]") > MAX_DEPTH:
            return  # deeper than any real body (and not marked: a shorter path may come)
        pair = (self._identity(old_node, old_ref), self._identity(new_node, new_ref))
        if pair in self._compared:
            return  # compared already: by another path (fan-out) or further up (a cycle)
        self._compared.add(pair)
        at = f"{place} field {path}" if path else place

        self._discriminator(old, new, at, side)
        old_variants, new_variants = _variants(old), _variants(new)
        if len(old_variants) > 1 or len(new_variants) > 1:
            self._alternatives_of(old_variants, new_variants, place, path, side, seen)
            return
        self._single(old, new, at, place, path, side, seen)

    def _alternatives_of(
        self,
        old: list[dict[str, Any]],
        new: list[dict[str, Any]],
        place: str,
        path: str,
        side: _Side,
        seen: tuple[tuple[str, str], ...],
    ) -> None:
        at = f"{place} field {path}" if path else place
        pairs, gone, added = _match_variants(old, new)
        for variant in gone:
            self._add(
                side.narrower(),
                "alternative-removed",
                f"{at}: alternative {_variant_name(variant)} no longer "
                + ("accepted" if side.request else "sent"),
            )
        for variant in added:
            self._add(
                side.wider(),
                "alternative-added",
                f"{at}: new alternative {_variant_name(variant)}",
            )
        for was, now in pairs:
            named = now if len(new) > 1 else was
            label = f"{place} (alternative {_variant_name(named)})" if len(pairs) > 1 else place
            self._schema(was, now, label, path, side, seen)

    def _single(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        at: str,
        place: str,
        path: str,
        side: _Side,
        seen: tuple[tuple[str, str], ...],
    ) -> None:
        if not self._type(old, new, at, side):
            return  # a changed type says it all; what is inside no longer compares
        self._format(old, new, at, side)
        self._enum(old, new, at, side)
        self._bounds(old, new, at, side)
        self._extensible_enum(old, new, at, side)
        if (path == "" and self._root_default) or path.endswith(("[]", ".*")):
            # Not a named field (whose parent judges its default): a whole body, an item, a
            # map value. No generated argument or attribute takes these defaults.
            self._default(old, new, at, side, required=False, sent=False)
        if old.get("deprecated") is not True and new.get("deprecated") is True:
            self._add(Severity.COMPATIBLE, "deprecated", f"{at}: now deprecated")
        elif old.get("deprecated") is True and new.get("deprecated") is not True:
            self._add(Severity.COMPATIBLE, "reactivated", f"{at}: no longer deprecated")
        self._properties(old, new, place, path, side, seen)
        if "items" in old or "items" in new:
            self._schema(old.get("items", {}), new.get("items", {}), place, f"{path}[]", side, seen)
        self._additional(old, new, at, side)
        was_values, now_values = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(was_values, dict) and isinstance(now_values, dict):
            self._schema(was_values, now_values, place, f"{path}.*", side, seen)
        self._other_keywords(old, new, at, side)

    def _other_keywords(
        self, old: dict[str, Any], new: dict[str, Any], at: str, side: _Side
    ) -> None:
        """Keywords no rule above reads (JSON Schema 2020-12's if/then/else, contains,
        dependentRequired, patternProperties, propertyNames, unevaluated*, prefixItems,
        content*, not, ...) still count: one added constrains, one removed frees, one
        changed differs. Shown by name, so a change there is never "No API change"."""
        for key in sorted(set(old) | set(new), key=str):
            if key in COMPARED or key in DOCUMENTATION or str(key).startswith("x-"):
                continue
            if key in old and key in new and _signature(old[key]) == _signature(new[key]):
                continue
            if key not in new:
                text = f"{at}: keyword {show(key)} removed"
                self._add(side.wider(), "keyword-removed", text)
            elif key not in old:
                text = f"{at}: keyword {show(key)} added ({show(new[key])})"
                self._add(side.narrower(), "keyword-added", text)
            else:
                text = f"{at}: keyword {show(key)} changed"
                self._add(side.different(), "keyword-changed", text)

    def _type(self, old: dict[str, Any], new: dict[str, Any], at: str, side: _Side) -> bool:
        before, after = _types(old), _types(new)
        if before == after:
            return True
        text = f"{at}: type {_type_name(old)} -> {_type_name(new)}"
        if side.request and before <= after:
            self._add(Severity.COMPATIBLE, "type-widened", text)
            return True
        if not side.request and after <= before:
            self._add(Severity.COMPATIBLE, "type-narrowed", text)
            return True
        self._add(Severity.BREAKING, "type-changed", text)
        return False

    def _format(self, old: dict[str, Any], new: dict[str, Any], at: str, side: _Side) -> None:
        before, after = old.get("format"), new.get("format")
        if _same(before, after):
            return
        text = f"{at}: format {show(before or '(none)')} -> {show(after or '(none)')}"
        if side.request and after is None:
            self._add(Severity.COMPATIBLE, "format-removed", text)
        else:
            # In a response the generated model's Python type follows the format.
            self._add(Severity.BREAKING, "format-changed", text)

    def _default(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        at: str,
        side: _Side,
        *,
        required: bool,
        sent: bool = True,
    ) -> None:
        """A default is what a call that omits the value means.

        Requests: openapi-python-client makes the spec's default the generated argument's
        default and sends it (`limit: int | Unset = 10` sends limit=10). So a default added
        to an optional input, changed or removed makes the same Python call send another
        request after regeneration, and a raw caller that omits it gets the new meaning:
        BREAKING (as oasdiff rules for parameters). A default added to a required input
        changes no call: every caller passes it today. Responses: our models leave an absent
        field UNSET and never fill in defaults, so a response default is named, not failed.
        So is the default of a whole body, an array item or a map value (`sent=False`): no
        generated argument or attribute takes it, so no call changes.
        """
        had, has = "default" in old, "default" in new
        if (not had and not has) or (had and has and _same(old["default"], new["default"])):
            return
        if not had:
            text = f"{at}: default {show(new['default'])} added"
            kind = "default-added"
        elif not has:
            text = f"{at}: default {show(old['default'])} removed"
            kind = "default-removed"
        else:
            text = f"{at}: default {show(old['default'])} -> {show(new['default'])}"
            kind = "default-changed"
        if side.request and sent and not (kind == "default-added" and required):
            reason = {
                "default-added": "a call that omits it now sends it",
                "default-removed": "a call that omits it no longer sends it",
                "default-changed": "a call that omits it now sends the new value",
            }[kind]
            self._add(Severity.BREAKING, kind, f"{text} ({reason})")
        else:
            self._add(Severity.COMPATIBLE, kind, text)

    def _discriminator(
        self, old: dict[str, Any], new: dict[str, Any], at: str, side: _Side
    ) -> None:
        """Which alternative a body is, named by one of its fields.

        Added: not breaking either way; the alternatives already carry the field (OpenAPI
        requires it) and what each accepts is compared as the alternatives. Removed: fine for
        a request; in a response our client then tries the alternatives in order and the
        first that fits wins, so a body can parse as the wrong class: BREAKING. A changed
        field name breaks both ways. Mapping: a value that maps elsewhere or no longer maps
        breaks requests (the server now checks the body against another schema or refuses
        it) and responses (our client parses it as another class); a new value is new input
        for requests and a value our reader may not know in responses."""
        was, now = _mapping(old.get("discriminator")), _mapping(new.get("discriminator"))
        if not was and not now:
            return
        if not was:
            text = f"{at}: now tells alternatives apart by {show(now.get('propertyName'))}"
            self._add(Severity.COMPATIBLE, "discriminator-added", text)
            return
        if not now:
            text = f"{at}: no longer tells alternatives apart by {show(was.get('propertyName'))}"
            self._add(
                Severity.COMPATIBLE if side.request else Severity.BREAKING,
                "discriminator-removed",
                text,
            )
            return
        if was.get("propertyName") != now.get("propertyName"):
            self._add(
                Severity.BREAKING,
                "discriminator-property-changed",
                f"{at}: alternatives told apart by {show(was.get('propertyName'))} -> "
                f"{show(now.get('propertyName'))}",
            )

        def targets(mapping: Any) -> dict[str, str]:
            found = {}
            for value, target in _mapping(mapping).items():
                target = str(target)
                found[str(value)] = target if "/" in target else f"#/components/schemas/{target}"
            return found

        before, after = targets(was.get("mapping")), targets(now.get("mapping"))
        for value in [v for v in before if v not in after]:
            self._add(
                side.narrower(),
                "discriminator-mapping-removed",
                f"{at}: {show(was.get('propertyName'))} {show(value)} no longer maps to "
                f"{show(before[value].rsplit('/', 1)[-1])}",
            )
        for value in [v for v in after if v not in before]:
            self._add(
                side.wider(),
                "discriminator-mapping-added",
                f"{at}: {show(now.get('propertyName'))} {show(value)} now maps to "
                f"{show(after[value].rsplit('/', 1)[-1])}",
            )
        for value in [v for v in before if v in after and before[v] != after[v]]:
            self._add(
                Severity.BREAKING,
                "discriminator-mapping-changed",
                f"{at}: {show(now.get('propertyName'))} {show(value)} maps to "
                f"{show(before[value].rsplit('/', 1)[-1])} -> "
                f"{show(after[value].rsplit('/', 1)[-1])}",
            )

    def _extensible_enum(
        self, old: dict[str, Any], new: dict[str, Any], at: str, side: _Side
    ) -> None:
        """`x-extensible-enum` (Zalando): the values known today, more may come. Senders
        must keep to the list, so requests lose a value like an enum does (BREAKING); a
        reader must expect new ones anyway, so responses gain one without harm."""
        before, after = old.get("x-extensible-enum"), new.get("x-extensible-enum")
        if _same(before, after) or not (isinstance(before, list) or isinstance(after, list)):
            return
        before = before if isinstance(before, list) else []
        after = after if isinstance(after, list) else []
        keys_before, keys_after = {_key(v) for v in before}, {_key(v) for v in after}
        lost = [v for v in before if _key(v) not in keys_after]
        gained = [v for v in after if _key(v) not in keys_before]
        if lost:
            self._add(
                Severity.BREAKING if side.request else Severity.COMPATIBLE,
                "extensible-enum-value-removed",
                f"{at}: x-extensible-enum lost {show(lost)}",
            )
        if gained:
            self._add(
                Severity.COMPATIBLE,
                "extensible-enum-value-added",
                f"{at}: x-extensible-enum gained {show(gained)}",
            )

    def _enum(self, old: dict[str, Any], new: dict[str, Any], at: str, side: _Side) -> None:
        before, after = _enum(old), _enum(new)
        if before is None and after is None:
            return
        if before is None:
            self._add(side.narrower(), "enum-added", f"{at}: now limited to {show(after)}")
            return
        if after is None:
            self._add(side.wider(), "enum-removed", f"{at}: no longer limited to {show(before)}")
            return
        keys_after = {_key(v) for v in after}
        keys_before = {_key(v) for v in before}
        lost = [v for v in before if _key(v) not in keys_after]
        gained = [v for v in after if _key(v) not in keys_before]
        if lost:
            self._add(side.narrower(), "enum-value-removed", f"{at}: enum lost {show(lost)}")
        if gained:
            self._add(side.wider(), "enum-value-added", f"{at}: enum gained {show(gained)}")

    def _bounds(self, old: dict[str, Any], new: dict[str, Any], at: str, side: _Side) -> None:
        for key, name in UPPER_BOUNDS.items():
            self._bound(old, new, key, name, at, side, lower=False)
        for key, name in LOWER_BOUNDS.items():
            self._bound(old, new, key, name, at, side, lower=True)
        for key, bound in (("exclusiveMaximum", "maximum"), ("exclusiveMinimum", "minimum")):
            was, now = old.get(key), new.get(key)
            if isinstance(was, bool) or isinstance(now, bool) or (was is None and now is None):
                if bool(was) != bool(now):
                    effect = side.narrower() if now else side.wider()
                    text = f"{at}: {bound} {'now' if now else 'no longer'} exclusive"
                    self._add(effect, f"{key}-changed", text)
            else:
                self._bound(
                    old, new, key, f"exclusive {bound}", at, side, lower=key.endswith("Minimum")
                )
        self._pattern(old, new, at, side)
        was_step, now_step = _number(old.get("multipleOf")), _number(new.get("multipleOf"))
        if was_step != now_step:
            text = f"{at}: multipleOf {show(was_step)} -> {show(now_step)}"
            if now_step is None or (was_step is not None and now_step and was_step % now_step == 0):
                self._add(side.wider(), "multiple-of-widened", text)
            elif was_step is None or (was_step and now_step % was_step == 0):
                self._add(side.narrower(), "multiple-of-narrowed", text)
            else:
                self._add(side.different(), "multiple-of-changed", text)
        if bool(old.get("uniqueItems")) != bool(new.get("uniqueItems")):
            now = bool(new.get("uniqueItems"))
            self._add(
                side.narrower() if now else side.wider(),
                "unique-items-changed",
                f"{at}: items {'now' if now else 'no longer'} unique",
            )
        self._boolean_required(old, new, at)

    def _boolean_required(self, old: dict[str, Any], new: dict[str, Any], at: str) -> None:
        """`required: true/false` on a field is JSON Schema draft 3, which OpenAPI 3 ignores."""
        was, now = old.get("required"), new.get("required")
        if was == now or not (isinstance(was, bool) or isinstance(now, bool)):
            return

        def said(value: Any) -> str:
            return "(absent)" if value is None else f"`required: {show(value)}`"

        self._add(
            Severity.NOTE,
            "boolean-required-changed",
            f"{at}: {said(was)} -> {said(now)} on the field itself (ignored: OpenAPI 3 "
            "reads only the parent's list of required names)",
        )

    def _bound(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        key: str,
        name: str,
        at: str,
        side: _Side,
        *,
        lower: bool,
    ) -> None:
        was, now = _number(old.get(key)), _number(new.get(key))
        if key in COUNT_FLOORS:  # a count of at least 0 is no bound at all
            was, now = (None if v is not None and v <= 0 else v for v in (was, now))
        if was == now:
            return
        text = f"{at}: {name} {show(was) if was is not None else '(none)'} -> " + (
            show(now) if now is not None else "(none)"
        )
        if now is None:
            narrower = False
        elif was is None:
            narrower = True
        else:
            narrower = now > was if lower else now < was
        self._add(
            side.narrower() if narrower else side.wider(),
            f"{key}-{'narrowed' if narrower else 'widened'}",
            text,
        )

    def _pattern(self, old: dict[str, Any], new: dict[str, Any], at: str, side: _Side) -> None:
        was, now = old.get("pattern"), new.get("pattern")
        if was == now:
            return
        text = f"{at}: pattern {show(was or '(none)')} -> {show(now or '(none)')}"
        if now is None:
            self._add(side.wider(), "pattern-removed", text)
        elif was is None:
            self._add(side.narrower(), "pattern-added", text)
        else:
            self._add(side.different(), "pattern-changed", text)

    def _additional(self, old: dict[str, Any], new: dict[str, Any], at: str, side: _Side) -> None:
        was, now = old.get("additionalProperties", True), new.get("additionalProperties", True)
        if (was is False) == (now is False):
            return
        if now is False:
            self._add(
                side.narrower(),
                "additional-properties-closed",
                f"{at}: no longer takes other fields",
            )
        else:
            self._add(side.wider(), "additional-properties-opened", f"{at}: now takes other fields")

    def _properties(
        self,
        old: dict[str, Any],
        new: dict[str, Any],
        place: str,
        path: str,
        side: _Side,
        seen: tuple[tuple[str, str], ...],
    ) -> None:
        before = self._visible(self.old, old, side)
        after = self._visible(self.new, new, side)
        if not before and not after:
            return
        required_before = _required(old)
        required_after = _required(new)

        def dotted(name: str) -> str:
            return f"{path}.{show(name)}" if path else show(name)

        gone = [n for n in before if n not in after]
        added = [n for n in after if n not in before]
        renamed = self._renames(gone, added, before, after)
        for was_name, now_name in renamed.items():
            self._add(
                Severity.BREAKING,
                "property-renamed",
                f"{place}: field {dotted(was_name)} removed, {dotted(now_name)} added with the "
                "same schema (renamed)",
            )
        for name in [n for n in gone if n not in renamed]:
            self._add(
                Severity.BREAKING, "property-removed", f"{place}: field {dotted(name)} removed"
            )
        for name in [n for n in added if n not in renamed.values()]:
            kind = self._describe(after[name])
            if side.request:
                if name in required_after:
                    self._add(
                        Severity.BREAKING,
                        "property-added-required",
                        f"{place}: new required field {dotted(name)} ({kind})",
                    )
                else:
                    self._add(
                        Severity.COMPATIBLE,
                        "property-added",
                        f"{place}: new optional field {dotted(name)} ({kind})",
                    )
            else:
                self._add(
                    Severity.TOLERATED,
                    "property-added",
                    f"{place}: new field {dotted(name)} ({kind})",
                )
        for name in [n for n in before if n in after]:
            at = f"{place} field {dotted(name)}"
            was_required, now_required = name in required_before, name in required_after
            if side.request and now_required and not was_required:
                self._add(Severity.BREAKING, "property-now-required", f"{at}: now required")
            elif side.request and was_required and not now_required:
                self._add(Severity.COMPATIBLE, "property-now-optional", f"{at}: now optional")
            elif not side.request and was_required and not now_required:
                self._add(
                    Severity.BREAKING, "property-now-optional", f"{at}: no longer always present"
                )
            elif not side.request and now_required and not was_required:
                self._add(Severity.COMPATIBLE, "property-now-required", f"{at}: now always present")
            self._default(
                self._flatten(self.old, before[name])[0],
                self._flatten(self.new, after[name])[0],
                at,
                side,
                required=was_required,
            )
            self._schema(before[name], after[name], place, dotted(name), side, seen)

    def _describe(self, node: Any) -> str:
        """A new field's type for its one line: `string`, `array of object`."""
        schema = self._flatten(self.new, node)[0]
        name = _type_name(schema)
        if name == "array" and "items" in schema:
            name += " of " + _type_name(self._flatten(self.new, schema["items"])[0])
        return name

    def _visible(self, doc: Document, schema: dict[str, Any], side: _Side) -> dict[str, Any]:
        props = _mapping(schema.get("properties"))
        return {
            str(name): prop
            for name, prop in props.items()
            if not side.hides(self._flatten(doc, prop)[0])
        }

    def _renames(
        self, gone: list[str], added: list[str], before: dict[str, Any], after: dict[str, Any]
    ) -> dict[str, str]:
        """A field that went and one that came with the same schema, when that pairing is
        unambiguous, are reported as one rename."""
        signature_old = {n: _signature(self._flatten(self.old, before[n])[0]) for n in gone}
        signature_new = {n: _signature(self._flatten(self.new, after[n])[0]) for n in added}
        pairs = {}
        for name, sig in signature_old.items():
            same_old = [n for n, s in signature_old.items() if s == sig]
            same_new = [n for n, s in signature_new.items() if s == sig]
            if len(same_old) == 1 and len(same_new) == 1:
                pairs[name] = same_new[0]
        return pairs


def _required(schema: dict[str, Any]) -> set[str]:
    names = schema.get("required")
    return {str(n) for n in names} if isinstance(names, list) else set()


DOCUMENTATION = {"description", "example", "examples", "title", "summary", "externalDocs", "xml"}
# Schema keywords a rule above reads; any other keyword that changes is reported by name.
COMPARED = {
    *UPPER_BOUNDS,
    *LOWER_BOUNDS,
    "type",
    "format",
    "enum",
    "const",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "pattern",
    "uniqueItems",
    "required",
    "properties",
    "items",
    "additionalProperties",
    "allOf",
    "anyOf",
    "oneOf",
    "discriminator",
    "default",
    "deprecated",
    "nullable",
    "readOnly",
    "writeOnly",
    "$ref",
    "$schema",
    "$id",
    "$comment",
    "$anchor",
    "$defs",
    "definitions",
}


def _signature(schema: Any) -> str:
    """A schema without its documentation, for comparing shapes."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: strip(v)
                for k, v in sorted(node.items(), key=lambda i: str(i[0]))
                if k not in DOCUMENTATION
            }
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return repr(strip(schema))


def _variants(schema: dict[str, Any]) -> list[dict[str, Any]]:
    for key in ("anyOf", "oneOf"):
        members = schema.get(key)
        if isinstance(members, list) and members:
            return [m if isinstance(m, dict) else {} for m in members]
    return [schema]


def _variant_name(variant: dict[str, Any]) -> str:
    if isinstance(variant.get("title"), str):
        return show(variant["title"])
    if "$ref" in variant:
        return show(str(variant["$ref"]).rsplit("/", 1)[-1])
    return show(_type_name(variant))


def _match_variants(
    old: list[dict[str, Any]], new: list[dict[str, Any]]
) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Pair alternatives: same title or $ref first, then by position if counts agree, then by
    identical shape; the rest were removed or added."""
    left, right = list(old), list(new)
    pairs = []

    def name(v: dict[str, Any]) -> Any:
        return v.get("title") or v.get("$ref")

    for was in list(left):
        match = [now for now in right if name(was) and name(now) == name(was)]
        if len(match) == 1:
            pairs.append((was, match[0]))
            left.remove(was)
            right.remove(match[0])
    shapes = {id(v): _signature(v) for v in (*left, *right)}  # once each, not per pairing
    for was in list(left):
        match = [now for now in right if shapes[id(now)] == shapes[id(was)]]
        if match:
            pairs.append((was, match[0]))
            left.remove(was)
            right.remove(match[0])
    if len(left) == len(right):
        pairs.extend(zip(left, right, strict=True))
        left, right = [], []
    elif len(right) == 1 and len(new) == 1:
        # Alternatives merged into one schema: each old one is compared with it.
        pairs.extend((was, right[0]) for was in left)
        left, right = [], []
    elif len(left) == 1 and len(old) == 1:
        pairs.extend((left[0], now) for now in right)
        left, right = [], []
    return pairs, left, right


# --------------------------------------------------------------------------- the report


def diff(old: Document, new: Document) -> list[Change]:
    """Every change of the API surface from `old` to `new` (notes included)."""
    return Comparison(old, new).run()


def is_breaking(changes: Iterable[Change]) -> bool:
    return any(c.breaking for c in changes)


def render(changes: list[Change], *, identical: bool = False) -> str:
    """Grouped by operation (breaking ones first), then request side and response side."""
    real = [c for c in changes if c.severity is not Severity.NOTE]
    if not real:
        head = [
            "No API change"
            + (
                "."
                if identical
                else " (what differs is documentation: descriptions, examples, summaries, "
                "unused components, keywords OpenAPI 3 ignores)."
            )
        ]
    else:
        counts = {s: sum(c.severity is s for c in real) for s in Severity if s is not Severity.NOTE}
        parts = [f"{n} {TAGS[s]}" for s, n in counts.items() if n]
        head = [f"{len(real)} API change(s): " + ", ".join(parts) + "."]
    groups: dict[str, list[Change]] = {}
    for change in changes:
        groups.setdefault(change.operation, []).append(change)

    def urgency(name: str) -> tuple[int, int]:
        return (min(c.severity for c in groups[name]), 0 if name == WHOLE_API else 1)

    lines = head
    for name in sorted(groups, key=urgency):
        lines.append("")
        lines.append(name)
        for side in SIDES:
            members = sorted((c for c in groups[name] if c.side == side), key=lambda c: c.severity)
            lines += [f"  {c.line()}" for c in members if c.severity is not Severity.NOTE]
            lines += [f"  {line}" for line in _notes(members)]
    return "\n".join(lines)


def _notes(changes: list[Change]) -> list[str]:
    """Notes that say the same thing about several places, as one line naming them all."""
    places: dict[tuple[str, str], list[str]] = {}
    for change in changes:
        if change.severity is Severity.NOTE:
            where, _, what = change.text.partition(": ")
            places.setdefault((change.side, what), []).append(where)
    side_word = {"request": "request ", "response": "response "}
    return [
        f"{TAGS[Severity.NOTE]}: {side_word.get(side, '')}{', '.join(wheres)}: {what}"
        for (side, what), wheres in places.items()
    ]


def compare_files(old_path: Path, new_path: Path) -> tuple[list[Change], str]:
    (old_doc, old_text), (new_doc, new_text) = load_with_text(old_path), load_with_text(new_path)
    changes = diff(old_doc, new_doc)
    return changes, render(changes, identical=old_text == new_text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="spec-diff",
        description="Print every API change from OLD to NEW; exit 1 if any breaks callers.",
    )
    parser.add_argument("old", type=Path, metavar="OLD.yaml")
    parser.add_argument("new", type=Path, metavar="NEW.yaml")
    args = parser.parse_args(argv)
    try:
        changes, text = compare_files(args.old, args.new)
    except SpecError as exc:
        print(f"spec-diff: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except RecursionError:
        print("spec-diff: a document is nested too deeply to compare", file=sys.stderr)
        return 2
    except MemoryError:
        # Exit 1 would read as "breaking"; running out of memory says nothing about the API.
        print("spec-diff: out of memory reading or comparing the documents", file=sys.stderr)
        return 2
    print(text)
    return 1 if is_breaking(changes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
