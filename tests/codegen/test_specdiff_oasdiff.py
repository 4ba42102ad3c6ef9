"""spec-diff held against oasdiff's rule families (issue 25; the table is docs/spec-gate.md).

Each case is a pair of revisions, the verdict and the exact line spec-diff prints for it. The
pairs are edits of the small API in test_specdiff_rules (BASE), and a few of oasdiff's own
checker test documents, copied verbatim into tests/codegen/oasdiff/ (see its README: source
commit, Apache-2.0 licence).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from codegen import spec_io
from codegen.specdiff import Severity, diff, main, render
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.codegen.test_specdiff_cli import VALUES, WHERE
from tests.codegen.test_specdiff_limits import _fan_out
from tests.codegen.test_specdiff_rules import (
    API_RULES,
    BASE,
    DOCUMENTATION_ONLY,
    REQUEST_RULES,
    RESPONSE_RULES,
    SAME_MEANING,
)

OASDIFF = Path(__file__).with_name("oasdiff")
Doc = dict[str, Any]
Edit = Callable[[Doc], None]


def _put(doc: Doc) -> Doc:
    op: Doc = doc["paths"]["/things/{id}"]["put"]
    return op


def _param(doc: Doc, name: str) -> Doc:
    (found,) = [p for p in _put(doc)["parameters"] if p["name"] == name]
    return found


def _in(doc: Doc) -> Doc:
    props: Doc = doc["components"]["schemas"]["ThingIn"]["properties"]
    return props


def _out(doc: Doc) -> Doc:
    props: Doc = doc["components"]["schemas"]["Thing"]["properties"]
    return props


def _with(*edits: Edit) -> Doc:
    doc = copy.deepcopy(BASE)
    for edit in edits:
        edit(doc)
    return doc


def _oauth(scopes: list[str]) -> Edit:
    def edit(doc: Doc) -> None:
        doc["components"]["securitySchemes"]["oauth"] = {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "https://auth.example.com/token",
                    "scopes": {"read": "read things", "write": "write things"},
                }
            },
        }
        _put(doc)["security"] = [{"oauth": scopes}]

    return edit


def _default_response(doc: Doc) -> None:
    _put(doc)["responses"]["default"] = {
        "description": "Any other error.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }


def _pets_body(discriminator: Doc | None) -> Edit:
    """The request body as oneOf Dog | Cat, told apart by `petType` when `discriminator`."""

    def edit(doc: Doc) -> None:
        schemas = doc["components"]["schemas"]
        for name in ("Dog", "Cat", "Lizard"):
            schemas[name] = {
                "type": "object",
                "required": ["petType"],
                "properties": {"petType": {"type": "string"}, "name": {"type": "string"}},
            }
        body: Doc = {
            "oneOf": [
                {"$ref": "#/components/schemas/Dog"},
                {"$ref": "#/components/schemas/Cat"},
            ]
        }
        if discriminator is not None:
            body["discriminator"] = copy.deepcopy(discriminator)
        _put(doc)["requestBody"]["content"]["application/json"]["schema"] = body

    return edit


MAPPING = {"propertyName": "petType", "mapping": {"dog": "Dog", "cat": "#/components/schemas/Cat"}}


def _set(where: Callable[[Doc], Doc], key: str, value: Any) -> Edit:
    return lambda doc: where(doc).__setitem__(key, copy.deepcopy(value))


def _drop(where: Callable[[Doc], Doc], key: str) -> Edit:
    return lambda doc: where(doc).pop(key)


SUNSET_OP = "2027-06-30"


def _deprecated_op(sunset: Any) -> Edit:
    def edit(doc: Doc) -> None:
        _put(doc)["deprecated"] = True
        if sunset is not None:
            _put(doc)["x-sunset"] = sunset

    return edit


def _deprecated_param(sunset: Any) -> Edit:
    def edit(doc: Doc) -> None:
        _param(doc, "verbose")["deprecated"] = True
        if sunset is not None:
            _param(doc, "verbose")["x-sunset"] = sunset

    return edit


# (id, old edits, new edits, exit status, lines spec-diff prints under the operation)
Case = tuple[str, list[Edit], list[Edit], int, list[str]]

NOT_BREAKING, BREAKING = 0, 1

# Issue 25's table, one case per row (and per alternative the row names).
ISSUE_ROWS: list[Case] = [
    (
        "oauth-scope-removed",
        [_oauth(["read", "write"])],
        [_oauth(["write"])],
        NOT_BREAKING,
        ["not breaking: request security oauth2 oauth [read, write] -> oauth2 oauth [write]"],
    ),
    (
        "non-success-status-removed",
        [],
        [_drop(lambda doc: _put(doc)["responses"], "404")],
        NOT_BREAKING,
        [
            "not breaking: response status 404 removed (not a success: our client maps "
            "undeclared statuses to errors anyway)"
        ],
    ),
    (
        "default-response-removed",
        [_default_response],
        [],
        NOT_BREAKING,
        [
            "not breaking: response default response removed (undeclared statuses are errors "
            "to our client anyway)"
        ],
    ),
    (
        "default-added-to-optional-parameter",
        [],
        [_set(lambda doc: _param(doc, "verbose")["schema"], "default", False)],
        BREAKING,
        [
            "BREAKING: request query parameter verbose: default false added (a call that "
            "omits it now sends it)"
        ],
    ),
    (
        "default-changed",
        [_set(lambda doc: _param(doc, "verbose")["schema"], "default", False)],
        [_set(lambda doc: _param(doc, "verbose")["schema"], "default", True)],
        BREAKING,
        [
            "BREAKING: request query parameter verbose: default false -> true (a call that "
            "omits it now sends the new value)"
        ],
    ),
    (
        "default-removed",
        [_set(lambda doc: _param(doc, "verbose")["schema"], "default", False)],
        [],
        BREAKING,
        [
            "BREAKING: request query parameter verbose: default false removed (a call that "
            "omits it no longer sends it)"
        ],
    ),
    (
        "response-header-no-longer-required",
        [_set(lambda doc: _put(doc)["responses"]["200"]["headers"]["X-Rate"], "required", True)],
        [],
        BREAKING,
        ["BREAKING: response 200 header x-rate: no longer always sent"],
    ),
    (
        "parameter-deprecated",
        [],
        [_set(lambda doc: _param(doc, "verbose"), "deprecated", True)],
        NOT_BREAKING,
        ["not breaking: request query parameter verbose: now deprecated"],
    ),
    (
        "discriminator-added-to-request-body",
        [_pets_body(None)],
        [_pets_body({"propertyName": "petType"})],
        NOT_BREAKING,
        ["not breaking: request body: now tells alternatives apart by petType"],
    ),
    (
        "discriminator-mapping-changed",
        [_pets_body(MAPPING)],
        [
            _pets_body(MAPPING),
            lambda doc: _put(doc)["requestBody"]["content"]["application/json"]["schema"][
                "discriminator"
            ]["mapping"].update(cat="Lizard"),
        ],
        BREAKING,
        ["BREAKING: request body: petType cat maps to Cat -> Lizard"],
    ),
    (
        "x-extensible-enum-value-removed-from-parameter",
        [_set(lambda doc: _param(doc, "x-trace")["schema"], "x-extensible-enum", ["a", "b"])],
        [_set(lambda doc: _param(doc, "x-trace")["schema"], "x-extensible-enum", ["a"])],
        BREAKING,
        ['BREAKING: request header parameter x-trace: x-extensible-enum lost ["b"]'],
    ),
    (
        "x-sunset-deleted-endpoint",
        [_deprecated_op(SUNSET_OP)],
        [_deprecated_op(None)],
        NOT_BREAKING,
        ["not breaking: sunset 2027-06-30 deleted (no end date announced any more)"],
    ),
    (
        "x-sunset-earlier-endpoint",
        [_deprecated_op(SUNSET_OP)],
        [_deprecated_op("2026-12-31")],
        NOT_BREAKING,
        ["not breaking: sunset 2027-06-30 -> 2026-12-31 (earlier: less time to migrate)"],
    ),
    (
        "x-sunset-deleted-parameter",
        [_deprecated_param("2027-06-30")],
        [_deprecated_param(None)],
        NOT_BREAKING,
        [
            "not breaking: request query parameter verbose: sunset 2027-06-30 deleted (no end "
            "date announced any more)"
        ],
    ),
    (
        "x-sunset-earlier-parameter",
        [_deprecated_param("2027-06-30")],
        [_deprecated_param("2027-01-01")],
        NOT_BREAKING,
        [
            "not breaking: request query parameter verbose: sunset 2027-06-30 -> 2027-01-01 "
            "(earlier: less time to migrate)"
        ],
    ),
]

# One pair per oasdiff rule family that the issue's table does not already cover.
FAMILIES: list[Case] = [
    (
        "request: new required property (new-required-request-property, ERR)",
        [],
        [
            _set(_in, "color", {"type": "string"}),
            lambda doc: doc["components"]["schemas"]["ThingIn"]["required"].append("color"),
        ],
        BREAKING,
        ["BREAKING: request body: new required field color (string)"],
    ),
    (
        "request: optional property removed (request-property-removed, WARN)",
        [],
        [_drop(_in, "note")],
        BREAKING,
        ["BREAKING: request body: field note removed"],
    ),
    (
        "response: optional property removed (response-optional-property-removed, WARN)",
        [],
        [_drop(_out, "label")],
        BREAKING,
        ["BREAKING: response 200 body: field label removed"],
    ),
    (
        "response: success status removed (response-success-status-removed, ERR)",
        [],
        [_drop(lambda doc: _put(doc)["responses"], "200")],
        BREAKING,
        ["BREAKING: response status 200 removed"],
    ),
    (
        "response: max length unset (response-property-max-length-unset, ERR)",
        [_set(lambda doc: _out(doc)["label"], "maxLength", 10)],
        [],
        NOT_BREAKING,
        [
            "not breaking for our default client (it reads forward-compatibly): response 200 "
            "body field label: maximum length 10 -> (none)"
        ],
    ),
    (
        "parameters: became required (request-parameter-became-required, ERR)",
        [],
        [_set(lambda doc: _param(doc, "verbose"), "required", True)],
        BREAKING,
        ["BREAKING: request query parameter verbose: now required"],
    ),
    (
        "parameters: became enum (request-parameter-became-enum, ERR)",
        [],
        [_set(lambda doc: _param(doc, "x-trace")["schema"], "enum", ["on"])],
        BREAKING,
        ['BREAKING: request header parameter x-trace: now limited to ["on"]'],
    ),
    (
        "headers: response header removed (optional-response-header-removed, WARN)",
        [],
        [_drop(lambda doc: _put(doc)["responses"]["200"], "headers")],
        BREAKING,
        ["BREAKING: response 200 header x-rate removed"],
    ),
    (
        "headers: response header became required (no oasdiff rule)",
        [],
        [_set(lambda doc: _put(doc)["responses"]["200"]["headers"]["X-Rate"], "required", True)],
        NOT_BREAKING,
        ["not breaking: response 200 header x-rate: now always sent"],
    ),
    (
        "security: scope added (api-security-scope-added, INFO)",
        [_oauth(["write"])],
        [_oauth(["read", "write"])],
        BREAKING,
        ["BREAKING: request security oauth2 oauth [write] -> oauth2 oauth [read, write]"],
    ),
    (
        "enums: request enum value removed (request-property-enum-value-removed, ERR)",
        [],
        [_set(lambda doc: _in(doc)["kind"], "enum", ["a"])],
        BREAKING,
        ['BREAKING: request body field kind: enum lost ["b"]'],
    ),
    (
        "enums: response enum value added (response-property-enum-value-added, WARN)",
        [],
        [_set(lambda doc: _out(doc)["kind"], "enum", ["a", "b", "c"])],
        NOT_BREAKING,
        [
            "not breaking for our default client (it reads forward-compatibly): response 200 "
            'body field kind: enum gained ["c"]'
        ],
    ),
    (
        "enums: x-extensible-enum value removed from a request property "
        "(request-property-x-extensible-enum-value-removed, ERR)",
        [_set(lambda doc: _in(doc)["note"], "x-extensible-enum", ["x", "y"])],
        [_set(lambda doc: _in(doc)["note"], "x-extensible-enum", ["x"])],
        BREAKING,
        ['BREAKING: request body field note: x-extensible-enum lost ["y"]'],
    ),
    (
        "enums: x-extensible-enum value removed from a response (no oasdiff rule)",
        [_set(lambda doc: _out(doc)["label"], "x-extensible-enum", ["x", "y"])],
        [_set(lambda doc: _out(doc)["label"], "x-extensible-enum", ["x"])],
        NOT_BREAKING,
        ['not breaking: response 200 body field label: x-extensible-enum lost ["y"]'],
    ),
    (
        "composition: oneOf alternative removed from a request (request-body-one-of-removed, ERR)",
        [
            _pets_body(None),
            lambda doc: _put(doc)["requestBody"]["content"]["application/json"]["schema"][
                "oneOf"
            ].append({"$ref": "#/components/schemas/Lizard"}),
        ],
        [_pets_body(None)],
        BREAKING,
        ["BREAKING: request body: alternative Lizard no longer accepted"],
    ),
    (
        "composition: discriminator property name changed "
        "(request-body-discriminator-property-name-changed, INFO)",
        [_pets_body({"propertyName": "petType"})],
        [_pets_body({"propertyName": "name"})],
        BREAKING,
        ["BREAKING: request body: alternatives told apart by petType -> name"],
    ),
    (
        "composition: discriminator mapping value added (request-body-discriminator-mapping-"
        "added, INFO)",
        [_pets_body(MAPPING)],
        [
            _pets_body(MAPPING),
            lambda doc: _put(doc)["requestBody"]["content"]["application/json"]["schema"][
                "discriminator"
            ]["mapping"].update(kitty="Cat"),
        ],
        NOT_BREAKING,
        ["not breaking: request body: petType kitty now maps to Cat"],
    ),
    (
        "defaults: response property default changed (response-property-default-value-"
        "changed, INFO)",
        [_set(lambda doc: _out(doc)["label"], "default", "x")],
        [_set(lambda doc: _out(doc)["label"], "default", "y")],
        NOT_BREAKING,
        ["not breaking: response 200 body field label: default x -> y"],
    ),
    (
        "defaults: request property default added (request-property-default-value-added, INFO)",
        [],
        [_set(lambda doc: _in(doc)["note"], "default", "n/a")],
        BREAKING,
        [
            "BREAKING: request body field note: default n/a added (a call that omits it now "
            "sends it)"
        ],
    ),
    (
        "defaults: default added to a required property (no call changes)",
        [],
        [_set(lambda doc: _in(doc)["name"], "default", "box")],
        NOT_BREAKING,
        ["not breaking: request body field name: default box added"],
    ),
    (
        "deprecation: endpoint deprecated (endpoint-deprecated, INFO)",
        [],
        [_deprecated_op(None)],
        NOT_BREAKING,
        ["not breaking: now deprecated"],
    ),
    (
        "deprecation: endpoint reactivated (endpoint-reactivated, INFO)",
        [_deprecated_op(None)],
        [],
        NOT_BREAKING,
        ["not breaking: no longer deprecated"],
    ),
    (
        "deprecation: property deprecated (request-property-deprecated, INFO)",
        [],
        [_set(lambda doc: _in(doc)["note"], "deprecated", True)],
        NOT_BREAKING,
        ["not breaking: request body field note: now deprecated"],
    ),
    (
        "deprecation: parameter reactivated (request-parameter-reactivated, INFO)",
        [_set(lambda doc: _param(doc, "verbose"), "deprecated", True)],
        [],
        NOT_BREAKING,
        ["not breaking: request query parameter verbose: no longer deprecated"],
    ),
    (
        "sunset: announced (no oasdiff rule)",
        [_deprecated_op(None)],
        [_deprecated_op(SUNSET_OP)],
        NOT_BREAKING,
        ["not breaking: sunset 2027-06-30 announced"],
    ),
    (
        "paths: operationId changed (api-operation-id-removed, INFO)",
        [],
        [_set(_put, "operationId", "replaceThing")],
        BREAKING,
        ["BREAKING: operationId putThing -> replaceThing (the generated function is renamed)"],
    ),
    (
        "paths: first tag changed (api-tag-removed/added, INFO)",
        [_set(_put, "tags", ["things"])],
        [_set(_put, "tags", ["items"])],
        BREAKING,
        [
            'BREAKING: tags ["things"] -> ["items"] (the first tag names the generated '
            "function's module: it moves)"
        ],
    ),
    (
        "request: a JSON Schema keyword no rule reads (request-property-property-names-added, ERR)",
        [],
        [_set(lambda doc: _in(doc)["tags"], "contains", {"const": "urgent"})],
        BREAKING,
        ['BREAKING: request body field tags: keyword contains added ({"const": "urgent"})'],
    ),
    (
        "response: a JSON Schema keyword removed (response-property-contains-removed, ERR)",
        [_set(lambda doc: _out(doc)["tags"], "contains", {"const": "urgent"})],
        [],
        NOT_BREAKING,
        [
            "not breaking for our default client (it reads forward-compatibly): response 200 "
            "body field tags: keyword contains removed"
        ],
    ),
    (
        "request: map values (additionalProperties) narrowed (request-property-type-changed, ERR)",
        [_set(_in, "extra", {"type": "object", "additionalProperties": {"type": "string"}})],
        [_set(_in, "extra", {"type": "object", "additionalProperties": {"type": "integer"}})],
        BREAKING,
        ["BREAKING: request body field extra.*: type string -> integer"],
    ),
    (
        "parameters: serialization style changed (oasdiff: diff only, data/explode-params)",
        [],
        [_set(lambda doc: _param(doc, "verbose"), "explode", False)],
        BREAKING,
        ["BREAKING: request query parameter verbose: explode (default) -> false"],
    ),
    (
        "paths: operation servers replaced (no oasdiff rule)",
        [],
        [_set(_put, "servers", [{"url": "https://things.example.com"}])],
        BREAKING,
        [
            "BREAKING: base URL https://api.example.com/v1 -> https://things.example.com "
            "(callers using the old one break)"
        ],
    ),
    (
        "deprecation: stability decreased (api-stability-decreased, ERR)",
        [_set(_put, "x-stability-level", "stable")],
        [_set(_put, "x-stability-level", "beta")],
        NOT_BREAKING,
        ["not breaking: stability stable -> beta (lower)"],
    ),
    (
        "paths: callback removed (no oasdiff rule; data/callbacks)",
        [_set(_put, "callbacks", {"done": {"{$request.body#/url}": {"post": {"responses": {}}}}})],
        [],
        NOT_BREAKING,
        ["not breaking: callback done removed"],
    ),
    (
        "paths: another tag added (api-tag-added, INFO)",
        [_set(_put, "tags", ["things"])],
        [_set(_put, "tags", ["things", "beta"])],
        NOT_BREAKING,
        ['not breaking: tags ["things"] -> ["things", "beta"]'],
    ),
]


def _pair(case: Case) -> tuple[Doc, Doc]:
    _name, old_edits, new_edits, _status, _lines = case
    return _with(*old_edits), _with(*new_edits)


@pytest.mark.parametrize("case", [*ISSUE_ROWS, *FAMILIES], ids=lambda c: c[0])
def test_verdict_and_line(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    name, _old, _new, status, lines = case
    old, new = _pair(case)
    changes = diff(old, new)
    text = render(changes)
    assert text.splitlines()[2].endswith(" (PUT /things/{id})"), text
    assert text.splitlines()[3:] == [f"  {line}" for line in lines], text
    assert any(c.breaking for c in changes) == (status == BREAKING)
    old_path, new_path = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old_path.write_text(spec_io.dump(old), encoding="utf-8")
    new_path.write_text(spec_io.dump(new), encoding="utf-8")
    assert main([str(old_path), str(new_path)]) == status, name
    assert capsys.readouterr().out == text + "\n"


WHOLE_API_CASES: list[Case] = [
    (
        "paths: webhook removed (webhook-removed, ERR)",
        [lambda doc: doc.__setitem__("webhooks", {"thingChanged": {"post": {"responses": {}}}})],
        [],
        NOT_BREAKING,
        ["not breaking: webhook thingChanged removed"],
    ),
    (
        "security: OAuth token URL changed (api-security-component-oauth-token-url-changed, INFO)",
        [_oauth(["read"])],
        [
            _oauth(["read"]),
            lambda doc: doc["components"]["securitySchemes"]["oauth"]["flows"][
                "clientCredentials"
            ].update(tokenUrl="https://auth.example.com/v2/token"),
        ],
        NOT_BREAKING,
        [
            "not breaking: security scheme oauth: clientCredentials tokenUrl "
            "https://auth.example.com/token -> https://auth.example.com/v2/token"
        ],
    ),
    (
        "security: OAuth scope no longer offered (api-security-component-oauth-scope-removed, "
        "INFO)",
        [_oauth(["read"])],
        [
            _oauth(["read"]),
            lambda doc: doc["components"]["securitySchemes"]["oauth"]["flows"]["clientCredentials"][
                "scopes"
            ].pop("write"),
        ],
        NOT_BREAKING,
        ["not breaking: security scheme oauth: clientCredentials scope write no longer offered"],
    ),
]


@pytest.mark.parametrize("case", WHOLE_API_CASES, ids=lambda c: c[0])
def test_whole_api_verdict_and_line(case: Case) -> None:
    _name, _old, _new, status, lines = case
    changes = diff(*_pair(case))
    assert render(changes).splitlines()[2:] == ["the whole API", *(f"  {x}" for x in lines)]
    assert any(c.breaking for c in changes) == (status == BREAKING)


# oasdiff's own checker documents (data/checker/), and what oasdiff's tests expect of them.
OASDIFF_PAIRS = [
    (
        "api_security_updated_base",
        "api_security_updated_revision",
        "api-security-scope-removed (INFO)",
        NOT_BREAKING,
        [
            "(POST /subscribe)",
            "  not breaking: request security oauth2 petstore_auth [read:pets, write:pets] -> "
            "oauth2 petstore_auth [write:pets]",
        ],
    ),
    (
        "request_parameter_extensible_enum_base",
        "request_parameter_extensible_enum_revision",
        "request-parameter-x-extensible-enum-value-removed (ERR)",
        BREAKING,
        [
            "createOneGroup (POST /api/v1.0/groups)",
            '  BREAKING: request path parameter groupId: x-extensible-enum lost ["2"]',
        ],
    ),
    (
        "request_parameter_default_value_changed_base",
        "request_parameter_default_value_changed_revision",
        "request-parameter-default-value-changed (ERR)",
        BREAKING,
        [
            "createOneGroup (POST /api/v1.0/groups)",
            "  BREAKING: request query parameter category: default default_category -> "
            "updated_category (a call that omits it now sends the new value)",
        ],
    ),
    (
        "request_property_discriminator_added_base",
        "request_property_discriminator_added_revision",
        "request-body-discriminator-added, request-property-discriminator-added (INFO)",
        NOT_BREAKING,
        [
            "updatePets (POST /pets)",
            "  not breaking: request body: now tells alternatives apart by petType",
            "  not breaking: request body (alternative Dog) field breed: now tells alternatives "
            "apart by name",
        ],
    ),
    (
        "request_property_discriminator_added_revision",
        "request_property_discriminator_mapping_changed",
        "request-body-discriminator-mapping-changed and -deleted/-added (INFO)",
        BREAKING,
        [
            "updatePets (POST /pets)",
            "  BREAKING: request body: petType cat no longer maps to Cat",
            "  BREAKING: request body (alternative Dog) field breed: name breed1 no longer maps "
            "to Breed1",
            "  BREAKING: request body (alternative Dog) field breed: name breed2 maps to Breed2 "
            "-> Breed3",
            "  not breaking: request body: petType cats now maps to Cat",
            "  not breaking: request body (alternative Dog) field breed: name breed1Code now "
            "maps to Breed1",
        ],
    ),
]


@pytest.mark.parametrize("pair", OASDIFF_PAIRS, ids=lambda p: p[2])
def test_oasdiff_checker_documents(
    pair: tuple[str, str, str, int, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new, _rule, status, lines = pair
    assert main([str(OASDIFF / f"{old}.yaml"), str(OASDIFF / f"{new}.yaml")]) == status
    out = capsys.readouterr().out
    assert out.splitlines()[2:] == lines, out


def test_oasdiff_documents_are_recorded_with_their_source() -> None:
    readme = (OASDIFF / "README.md").read_text(encoding="utf-8")
    assert "Apache License" in (OASDIFF / "LICENSE").read_text(encoding="utf-8")
    for path in OASDIFF.glob("*.yaml"):
        assert f"`{path.name}`" in readme, path.name


# ------------------------------------------------------------------ never "No API change"


def _all_pairs() -> list[tuple[str, Doc, Doc]]:
    """Every pair of revisions the spec-diff tests hold where the API changed, both ways."""
    pairs = []
    for case in [*ISSUE_ROWS, *FAMILIES, *WHOLE_API_CASES]:
        old, new = _pair(case)
        pairs += [(case[0], old, new), (case[0] + " (reverse)", new, old)]
    for rule in [*REQUEST_RULES, *RESPONSE_RULES, *API_RULES]:
        edited = copy.deepcopy(BASE)
        rule[1](edited)
        pairs += [(rule[0], BASE, edited), (rule[0] + " (reverse)", edited, BASE)]
    for old_name, new_name, rule_id, _status, _lines in OASDIFF_PAIRS:
        old, new = (spec_io.load(OASDIFF / f"{n}.yaml") for n in (old_name, new_name))
        pairs += [(rule_id, old, new), (rule_id + " (reverse)", new, old)]
    pairs.append(("fan-out", _fan_out(12, "string"), _fan_out(12, "integer")))
    return pairs


ALL_PAIRS = _all_pairs()


@pytest.mark.parametrize("pair", ALL_PAIRS, ids=lambda p: p[0])
def test_no_pair_that_changes_the_api_says_no_api_change(pair: tuple[str, Doc, Doc]) -> None:
    name, old, new = pair
    assert old != new, name
    text = render(diff(old, new))
    assert not text.startswith("No API change"), (name, text)


def test_documentation_only_and_same_meaning_pairs_still_say_no_api_change() -> None:
    """The other side of the same promise: the assertion above is not vacuous."""
    for edit in DOCUMENTATION_ONLY:
        edited = copy.deepcopy(BASE)
        edit(edited)
        assert render(diff(BASE, edited)).startswith("No API change"), edit
    for _name, edit in SAME_MEANING:
        edited = copy.deepcopy(BASE)
        edit(edited)
        assert render(diff(BASE, edited)).startswith("No API change"), _name


# ------------------------------------------------------------------ and never a change from nothing


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(WHERE, VALUES), min_size=1, max_size=3))
def test_a_document_compared_with_its_copy_has_no_change(edits: list[tuple[Any, Any]]) -> None:
    """Junk anywhere in the real spec (NaN defaults, odd sunsets, tags, discriminators, ...):
    the document against a deep copy of itself is never a change, so no rule reports on values
    that are equal but not `==` (YAML's .nan)."""
    doc = copy.deepcopy(spec_io.load(spec_io.UPSTREAM_SPEC))
    for path, value in edits:
        node: Any = doc
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    try:
        changes = diff(doc, copy.deepcopy(doc))
    except spec_io.SpecError:
        return
    assert [c for c in changes if c.severity is not Severity.NOTE] == []


@pytest.mark.parametrize(
    "key,value",
    [
        ("default", float("nan")),
        ("x-sunset", float("nan")),
        ("format", float("nan")),
        ("x-extensible-enum", [float("nan")]),
    ],
)
def test_nan_is_no_change(key: str, value: Any) -> None:
    doc = _with(_set(lambda doc: _in(doc)["note"], key, value), _set(_put, key, value))
    assert diff(doc, copy.deepcopy(doc)) == []


@pytest.mark.parametrize(
    "where,line",
    [
        (
            lambda doc: doc["components"]["schemas"]["ThingIn"],
            "not breaking: request body: default {} added",
        ),
        (
            lambda doc: _in(doc)["tags"]["items"],
            "not breaking: request body field tags[]: default {} added",
        ),
        (
            lambda doc: doc["components"]["schemas"]["Thing"],
            "not breaking: response 200 body: default {} added",
        ),
    ],
    ids=["required-body", "array-items", "response-body"],
)
def test_defaults_outside_named_fields_are_reported(where: Callable[[Doc], Doc], line: str) -> None:
    """oasdiff's request-body-default-value-added and the like: a whole body's default, an
    item's, a response body's are named; no generated argument takes them, so no call changes."""
    changes = diff(BASE, _with(_set(where, "default", {})))
    assert render(changes).splitlines()[3:] == [f"  {line}"]


# Where the new rules read, and junk to put there (lists, mappings, NaN, huge numbers, nasty text).
NEW_RULE_SPOTS: list[tuple[Callable[[Doc], Doc], str]] = [
    (_put, "x-sunset"),
    (_put, "tags"),
    (_put, "callbacks"),
    (_put, "servers"),
    (_put, "x-stability-level"),
    (lambda doc: _param(doc, "verbose"), "x-sunset"),
    (lambda doc: _param(doc, "verbose"), "style"),
    (lambda doc: _param(doc, "verbose"), "deprecated"),
    (lambda doc: _param(doc, "verbose")["schema"], "default"),
    (lambda doc: _param(doc, "x-trace")["schema"], "x-extensible-enum"),
    (lambda doc: _in(doc)["kind"], "discriminator"),
    (lambda doc: _in(doc)["tags"], "contains"),
    (lambda doc: _in(doc)["note"], "default"),
    (lambda doc: _put(doc)["responses"]["200"]["headers"]["X-Rate"], "required"),
    (lambda doc: doc, "webhooks"),
    (lambda doc: doc["components"]["securitySchemes"]["key"], "flows"),
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from(range(len(NEW_RULE_SPOTS))), VALUES), min_size=1, max_size=4)
)
def test_junk_where_the_new_rules_read_is_reported_or_refused(
    edits: list[tuple[int, Any]],
) -> None:
    revised = copy.deepcopy(BASE)
    for spot, value in edits:
        where, key = NEW_RULE_SPOTS[spot]
        where(revised)[key] = value
    for old, new in ((BASE, revised), (revised, BASE)):
        try:
            changes = diff(old, new)
        except spec_io.SpecError as exc:
            assert "\n" not in str(exc)
            continue
        for line in render(changes).splitlines():
            assert line.isprintable(), line
