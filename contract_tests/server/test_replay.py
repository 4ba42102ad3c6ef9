"""Replay (`pingback contract --replay CASSETTE`): every response check over the exchanges a
recorded run saw, with no network, against the derived spec as it is *now*.

A recording of a live developer-mode run, taken once, keeps checking the API's real answers
against every later regeneration of the spec. Each recorded exchange is one test, named after
its position and request line, and every failure names the exchange. What a replay cannot
do, it does not pretend to: scenarios and sequences are not re-run (their exchanges are
checked one by one), probes are not sent (a recorded request without a valid key must have
been refused instead: `auth_refused`), 429s are skipped (they were retried while recording),
and the key, filtered from the cassette, is looked for as its `[redacted]` marker.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests
from schemathesis import Case, CheckContext, Response
from schemathesis.core.failures import FailureGroup

from pingback_ext.contract.cassette import Cassette, Exchange, read_har
from pingback_ext.contract.redaction import REDACTED

from . import harness
from .checks import ContractCheckFailed, answer_matches_request
from .spec_facts import SPEC_FACTS

RUNTIME = harness.runtime()
TARGET = RUNTIME.target
CASSETTE = read_har(TARGET.replay) if TARGET.replay is not None else Cassette("", False, [])
#: Checks that need something a cassette does not hold (a live server, generation metadata).
NOT_REPLAYABLE = frozenset(
    {
        "ignored_auth",  # sends probes; recorded probes are checked by auth_refused instead
        "negative_data_rejection",
        "positive_data_acceptance",
        "missing_required_header",
    }
)


def _match(exchange: Exchange) -> tuple[str, dict[str, str]] | None:
    """(operation label, path parameters decoded once) for a recorded request, by the spec."""
    base_path = urlsplit(CASSETTE.base_url).path.rstrip("/")
    path = urlsplit(exchange.url).path
    if base_path and path.startswith(base_path):
        path = path[len(base_path) :]
    sent = path.strip("/").split("/")
    for label in SPEC_FACTS.operation_ids:
        method, template = label.split(" ", 1)
        parts = template.strip("/").split("/")
        if method != exchange.method or len(parts) != len(sent):
            continue
        params: dict[str, str] = {}
        for part, value in zip(parts, sent, strict=True):
            if part.startswith("{") and part.endswith("}"):
                params[part[1:-1]] = unquote(value)
            elif part != value:
                break
        else:
            return label, params
    return None


def api_key_not_in_response(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """In a cassette the key was replaced by its marker: the marker in a response is a leak."""
    headers = " ".join(v for values in response.headers.values() for v in values)
    if REDACTED.encode() in response.content or REDACTED in headers:
        raise ContractCheckFailed(
            check="api_key_not_in_response",
            operation=case.operation.label,
            title="API key leaked",
            message=f"the {response.status_code} response held the API key when it was recorded",
        )
    return None


def _checks() -> list[Any]:
    """The run's response checks that a cassette can feed. The echo check
    (`answer_matches_request`) only when the recording was stateful: live fake data is not
    about what was asked."""
    checks = [
        c
        for c in RUNTIME.checks
        if harness.check_name(c) not in NOT_REPLAYABLE
        and harness.check_name(c) not in ("api_key_not_in_response", "answer_matches_request")
    ]
    if RUNTIME.enabled("api_key_not_in_response"):
        checks.append(api_key_not_in_response)
    if CASSETTE.stateful and RUNTIME.enabled("answer_matches_request"):
        checks.append(answer_matches_request)
    return checks


def _case_and_response(label: str, params: dict[str, str], exchange: Exchange) -> tuple[Any, Any]:
    operation = RUNTIME.schema.find_operation_by_label(label)
    body: Any = None
    if exchange.request_body:
        try:
            body = json.loads(exchange.request_body)
        except ValueError:
            body = exchange.request_body.decode("utf-8", "replace")
    kwargs: dict[str, Any] = {"path_parameters": params, "headers": dict(exchange.request_headers)}
    if body is not None:
        kwargs.update(body=body, media_type="application/json")
    case = operation.Case(**kwargs)
    request = requests.Request(
        exchange.method,
        exchange.url,
        headers=dict(exchange.request_headers),
        data=exchange.request_body,
    ).prepare()
    headers: dict[str, list[str]] = {}
    for name, value in exchange.response_headers:
        headers.setdefault(name.lower(), []).append(value)
    response = Response(
        status_code=exchange.status,
        headers=headers,
        content=exchange.response_body,
        request=request,
        elapsed=exchange.elapsed_ms / 1000,
        verify=True,
    )
    return case, response


def _record(label: str, exchange: Exchange, check: str, title: str, message: str) -> None:
    body = json_body_of(exchange)
    request_id = body.get("requestId") if isinstance(body, dict) else None
    RUNTIME.ledger.record_failure(
        operation=label,
        check=check,
        title=title,
        message=message,
        reproduction=harness.exchange_reproduction(exchange),
        request_id=request_id if isinstance(request_id, str) else None,
        status=exchange.status,
        exchange=exchange.describe(),
    )


def json_body_of(exchange: Exchange) -> Any:
    try:
        return json.loads(exchange.response_body)
    except ValueError:
        return None


@pytest.mark.parametrize("exchange", CASSETTE.exchanges, ids=lambda e: e.describe())
def test_recorded_exchange(contract: harness.Runtime, exchange: Exchange) -> None:
    if exchange.status == 429:
        pytest.skip("429: retried after Retry-After while recording")
    matched = _match(exchange)
    if matched is None and 400 <= exchange.status < 500:
        pytest.skip("not an operation of the spec (a negative case), and refused")
    if matched is None:
        _record(
            f"{exchange.method} {urlsplit(exchange.url).path}",
            exchange,
            "known_operation",
            "Request matches no operation of the current spec",
            f"{exchange.method} {exchange.url} matches no operation of the derived spec",
        )
        pytest.fail(f"recorded exchange {exchange.describe()} matches no operation")
    label, params = matched
    if not RUNTIME.operation_selected(label):
        pytest.skip(f"{label} is not selected by --operation")
    contract.reached(label, exchange.status)
    failures: list[tuple[str, str, str]] = []
    if exchange.credential != "valid" and RUNTIME.enabled("auth_refused"):
        body = json_body_of(exchange)
        code = body.get("errorCode") if isinstance(body, dict) else None
        if exchange.status != 403 or code != "FORBIDDEN":
            failures.append(
                (
                    "auth_refused",
                    f"{exchange.credential} API key not refused",
                    f"expected 403 FORBIDDEN, got {exchange.status} {code}",
                )
            )
    case, response = _case_and_response(label, params, exchange)
    checks = _checks()
    if exchange.generation == "negative" and 400 <= exchange.status < 500:
        # An invalid request refused with a 4xx the operation does not list (415 for a wrong
        # content type): schemathesis accepts that for negative cases, so does the replay.
        checks = [c for c in checks if harness.check_name(c) != "status_code_conformance"]
    try:
        case.validate_response(response, checks=checks)
    except FailureGroup as group:
        for failure in group.exceptions:
            name = (
                failure.check
                if isinstance(failure, ContractCheckFailed)
                else (type(failure).checks or (type(failure).__name__,))[0]
            )
            failures.append((name, failure.title, failure.message))
    for check, title, message in failures:
        _record(label, exchange, check, title, message)
    assert not failures, RUNTIME.ledger.redact(
        f"recorded exchange {exchange.describe()}: "
        + "; ".join(f"[{c}] {t}" for c, t, _ in failures)
    )


def test_cassette_is_not_empty(contract: harness.Runtime) -> None:
    if not CASSETTE.exchanges:
        contract.ledger.record_error(f"the cassette {TARGET.replay} holds no exchanges")
        pytest.fail("empty cassette")
