"""Helpers for the hand-written semantic checks: paths, expectations that record failures."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import requests

from contract_tests.server import harness
from contract_tests.server.checks import json_body

CREATE = "POST /subscriber"
GET = "GET /subscriber/{email}"
UPDATE = "PUT /subscriber/{email}"
ADD = "POST /segmentation/add-subscriber/{email}"
REMOVE = "DELETE /segmentation/{id}/remove-subscriber/{email}"


def enc(value: str) -> str:
    return quote(value, safe="")


def fresh_email() -> str:
    """An address no earlier request used (uuid4), so it was never created."""
    return f"contract-{uuid.uuid4().hex}@example.com"


class Expect:
    """Sends requests for one scenario and turns broken expectations into ledger failures."""

    def __init__(self, runtime: harness.Runtime, check: str) -> None:
        self.runtime = runtime
        self.check = check

    def send(self, operation: str, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        response = self.runtime.send(method, path, body, **kw)
        self.runtime.reached(operation, response.status_code)
        self.last = (operation, response)
        return response

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
