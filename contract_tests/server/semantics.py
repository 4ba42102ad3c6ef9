"""Helpers for the hand-written semantic checks: paths, expectations that record failures."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import pytest
import requests

from . import harness
from .checks import json_body

CREATE = "POST /subscriber"
GET = "GET /subscriber/{email}"
UPDATE = "PUT /subscriber/{email}"
ADD = "POST /segmentation/add-subscriber/{email}"
REMOVE = "DELETE /segmentation/{id}/remove-subscriber/{email}"


def enc(value: str) -> str:
    return quote(value, safe="")


def unknown_list() -> str:
    """A segmentation list id no target has (lists come from Pingback support only)."""
    return f"contract-unknown-{uuid.uuid4().hex}"


def fresh_email() -> str:
    """An address no earlier request used (uuid4), so it was never created."""
    return f"contract-{uuid.uuid4().hex}@example.com"


class Expect:
    """Sends requests for one scenario and turns broken expectations into ledger failures.

    `check` names the scenario (as --checks selects it); `about` lists the operations whose
    promise it checks: the scenario is skipped when --operation selects none of them.
    """

    def __init__(self, runtime: harness.Runtime, check: str, *about: str) -> None:
        if not runtime.enabled(check):
            pytest.skip(f"{check} is not among the selected checks")
        if about and not any(runtime.operation_selected(op) for op in about):
            pytest.skip(f"{check}: none of {', '.join(about)} is selected by --operation")
        self.runtime = runtime
        self.check = check

    def send(self, operation: str, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        with self.runtime.recorder.labelled(operation, "scenario"):
            response = self.runtime.send(method, path, body, **kw)
        self.runtime.reached(operation, response.status_code)
        self.last = (operation, response)
        return response

    def error(self, response: requests.Response, status: int, code: str, what: str) -> None:
        """`response` is the documented error: this status and this errorCode."""
        body = json_body(response)
        got = body.get("errorCode") if isinstance(body, dict) else None
        self.that(
            response.status_code == status and got == code,
            f"{what}: expected {status} {code}",
            f"got {response.status_code} {got}",
        )

    def that(self, condition: bool, title: str, message: str) -> None:
        if condition:
            return
        operation, response = self.last
        body = json_body(response)
        request_id = body.get("requestId") if isinstance(body, dict) else None
        self.runtime.ledger.record_failure(
            operation=operation,
            check=self.check,
            title=title,
            message=f"{message}\nresponse {response.status_code}: {response.text[:500]}",
            reproduction=harness.reproduction(response),
            request_id=request_id if isinstance(request_id, str) else None,
            status=response.status_code,
        )
        raise AssertionError(self.runtime.ledger.redact(f"{operation}: {title}: {message}"))

    def status(self, response: requests.Response, expected: int, what: str) -> Any:
        self.that(
            response.status_code == expected,
            f"{what}: expected {expected}",
            f"got {response.status_code}",
        )
        body = json_body(response)
        return body.get("data") if isinstance(body, dict) else None
