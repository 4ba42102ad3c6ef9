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
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.transport.requests import REQUESTS_TRANSPORT, RequestsTransport

from contract_tests.server.checks import (
    Check,
    ContractCheckFailed,
    json_body,
    our_checks,
    positive_data_accepted,
)
from contract_tests.server.spec_facts import spec_for_target
from pingback_ext.contract_report import Ledger
from pingback_ext.contract_target import ContractTarget

#: The schemathesis built-ins that apply to this API (see contract_tests/README.md).
BUILTIN_CHECKS: list[Check] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,  # Retry-After on 429
    response_schema_conformance,
    negative_data_rejection,
    positive_data_accepted,  # positive_data_acceptance minus state-dependent refusals
    missing_required_header,
    ignored_auth,
]


@dataclass
class Runtime:
    target: ContractTarget
    api_key: str
    ledger: Ledger
    schema: Any
    base_url: str = ""
    session: requests.Session | None = None
    operations_reached: dict[str, set[int]] = field(default_factory=dict)

    @property
    def checks(self) -> list[Check]:
        return [*BUILTIN_CHECKS, *our_checks(self.api_key)]

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
        response = case.call(**self.call_kwargs())
        self.reached(case.operation.label, response.status_code)
        try:
            case.validate_response(
                response, checks=self.checks, transport_kwargs=self.call_kwargs()
            )
        except FailureGroup as group:
            self.record_failures(case, response, group.exceptions)
            raise
        return response

    def reached(self, label: str, status: int) -> None:
        self.ledger.record_case(label)
        self.operations_reached.setdefault(label, set()).add(status)

    def record_failures(
        self, case: Case, response: Response, failures: Any, check: str | None = None
    ) -> None:
        body = json_body(response)
        request_id = body.get("requestId") if isinstance(body, dict) else None
        curl = case.as_curl_command(headers=dict(response.request.headers))
        for failure in failures:
            if isinstance(failure, ContractCheckFailed):
                name = failure.check
            elif isinstance(failure, Failure) and type(failure).checks:
                name = type(failure).checks[0]
            else:
                name = check or type(failure).__name__
            self.ledger.record_failure(
                operation=case.operation.label,
                check=name,
                title=getattr(failure, "title", str(failure)),
                message=getattr(failure, "message", str(failure)),
                reproduction=curl,
                request_id=request_id if isinstance(request_id, str) else None,
                status=response.status_code,
            )

    # -- hand-written requests (semantics) --------------------------------------------------

    def send(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        api_key: str | None = "default",
    ) -> requests.Response:
        assert self.session is not None, "the contract fixture starts the session"
        response = self.session.request(
            method,
            self.base_url + path,
            data=None if body is None else json.dumps(body),
            headers=self.headers(api_key=api_key),
            timeout=30,
        )
        return response


def reproduction(response: requests.Response) -> str:
    """A curl command for a hand-written request (the key is redacted by the ledger)."""
    request = response.request
    parts = [f"curl -X {request.method}"]
    for name, value in request.headers.items():
        if name.lower() in ("x-api-key", "x-developer-mode", "content-type"):
            parts.append(f"-H '{name}: {value}'")
    if request.body:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        parts.append(f"-d '{body}'")
    parts.append(f"'{request.url}'")
    return " ".join(parts)


def hypothesis_settings(target: ContractTarget, max_examples: int) -> hypothesis.settings:
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


def build_runtime(target: ContractTarget) -> Runtime:
    """Everything but the network: the key, the ledger and the schema for this target."""
    api_key = target.api_key.reveal() if target.api_key is not None else secrets.token_urlsafe(24)
    ledger = Ledger(secrets=(api_key,))
    schema = schemathesis.openapi.from_dict(spec_for_target(target.segmentation_lists))
    headers = {"x-api-key": api_key}
    # Fixed, never generated: the adapter owns developer mode (always on for live targets).
    headers["x-developer-mode"] = "true" if target.developer_mode else "false"
    schema.config.update(headers=headers)
    schema.config.seed = target.seed
    schema.config.generation.update(
        max_examples=target.max_examples, deterministic=True, database="none"
    )
    runtime = Runtime(target=target, api_key=api_key, ledger=ledger, schema=schema)
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
