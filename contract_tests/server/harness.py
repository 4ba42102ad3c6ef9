"""The run's shared state: the target, the schema built for it, the session, the ledger.

`pytest_configure` (conftest.py) builds one `Runtime` before the test modules are imported,
because `@schema.parametrize()` needs the schema at import time; the embedded mock, when
there is one, is started by the `contract` session fixture. One run per process.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import Case, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.transport.requests import REQUESTS_TRANSPORT, RequestsTransport

from pingback_ext.contract.cassette import Exchange, Recorder
from pingback_ext.contract.redaction import Secret
from pingback_ext.contract.report import Ledger
from pingback_ext.contract.target import ContractTarget
from pingback_ext.tls import Trust

from .checks import (
    ASSUMES,
    OUR_CHECK_NAMES,
    SCENARIO_NAMES,
    Check,
    ContractCheckFailed,
    json_body,
    negative_data_rejection_for,
    our_checks,
    positive_data_acceptance,
)
from .spec_facts import SPEC_FACTS, spec_for_target

#: The schemathesis built-ins that apply to this API (see contract_tests/README.md).
BUILTIN_CHECKS: list[Check] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,  # Retry-After on 429
    response_schema_conformance,
    positive_data_acceptance,  # schemathesis's, minus documented state-dependent refusals
    missing_required_header,
    ignored_auth,
]


#: Checks that only make sense in sequences (test_stateful.py).
STATEFUL_CHECK_NAMES = ("use_after_free", "ensure_resource_availability")


def check_name(check: Check) -> str:
    return str(getattr(check, "__name__", check))


@dataclass
class Runtime:
    target: ContractTarget
    api_key: str
    ledger: Ledger
    schema: Any
    secret: Secret
    recorder: Recorder = field(default_factory=Recorder)
    base_url: str = ""
    session: requests.Session | None = None
    operations_reached: dict[str, set[int]] = field(default_factory=dict)
    all_checks: list[Check] = field(default_factory=list)
    #: The disposable second key whose variants `near_miss_keys_refused` sends (None: skipped).
    near_miss_key: str | None = None

    def __post_init__(self) -> None:
        if not self.all_checks:
            target = self.target
            self.all_checks = [
                *BUILTIN_CHECKS,
                negative_data_rejection_for(target.segmentation_lists, stateful=target.stateful),
                *our_checks(self.secret, stateful=target.stateful),
            ]

    @property
    def checks(self) -> list[Check]:
        """The response checks this run applies (after --checks / --exclude-checks)."""
        return [check for check in self.all_checks if self.enabled(check_name(check))]

    def enabled(self, name: str) -> bool:
        """Is the check (or semantic scenario) called `name` selected for this run?"""
        selected, excluded = self.target.checks, self.target.exclude_checks
        return (not selected or name in selected) and name not in excluded

    def operation_selected(self, label: str) -> bool:
        """Is this operation ("POST /subscriber") selected by --operation (operationId)?"""
        wanted = self.target.operations
        return not wanted or SPEC_FACTS.operation_ids.get(label) in wanted

    def headers(self, *, api_key: str | None = "default") -> dict[str, str]:
        """Headers for hand-written requests (developer mode is set by the adapter)."""
        out = {"content-type": "application/json"}
        key = self.api_key if api_key == "default" else api_key
        if key is not None:
            out["x-api-key"] = key
        return out

    def call_kwargs(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "session": self.session}

    # -- schemathesis cases ---------------------------------------------------------------------

    def call_and_check(self, case: Case) -> Response:
        """Send a generated case, run every check, record the outcome in the ledger."""
        label = case.operation.label
        mode = case.meta.generation.mode.value if case.meta is not None else None
        with self.recorder.labelled(label, mode):
            response = case.call(**self.call_kwargs())
        self.reached(label, response.status_code)
        self.validate(case, response, self.checks)
        return response

    def validate(self, case: Case, response: Response, checks: list[Check], **kwargs: Any) -> None:
        """Run `checks` (probes they send are recorded too); failures go to the ledger."""
        mark = len(self.recorder)
        try:
            with self.recorder.labelled(case.operation.label):
                case.validate_response(
                    response, checks=checks, transport_kwargs=self.call_kwargs(), **kwargs
                )
        except FailureGroup as group:
            self.record_failures(case, response, group.exceptions, self.recorder.since(mark))
            raise

    def reached(self, label: str, status: int) -> None:
        self.ledger.record_case(label)
        self.operations_reached.setdefault(label, set()).add(status)

    def record_failures(
        self,
        case: Case,
        response: Response,
        failures: Any,
        probes: list[Exchange] | None = None,
    ) -> None:
        """Into the ledger, one failing case per failure. An auth failure is about the probe
        schemathesis sent without (or with a wrong) key, so its status, requestId and
        reproduction are the probe's, not the original request's."""
        probes = [p for p in probes or [] if p.credential != "valid"]
        tls = self.target.tls
        curl = case.as_curl_command(headers=dict(response.request.headers))
        options = curl_tls_options(str(response.request.url), tls)
        if options and curl.startswith("curl "):
            curl = " ".join(["curl", *options, curl.removeprefix("curl ")])
        for failure in failures:
            if isinstance(failure, ContractCheckFailed):
                name = failure.check
            elif isinstance(failure, Failure) and type(failure).checks:
                name = type(failure).checks[0]
            else:
                name = type(failure).__name__
            status, body, reproduction = response.status_code, json_body(response), curl
            if name == "ignored_auth" and probes:
                probe = probes[-1]
                status, reproduction = probe.status, exchange_reproduction(probe, tls)
                try:
                    body = json.loads(probe.response_body)
                except ValueError:
                    body = None
            request_id = body.get("requestId") if isinstance(body, dict) else None
            self.ledger.record_failure(
                operation=case.operation.label,
                check=name,
                title=getattr(failure, "title", str(failure)),
                message=getattr(failure, "message", str(failure)),
                reproduction=reproduction,
                request_id=request_id if isinstance(request_id, str) else None,
                status=status,
            )

    # -- hand-written requests (semantics) --------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        api_key: str | None = "default",
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        assert self.session is not None, "the contract fixture starts the session"
        return self.session.request(
            method,
            self.base_url + path,
            data=None if body is None else json.dumps(body),
            headers={**self.headers(api_key=api_key), **(headers or {})},
            timeout=30,
        )


def curl_tls_options(url: str, tls: Trust | None) -> list[str]:
    """curl's options for the run's TLS trust, for an https URL."""
    return tls.curl_options() if tls is not None and url.startswith("https://") else []


def exchange_reproduction(exchange: Exchange, tls: Trust | None = None) -> str:
    """A curl command for a recorded exchange (the key is redacted by the ledger)."""
    parts = ["curl", *curl_tls_options(exchange.url, tls), f"-X {exchange.method}"]
    for name, value in exchange.request_headers:
        if name.lower() in ("x-api-key", "x-developer-mode", "content-type"):
            parts.append(f"-H '{name}: {value}'")
    if exchange.request_body:
        parts.append(f"-d '{exchange.request_body.decode('utf-8', 'replace')}'")
    parts.append(f"'{exchange.url}'")
    return " ".join(parts)


def reproduction(response: requests.Response, tls: Trust | None = None) -> str:
    """A curl command for a hand-written request (the key is redacted by the ledger)."""
    request = response.request
    parts = ["curl", *curl_tls_options(str(request.url), tls), f"-X {request.method}"]
    for name, value in request.headers.items():
        if name.lower() in ("x-api-key", "x-developer-mode", "content-type"):
            parts.append(f"-H '{name}: {value}'")
    if request.body:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        parts.append(f"-d '{body}'")
    parts.append(f"'{request.url}'")
    return " ".join(parts)


def hypothesis_settings(max_examples: int) -> hypothesis.settings:
    """Deterministic, no shrinking (each shrink step is a request, paced on live targets)."""
    return hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=False,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
        report_multiple_bugs=False,
    )


class SessionTransport(RequestsTransport):
    """Schemathesis's requests transport, but a request sent without a session (its auth
    probes drop the caller's session on purpose) still goes through the suite's session, so
    pacing, 429 retries and forced developer mode hold for every request."""

    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self._copy_serializers_from(REQUESTS_TRANSPORT)
        self.runtime = runtime

    def send(self, case: Case, *, session: Any = None, **kwargs: Any) -> Response:  # type: ignore[override]
        if session is None:
            session = self.runtime.session
        if session is None:
            raise RuntimeError("the suite's session is not open yet")
        return super().send(case, session=session, **kwargs)


def _route_through_runtime(schema: Any, runtime: Runtime) -> None:
    """Give this schema (and its clones, built with `self.__class__`) our transport."""
    transport = SessionTransport(runtime)
    base = type(schema)
    schema.__class__ = type(
        f"Contract{base.__name__}", (base,), {"transport": property(lambda self: transport)}
    )


def near_misses(key: str) -> dict[str, str]:
    """Keys one step from `key` (the disposable second key, never the run's API key): each
    must be refused like any wrong key."""
    changed = key[:-1] + ("0" if key[-1] != "0" else "1")
    return {
        "a prefix (one character short)": key[:-1],
        "a prefix (half)": key[: max(len(key) // 2, 12)],
        "a character added": key + "0",
        "the last character changed": changed,
        "another case": key.swapcase(),
    }


def assumption_lines(runtime: Runtime) -> list[str]:
    """For the summary: which checks ran, by what they assume of the data."""
    stateful = runtime.target.stateful
    lines = []
    for kind, what, on in (
        ("shape", "only the shape of each answer", True),
        ("record", "a consistent record (dates, answers about what was asked)", stateful),
        ("state", "state across requests (read after write, frame, refusals, sets)", stateful),
    ):
        names = sorted(n for n, k in ASSUMES.items() if k == kind and runtime.enabled(n))
        if kind == "shape" and runtime.near_miss_key is None:
            names = [n for n in names if n != "near_miss_keys_refused"]
        state = (
            f"ran ({len(names)})"
            if on
            else "not run (developer-mode data is fake; --stateful runs them)"
        )
        lines.append(f"checks assuming {what}: {state}: {', '.join(names) or '-'}")
    return lines


def known_check_names() -> list[str]:
    return sorted(
        {check_name(c) for c in BUILTIN_CHECKS}
        | {"negative_data_rejection"}
        | set(OUR_CHECK_NAMES)
        | set(STATEFUL_CHECK_NAMES)
        | set(SCENARIO_NAMES)
    )


def selection_problem(target: ContractTarget) -> str | None:
    """What is wrong with --checks / --exclude-checks / --operation, if anything."""
    known = known_check_names()
    unknown = sorted((target.checks | target.exclude_checks) - set(known))
    if unknown:
        return f"unknown check(s): {', '.join(unknown)}; known checks: {', '.join(known)}"
    ids = sorted(SPEC_FACTS.operation_ids.values())
    wrong = [op for op in target.operations if op not in ids]
    if wrong:
        return f"unknown operationId(s): {', '.join(wrong)}; the spec has: {', '.join(ids)}"
    return None


def build_runtime(target: ContractTarget) -> Runtime:
    """Everything but the network: the key, the ledger and the schema for this target."""
    api_key = target.api_key.reveal() if target.api_key is not None else secrets.token_urlsafe(24)
    secret = Secret(api_key)
    near_miss_key = (
        target.near_miss_key.reveal()
        if target.near_miss_key is not None
        else "near-miss-" + secrets.token_hex(16)
        if target.embedded
        else None
    )
    # The second key and every variant sent of it are secrets too: none reaches a file.
    others = [] if near_miss_key is None else [near_miss_key, *near_misses(near_miss_key).values()]
    ledger = Ledger(secrets=(secret, *(Secret(value) for value in others)))
    schema = schemathesis.openapi.from_dict(spec_for_target(target.segmentation_lists))
    if target.operations:
        schema = schema.include(operation_id=list(target.operations))
    headers = {"x-api-key": api_key}
    # Fixed, never generated: the adapter owns developer mode (always on for live targets).
    headers["x-developer-mode"] = "true" if target.developer_mode else "false"
    schema.config.update(headers=headers)
    schema.config.seed = target.seed
    schema.config.generation.update(
        max_examples=target.max_examples, deterministic=True, database="none"
    )
    runtime = Runtime(
        target=target,
        api_key=api_key,
        ledger=ledger,
        schema=schema,
        secret=secret,
        near_miss_key=near_miss_key,
    )
    ledger.assumptions = assumption_lines(runtime)
    _route_through_runtime(schema, runtime)
    return runtime


_RUNTIME: Runtime | None = None


def install(runtime: Runtime) -> None:
    global _RUNTIME
    _RUNTIME = runtime


def runtime() -> Runtime:
    if _RUNTIME is None:
        raise RuntimeError("contract_tests/server/conftest.py configures the runtime first")
    return _RUNTIME
