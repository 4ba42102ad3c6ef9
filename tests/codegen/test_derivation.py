"""The derivation adds only what its additions say, and its refactorings change no meaning."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from codegen import spec_io, steps
from codegen.derive import apply, derive
from codegen.specdiff import diff
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.codegen.schemas import request_schemas, response_schemas, strategy

UPSTREAM = spec_io.load(spec_io.UPSTREAM_SPEC)
WITH_ADDITIONS = apply(UPSTREAM, steps.ADDITIONS)
DERIVED = derive(UPSTREAM, spec_io.UPSTREAM_SPEC)

PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def test_vendored_spec_is_upstream_byte_for_byte() -> None:
    digest = hashlib.sha256(spec_io.UPSTREAM_SPEC.read_bytes()).hexdigest()
    assert digest == "3616e7777c6d4b7a9ad54cc2e8417efd15a7c68d567cb9817d3b4302d0af406b"


def test_derivation_is_deterministic_and_committed() -> None:
    first = spec_io.dump(derive(UPSTREAM, spec_io.UPSTREAM_SPEC))
    second = spec_io.dump(derive(spec_io.load(spec_io.UPSTREAM_SPEC), spec_io.UPSTREAM_SPEC))
    assert first == second
    assert spec_io.DERIVED_SPEC.read_text(encoding="utf-8") == first


def test_derived_spec_is_valid_openapi() -> None:
    from openapi_spec_validator import validate

    validate(DERIVED)


def test_every_step_is_declared_with_a_reason() -> None:
    for step in [*steps.ADDITIONS, *steps.REFACTORINGS]:
        assert step.reason.strip(), step.name
    assert {s.kind for s in steps.ADDITIONS} == {"addition"}
    assert {s.kind for s in steps.REFACTORINGS} == {"refactoring"}
    recorded = DERIVED["info"]["x-derivation"]["steps"]
    assert [s["name"] for s in recorded] == [
        s.name for s in [*steps.ADDITIONS, *steps.REFACTORINGS]
    ]


# --------------------------------------------------------------- refactorings keep meaning

RESPONSES_A = response_schemas(WITH_ADDITIONS)
RESPONSES_D = response_schemas(DERIVED)
REQUESTS_A = request_schemas(WITH_ADDITIONS)
REQUESTS_D = request_schemas(DERIVED)


def _valid(schema: Any, document: Any) -> bool:
    return jsonschema.Draft4Validator(schema).is_valid(document)


def test_same_operations_statuses_and_bodies() -> None:
    assert RESPONSES_A.keys() == RESPONSES_D.keys()
    assert REQUESTS_A.keys() == REQUESTS_D.keys()


def assert_same_meaning(left: Any, right: Any) -> None:
    """Every document drawn from either schema is valid under both."""

    @PROPERTY_SETTINGS
    @given(
        st.one_of(
            strategy(left).map(lambda doc: ("additions", doc)),
            strategy(right).map(lambda doc: ("derived", doc)),
        )
    )
    def check(drawn: tuple[str, Any]) -> None:
        origin, document = drawn
        assert _valid(left, document) and _valid(right, document), (origin, document)

    check()


@pytest.mark.parametrize("key", sorted(RESPONSES_A), ids=lambda k: f"{k[0]}-{k[1]}")
def test_response_bodies_mean_the_same(key: tuple[str, str]) -> None:
    assert_same_meaning(RESPONSES_A[key], RESPONSES_D[key])


@pytest.mark.parametrize("operation_id", sorted(REQUESTS_A))
def test_request_bodies_mean_the_same(operation_id: str) -> None:
    assert_same_meaning(REQUESTS_A[operation_id], REQUESTS_D[operation_id])


# --------------------------------------------------------------- nothing disappears


def test_the_derivation_breaks_only_what_its_additions_say() -> None:
    """Upstream -> derived through spec-diff: the refactorings (API key as a security scheme,
    one Error model, no readOnly fields in the create body, ...) are no change to a caller;
    every breaking change is an addition's, and nothing disappears."""
    changes = diff(UPSTREAM, DERIVED)
    breaking = {(c.operation.split()[0], c.kind, c.text) for c in changes if c.breaking}
    phone = r"body field phone: pattern (none) -> ^\+[1-9]\d{1,14}$"
    assert breaking == {
        ("createSubscriber", "pattern-added", phone),  # phone-e164-pattern
        ("updateSubscriber", "pattern-added", phone),
        ("updateSubscriber", "body-now-required", "body: now required"),  # bodies-required
        ("addSubscriberToSegment", "body-now-required", "body: now required"),
        (
            "addSubscriberToSegment",
            "property-now-required",
            "body field segmentationLists: now required",
        ),
        (
            "addSubscriberToSegment",
            "minItems-narrowed",
            "body field segmentationLists: minimum item count (none) -> 1",
        ),
    }
    # Everything else: statuses the prose promises and fields it says are always there.
    # (anyOf error alternatives merging into one Error compare one by one: no "removed".)
    others = {c.kind for c in changes if not c.breaking}
    assert others == {"status-added", "property-now-required", "pattern-added"}, others


UPSTREAM_RESPONSES = response_schemas(UPSTREAM)


@pytest.mark.parametrize("key", sorted(UPSTREAM_RESPONSES), ids=lambda k: f"{k[0]}-{k[1]}")
def test_upstream_documents_stay_valid_unless_an_addition_says_otherwise(
    key: tuple[str, str],
) -> None:
    @PROPERTY_SETTINGS
    @given(strategy(UPSTREAM_RESPONSES[key]))
    def check(document: Any) -> None:
        if not _valid(RESPONSES_D[key], document):
            # Only an addition may reject what upstream accepts.
            assert not _valid(RESPONSES_A[key], document), (key, document)

    check()


# --------------------------------------------------------------- each addition is there


def _without(step_name: str) -> dict[str, Any]:
    kept = [s for s in [*steps.ADDITIONS, *steps.REFACTORINGS] if s.name != step_name]
    return apply(UPSTREAM, kept)


@pytest.mark.parametrize("step", steps.ADDITIONS, ids=lambda s: s.name)
def test_dropping_any_addition_changes_the_result(step: steps.Step) -> None:
    full = apply(UPSTREAM, [*steps.ADDITIONS, *steps.REFACTORINGS])
    assert _without(step.name) != full


def test_every_operation_declares_403_and_429() -> None:
    for _path, _method, op in spec_io.operations(DERIVED):
        assert {"403", "429"} <= set(op["responses"]), op["operationId"]
        assert "Retry-After" in op["responses"]["429"]["headers"]


def test_update_declares_400_and_422() -> None:
    put = DERIVED["paths"]["/subscriber/{email}"]["put"]
    assert {"400", "422"} <= set(put["responses"])


def test_request_id_is_required_in_every_response_body() -> None:
    for key, schema in RESPONSES_D.items():
        assert "requestId" in schema.get("required", []), key


def test_custom_field_example_is_a_string() -> None:
    field = DERIVED["components"]["schemas"]["CustomField"]["properties"]["value"]
    assert field["type"] == "string" and isinstance(field["example"], str)


def test_phone_fields_carry_the_e164_pattern() -> None:
    schemas = DERIVED["components"]["schemas"]
    for name in ("Subscriber", "SubscriberCreate", "SubscriberUpdate"):
        assert schemas[name]["properties"]["phone"]["pattern"] == steps.E164_PATTERN


def test_links_walk_create_get_update_add_remove() -> None:
    by_id = {op["operationId"]: op for _p, _m, op in spec_io.operations(DERIVED)}
    reachable = {"createSubscriber"}
    frontier = ["createSubscriber"]
    while frontier:
        op = by_id[frontier.pop()]
        for response in op["responses"].values():
            for link in response.get("links", {}).values():
                if link["operationId"] not in reachable:
                    reachable.add(link["operationId"])
                    frontier.append(link["operationId"])
    assert reachable == set(by_id)


# --------------------------------------------------------------- refactorings are there


def test_auth_is_a_security_scheme_on_every_operation() -> None:
    scheme = DERIVED["components"]["securitySchemes"]["ApiKeyAuth"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "x-api-key"}
    for path, _method, op in spec_io.operations(DERIVED):
        assert op["security"] == [{"ApiKeyAuth": []}]
        params = [*DERIVED["paths"][path].get("parameters", []), *op.get("parameters", [])]
        assert all(p["name"] != "x-api-key" for p in params)


def test_create_body_has_no_read_only_fields() -> None:
    schemas = DERIVED["components"]["schemas"]
    assert set(schemas["SubscriberCreate"]["properties"]).isdisjoint(
        {"id", "blacklistedAt", "unsubscribedAt", "createdAt", "updatedAt"}
    )
    assert "id" not in schemas["CustomFieldInput"]["properties"]


def test_error_bodies_share_one_model_and_keep_their_codes() -> None:
    for _path, _method, op in spec_io.operations(DERIVED):
        for status, response in op["responses"].items():
            media = response["content"]["application/json"]
            if status[0] in "45":
                assert media["schema"] == {"$ref": "#/components/schemas/Error"}
                assert media["examples"], (op["operationId"], status)
    remove_404 = DERIVED["paths"]["/segmentation/{id}/remove-subscriber/{email}"]["delete"]
    codes = {
        e["value"]["errorCode"]
        for e in remove_404["responses"]["404"]["content"]["application/json"]["examples"].values()
    }
    assert codes == {"SUBSCRIBER_NOT_FOUND", "SEGMENTATION_LIST_NOT_FOUND"}


@pytest.mark.slow  # the fast tier: scripts/test runs `scripts/regenerate --check` itself
def test_regenerate_output_is_current() -> None:
    from codegen.regenerate import main

    assert main(["--check"]) == 0


def test_generated_repo_path_exists() -> None:
    assert (Path(spec_io.REPO_ROOT) / "generated" / "pingback_client" / "client.py").exists()
