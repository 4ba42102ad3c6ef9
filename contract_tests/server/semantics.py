"""Helpers for the hand-written semantic checks: paths, expectations that record failures."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
import requests

from . import harness
from .checks import json_body, time_problems

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


def normalized(subscriber: Any) -> dict[str, Any]:
    """A subscriber for comparison: lists as sorted lists (order is not promised), custom
    fields as sorted (label, value) pairs."""
    if not isinstance(subscriber, dict):
        return {"(not a subscriber)": repr(subscriber)}
    out = dict(subscriber)
    if isinstance(out.get("segmentationLists"), list):
        out["segmentationLists"] = sorted(map(str, out["segmentationLists"]))
    if isinstance(out.get("customFields"), list):
        out["customFields"] = sorted(
            (str(f.get("label")), str(f.get("value"))) if isinstance(f, dict) else ("?", repr(f))
            for f in out["customFields"]
        )
    return out


def rich_body(email: str, lists: Iterable[str] = (), tag: str = "a") -> dict[str, Any]:
    """A create body that sets every field a subscriber can hold, so a later comparison of the
    whole subscriber sees any of them change."""
    return {
        "email": email,
        "name": f"Frame {tag}",
        "phone": "+5511999990001" if tag == "a" else "+5511999990002",
        "status": "free_subscriber" if tag == "a" else "paid_subscriber",
        "customFields": [
            {"label": "plan", "value": f"gold-{tag}"},
            {"label": "team", "value": f"blue-{tag}"},
        ],
        "segmentationLists": list(lists),
    }


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
        self._check_time(operation, body, response)
        return response

    def _check_time(self, operation: str, body: Any, response: requests.Response) -> None:
        """`server_time` on every scenario answer too (no request of its own): a stamped date
        lies between this request's send time and its answer."""
        if not (self.runtime.target.stateful and self.runtime.enabled("server_time")):
            return
        answered = datetime.now(UTC)
        started = answered - response.elapsed
        problems = time_problems(
            operation, response.status_code, body, json_body(response), started, answered
        )
        if problems:
            self.runtime.ledger.record_failure(
                operation=operation,
                check="server_time",
                title="Stamped date outside the request",
                message="; ".join(problems),
                reproduction=harness.reproduction(response, self.runtime.target.tls),
                status=response.status_code,
            )
            raise AssertionError(f"{operation}: server_time: {'; '.join(problems)}")

    def unchanged(
        self,
        before: Any,
        after: Any,
        what: str,
        *,
        except_: Iterable[str] = (),
        moving: Iterable[str] = ("updatedAt",),
    ) -> None:
        """`after` is the subscriber `before` was, whole (custom fields and memberships
        included), except the fields in `except_`; dates in `moving` may only move forward."""
        old, new = normalized(before), normalized(after)
        skip = set(except_) | set(moving)
        differ = sorted(
            name
            for name in set(old) | set(new)
            if name not in skip and old.get(name) != new.get(name)
        )
        self.that(
            not differ,
            f"{what} changed what it did not name",
            "; ".join(f"{name}: {old.get(name)!r} became {new.get(name)!r}" for name in differ),
        )
        for name in set(moving) - set(except_):
            self.that(
                str(new.get(name) or "") >= str(old.get(name) or ""),
                f"{what} moved {name} backwards",
                f"{name}: {old.get(name)!r} became {new.get(name)!r}",
            )

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
            reproduction=harness.reproduction(response, self.runtime.target.tls),
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
