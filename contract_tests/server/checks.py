"""Our own response checks, run with schemathesis's built-ins on every response the suite gets.

What schemathesis cannot see from the spec alone (see shared field notes): `requestId` in
every body, an `errorCode` that the spec documents for this operation and status, a
non-empty error message, and the API key never echoed back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from schemathesis import Case, CheckContext, Response
from schemathesis.core.failures import Failure
from schemathesis.specs.openapi.checks import positive_data_acceptance

from contract_tests.server.spec_facts import SPEC_FACTS

Check = Callable[[CheckContext, Response, Case], bool | None]


class ContractCheckFailed(Failure):
    """A failure of one of our checks; `check` names it in the summary."""

    code = "ST950"
    kind_title = "Contract check failed"
    checks: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, check: str, operation: str, title: str, message: str) -> None:
        super().__init__(operation=operation, title=title, message=message)
        self.check = check

    def __reduce__(self) -> Any:
        return (_rebuild, (self.check, self.operation, self.title, self.message))


def _rebuild(check: str, operation: str, title: str, message: str) -> ContractCheckFailed:
    return ContractCheckFailed(check=check, operation=operation, title=title, message=message)


def json_body(response: Response) -> Any:
    """The decoded body, or None when there is none or it is not JSON."""
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _fail(check: str, case: Case, title: str, message: str) -> ContractCheckFailed:
    return ContractCheckFailed(
        check=check, operation=case.operation.label, title=title, message=message
    )


def request_id_in_body(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every response body is a JSON object with a non-empty string `requestId`."""
    body = json_body(response)
    request_id = body.get("requestId") if isinstance(body, dict) else None
    if not isinstance(request_id, str) or not request_id.strip():
        raise _fail(
            "request_id_in_body",
            case,
            "Missing requestId",
            f"{response.status_code} response has no requestId in its body: "
            f"{response.content[:200]!r}",
        )
    return None


def documented_error_code(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """An error's `errorCode` is one the spec documents for this operation and status.

    Statuses the operation does not declare are left to `status_code_conformance`.
    """
    documented = SPEC_FACTS.error_codes(case.operation.label, response.status_code)
    if response.status_code < 400 or documented is None:
        return None
    body = json_body(response)
    code = body.get("errorCode") if isinstance(body, dict) else None
    if code not in documented:
        raise _fail(
            "documented_error_code",
            case,
            "Undocumented errorCode",
            f"{response.status_code} errorCode {code!r} is not documented for "
            f"{case.operation.label} {response.status_code}; expected one of {sorted(documented)}",
        )
    return None


def error_message_not_empty(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """An error body says what went wrong in a non-empty `error` string."""
    if response.status_code < 400:
        return None
    body = json_body(response)
    message = body.get("error") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message.strip():
        raise _fail(
            "error_message_not_empty",
            case,
            "Empty error message",
            f"{response.status_code} error body has no message: {response.content[:200]!r}",
        )
    return None


def key_never_echoed(api_key: str) -> Check:
    """A check that the API key appears in no response body or header."""

    def api_key_not_in_response(ctx: CheckContext, response: Response, case: Case) -> bool | None:
        needle = api_key.encode("utf-8")
        in_headers = any(
            api_key in value for values in response.headers.values() for value in values
        )
        if needle in response.content or in_headers:
            raise _fail(
                "api_key_not_in_response",
                case,
                "API key leaked",
                f"the API key appears in the {response.status_code} response "
                f"{'headers' if in_headers else 'body'}",
            )
        return None

    return api_key_not_in_response


#: Documented refusals that depend on the subscriber's state, not on the request's shape: a
#: schema-valid add/remove for an unsubscribed or blacklisted subscriber is rightly refused.
STATE_DEPENDENT_REFUSALS = frozenset({(400, "SUBSCRIBER_NOT_ENABLED")})


def positive_data_accepted(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Schemathesis's `positive_data_acceptance`, minus documented state-dependent refusals."""
    body = json_body(response)
    code = body.get("errorCode") if isinstance(body, dict) else None
    documented = SPEC_FACTS.error_codes(case.operation.label, response.status_code) or ()
    if (response.status_code, code) in STATE_DEPENDENT_REFUSALS and code in documented:
        return None
    return positive_data_acceptance(ctx, response, case)


def our_checks(api_key: str) -> list[Check]:
    return [
        request_id_in_body,
        documented_error_code,
        error_message_not_empty,
        key_never_echoed(api_key),
    ]
