"""Our own response checks, run with schemathesis's built-ins on every response the suite gets.

What schemathesis cannot see from the spec alone: the promises of upstream's prose pages and
of the spec's descriptions, and the invariants every reader assumes (see the promise table in
contract_tests/README.md). Each check is named after what it asserts; `--checks` and
`--exclude-checks` select them by that name. Checks that compare an answer with the request
(`echo` checks) only run on stateful targets: live developer-mode data is fake.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4
from schemathesis import Case, CheckContext, Response
from schemathesis.core.failures import Failure
from schemathesis.specs.openapi.checks import (
    negative_data_rejection as schemathesis_negative_data_rejection,
)
from schemathesis.specs.openapi.checks import (
    positive_data_acceptance as schemathesis_positive_data_acceptance,
)

from pingback_ext.contract.redaction import Secret

from .spec_facts import SPEC_FACTS

Check = Callable[[CheckContext, Response, Case], bool | None]


class ContractCheckFailed(Failure):
    """A failure of one of our checks; `check` names it in the summary."""

    code = "ST950"
    kind_title = "Contract check failed"
    checks: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *, check: str, operation: str, title: str, message: str) -> None:
        super().__init__(operation=operation, title=title, message=message)
        self.check = check

    @property
    def _unique_key(self) -> str:
        # Schemathesis keeps one failure per (class, operation, key): with its default empty
        # key, a missing requestId would hide a leaked key found in the same response.
        return f"{self.check}|{self.title}"

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


def key_never_echoed(secret: Secret) -> Check:
    """A check that the API key appears in no response body or header, in any encoding."""

    def api_key_not_in_response(ctx: CheckContext, response: Response, case: Case) -> bool | None:
        in_headers = any(
            secret.found_in(f"{name}: {value}")
            for name, values in response.headers.items()
            for value in values
        )
        if in_headers or secret.found_in(response.content):
            raise _fail(
                "api_key_not_in_response",
                case,
                "API key leaked",
                f"the API key appears in the {response.status_code} response "
                f"{'headers' if in_headers else 'body'}",
            )
        return None

    return api_key_not_in_response


def no_redirect(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Pingback documents no 3xx: a redirect is a failure, and the suite never follows it
    (following would send the API key wherever Location points)."""
    if 300 <= response.status_code < 400:
        location = (response.headers.get("location") or ["(no Location header)"])[0]
        raise _fail(
            "no_redirect",
            case,
            "Redirect (not followed)",
            f"{response.status_code} redirect to {location}; Pingback documents no 3xx and the "
            "suite never follows one (the API key would go along)",
        )
    return None


def request_ids_unique() -> Check:
    """`requestId` "identifies your request" (introduction, Support): no two responses of a
    run share one."""
    seen: dict[str, str] = {}

    def request_id_unique(ctx: CheckContext, response: Response, case: Case) -> bool | None:
        body = json_body(response)
        request_id = body.get("requestId") if isinstance(body, dict) else None
        if not isinstance(request_id, str) or not request_id:
            return None
        where = f"{case.operation.label} -> {response.status_code}"
        earlier = seen.get(request_id)
        seen[request_id] = where
        if earlier is not None:
            raise _fail(
                "request_id_unique",
                case,
                "requestId reused",
                f"requestId {request_id!r} was already returned for an earlier request "
                f"({earlier}): it cannot identify this one",
            )
        return None

    return request_id_unique


#: errors.mdx: each errorCode with its status. The spec adds SUBSCRIBER_NOT_ENABLED (400) and
#: SUBSCRIBER_EMAIL_IS_NECESSARY (422); FORBIDDEN (403) is the refusal the auth checks expect.
ERROR_CODE_STATUS = {
    "MISSING_BODY": 400,
    "SUBSCRIBER_NOT_ENABLED": 400,
    "FORBIDDEN": 403,
    "SUBSCRIBER_NOT_FOUND": 404,
    "SEGMENTATION_LIST_NOT_FOUND": 404,
    "SUBSCRIBER_ALREADY_EXISTS": 409,
    "INVALID_INPUT": 422,
    "INVALID_PARAMS": 422,
    "SUBSCRIBER_EMAIL_IS_NECESSARY": 422,
    "INTERNAL_SERVER_ERROR": 500,
}


def error_code_matches_status(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A documented errorCode comes with the status errors.mdx gives it, on any operation."""
    body = json_body(response)
    code = body.get("errorCode") if isinstance(body, dict) else None
    expected = ERROR_CODE_STATUS.get(code) if isinstance(code, str) else None
    if expected is not None and response.status_code != expected:
        raise _fail(
            "error_code_matches_status",
            case,
            "errorCode with the wrong status",
            f"errorCode {code} is documented with status {expected}, got {response.status_code}",
        )
    return None


#: How far in the future a server timestamp may be (clock skew between us and the server).
CLOCK_SKEW = timedelta(minutes=5)
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 date-time (the spec's `format: date-time`), else None."""
    if not isinstance(value, str) or not _RFC3339.match(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None


def subscribers_in(body: Any) -> list[dict[str, Any]]:
    """Subscriber objects in a success body (`data` is one on get/create/update)."""
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict) and "email" in data and "status" in data:
        return [data]
    return []


def subscriber_dates_consistent(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """The spec's date fields mean what they say: creation <= update; an unsubscribed date
    exactly when the status is `unsubscribed_subscriber`; no date before creation or in the
    future; every date RFC 3339."""
    if response.status_code >= 300:
        return None
    now = datetime.now(UTC) + CLOCK_SKEW
    for subscriber in subscribers_in(json_body(response)):
        problems = []
        dates = {}
        for name in ("createdAt", "updatedAt", "unsubscribedAt", "blacklistedAt"):
            if name in subscriber and subscriber[name] is not None:
                parsed = parse_timestamp(subscriber[name])
                if parsed is None:
                    problems.append(f"{name} {subscriber[name]!r} is not an RFC 3339 date-time")
                else:
                    dates[name] = parsed
        created = dates.get("createdAt")
        for name, moment in dates.items():
            if moment > now:
                problems.append(f"{name} {subscriber[name]} is in the future")
            if created is not None and name != "createdAt" and moment < created:
                problems.append(f"{name} {subscriber[name]} is before createdAt {created}")
        unsubscribed = subscriber.get("status") == "unsubscribed_subscriber"
        if unsubscribed != (subscriber.get("unsubscribedAt") is not None):
            problems.append(
                f"status {subscriber.get('status')!r} with unsubscribedAt "
                f"{subscriber.get('unsubscribedAt')!r} (the unsubscribed date belongs to "
                "unsubscribed subscribers only)"
            )
        if problems:
            raise _fail(
                "subscriber_dates_consistent", case, "Inconsistent dates", "; ".join(problems)
            )
    return None


#: How far a server's clock may be from ours: a date the server stamps must lie within this of
#: the interval between sending the request and reading its answer.
SERVER_CLOCK_SKEW = timedelta(seconds=60)


def stamped_dates(label: str, status: int, sent: Any, data: Any) -> list[str]:
    """The dates a successful answer says the server stamped while handling this request: a
    create's `createdAt` and `updatedAt`, an update's `updatedAt` (and `unsubscribedAt` when
    the update unsubscribed)."""
    if not isinstance(data, dict):
        return []
    if label == "POST /subscriber" and status == 201:
        return ["createdAt", "updatedAt"]
    if label == "PUT /subscriber/{email}" and status == 200:
        unsubscribing = isinstance(sent, dict) and sent.get("status") == "unsubscribed_subscriber"
        return ["updatedAt", *(["unsubscribedAt"] if unsubscribing else [])]
    return []


def time_problems(
    label: str, status: int, sent: Any, body: Any, started: datetime, answered: datetime
) -> list[str]:
    """Stamped dates outside [started - skew, answered + skew] (UTC), or not RFC 3339."""
    data = body.get("data") if isinstance(body, dict) else None
    problems = []
    for name in stamped_dates(label, status, sent, data):
        assert isinstance(data, dict)
        value = data.get(name)
        moment = parse_timestamp(value)
        if moment is None:
            problems.append(f"{name} {value!r} is not an RFC 3339 date-time")
        elif not started - SERVER_CLOCK_SKEW <= moment <= answered + SERVER_CLOCK_SKEW:
            problems.append(
                f"{name} {value} is not between the request's send time {started.isoformat()} "
                f"and its answer {answered.isoformat()} (allowing {SERVER_CLOCK_SKEW} of skew)"
            )
    return problems


def server_time(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A date the server stamps lies between the request's send time and its answer, in UTC
    as labelled (a local time labelled `Z`, or a stale clock, falls outside). Assumes a
    consistent record: fake data has random dates."""
    answered = datetime.now(UTC)
    started = answered - timedelta(seconds=response.elapsed)
    body = json_body(response)
    problems = time_problems(
        case.operation.label, response.status_code, case.body, body, started, answered
    )
    if problems:
        raise _fail("server_time", case, "Stamped date outside the request", "; ".join(problems))
    return None


def sent_path_parameters(case: Case, response: Response) -> dict[str, str]:
    """The path parameters as the server received them: read from the URL actually sent
    (schemathesis keeps some already percent-encoded), decoded once."""
    template = case.operation.path.strip("/").split("/")
    sent = urlsplit(str(response.request.url)).path.strip("/").split("/")
    sent = sent[len(sent) - len(template) :] if len(sent) >= len(template) else sent
    return {
        part[1:-1]: unquote(value)
        for part, value in zip(template, sent, strict=False)
        if part.startswith("{") and part.endswith("}")
    }


def answer_matches_request(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """An answer is about what was asked: the subscriber read or updated has the path's email
    (exact string), a created one the body's; memberships name the path's email and the lists
    asked for. Stateful targets only (live developer-mode data is fake)."""
    if response.status_code >= 300 or not isinstance(body := json_body(response), dict):
        return None
    label = case.operation.label
    data = body.get("data")
    sent = case.body if isinstance(case.body, dict) else {}
    params = sent_path_parameters(case, response)
    email, list_id = params.get("email"), params.get("id")
    problems: list[str] = []
    if label in ("GET /subscriber/{email}", "PUT /subscriber/{email}") and isinstance(data, dict):
        if data.get("email") != email:
            problems.append(f"asked for {email!r}, got {data.get('email')!r}")
    elif label == "POST /subscriber" and isinstance(data, dict) and "email" in sent:
        if data.get("email") != sent["email"]:
            problems.append(f"created {sent['email']!r}, answer names {data.get('email')!r}")
    elif label == "POST /segmentation/add-subscriber/{email}" and isinstance(data, list):
        asked = sent.get("segmentationLists") or []
        members = [m for m in data if isinstance(m, dict)]
        named = [m.get("segmentationListId") for m in members]
        if sorted(set(named)) != sorted(set(asked)):
            problems.append(f"asked for lists {asked!r}, memberships name {named!r}")
        emails = {m.get("email") for m in members}
        if emails - {email}:
            problems.append(f"asked for {email!r}, memberships name {sorted(map(str, emails))}")
    elif label == "DELETE /segmentation/{id}/remove-subscriber/{email}" and isinstance(data, dict):
        if data.get("segmentationListId") != list_id:
            problems.append(
                f"removed from {list_id!r}, answer names {data.get('segmentationListId')!r}"
            )
        if data.get("email") != email:
            problems.append(f"asked for {email!r}, got {data.get('email')!r}")
    if problems:
        raise _fail(
            "answer_matches_request", case, "Answer about something else", "; ".join(problems)
        )
    return None


#: Documented refusals that depend on the subscriber's state, not on the request's shape: a
#: schema-valid add/remove for an unsubscribed or blacklisted subscriber is rightly refused.
STATE_DEPENDENT_REFUSALS = frozenset({(400, "SUBSCRIBER_NOT_ENABLED")})


def positive_data_acceptance(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Schemathesis's `positive_data_acceptance`, minus documented state-dependent refusals."""
    body = json_body(response)
    code = body.get("errorCode") if isinstance(body, dict) else None
    documented = SPEC_FACTS.error_codes(case.operation.label, response.status_code) or ()
    if (response.status_code, code) in STATE_DEPENDENT_REFUSALS and code in documented:
        return None
    return schemathesis_positive_data_acceptance(ctx, response, case)


#: Request bodies, by operation, whose `segmentationLists` the per-target spec narrows.
_LIST_BODIES = {
    "POST /subscriber": "SubscriberCreate",
    "POST /segmentation/add-subscriber/{email}": "SegmentationListsInput",
}


def only_unknown_lists(case: Case, known: tuple[str, ...]) -> bool:
    """Is the body invalid only because a list id is not one the target has? Under the
    upstream spec any string is a list id: that such an id is refused (404) is a fact of the
    target's state, which the per-target spec (`spec_facts.spec_for_target`) narrows in."""
    schema_name = _LIST_BODIES.get(case.operation.label)
    body = case.body
    if schema_name is None or not known or not isinstance(body, dict):
        return False
    lists = body.get("segmentationLists")
    if not isinstance(lists, list) or all(item in known for item in lists):
        return False
    repaired = {
        **body,
        "segmentationLists": [item if item in known else known[0] for item in lists],
    }
    raw = case.operation.schema.raw_schema
    registry: Registry[Any] = Registry().with_resource(
        "urn:spec", Resource(contents=raw, specification=DRAFT4)
    )
    schema = {"$ref": f"urn:spec#/components/schemas/{schema_name}"}
    return bool(Draft4Validator(schema, registry=registry).is_valid(repaired))


def negative_data_rejection_for(known: tuple[str, ...], *, stateful: bool) -> Check:
    """Schemathesis's `negative_data_rejection`; on targets whose state is not assumed (live,
    fake data), a body whose only fault is a list id the target lacks is not a negative case."""

    def negative_data_rejection(ctx: CheckContext, response: Response, case: Case) -> bool | None:
        if not stateful and only_unknown_lists(case, known):
            return None
        return schemathesis_negative_data_rejection(ctx, response, case)

    return negative_data_rejection


#: Our response checks, by name (`our_checks` builds them for a run).
OUR_CHECK_NAMES = (
    "no_redirect",
    "request_id_in_body",
    "request_id_unique",
    "documented_error_code",
    "error_code_matches_status",
    "error_message_not_empty",
    "api_key_not_in_response",
    "subscriber_dates_consistent",
    "answer_matches_request",
    "server_time",
)

#: The semantic scenarios (test_semantics.py, test_auth.py): the name each records failures
#: under, which `--checks` / `--exclude-checks` also select.
SCENARIO_NAMES = (
    "auth_refused",
    "refusal_changes_nothing",
    "read_after_write",
    "update_reflected",
    "dates_follow_writes",
    "reads_change_nothing",
    "unknown_email_not_found",
    "duplicate_create_conflicts",
    "unknown_list_refused",
    "missing_body_refused",
    "invalid_input_refused",
    "missing_email_refused",
    "not_enabled_refused",
    "developer_mode_isolated",
    "membership",
    "identity_exact",
    "isolation_both_ways",
    "near_miss_keys_refused",
    "concurrent_creates",
)

#: What each check assumes of the data it reads, and so where it may run. `shape`: only the
#: shape of each answer (runs everywhere, live developer mode included); `record`: each answer
#: is a consistent record, about what was asked and stamped when it was asked (developer-mode
#: data "is fake": off on live targets unless --stateful); `state`: what one request did shows
#: in later ones (off on live targets unless --stateful).
ASSUMES: dict[str, str] = {
    # schemathesis's built-ins
    "not_a_server_error": "shape",
    "status_code_conformance": "shape",
    "content_type_conformance": "shape",
    "response_headers_conformance": "shape",
    "response_schema_conformance": "shape",
    "negative_data_rejection": "shape",
    "positive_data_acceptance": "shape",
    "missing_required_header": "shape",
    "ignored_auth": "shape",
    "use_after_free": "state",
    "ensure_resource_availability": "state",
    # ours
    "no_redirect": "shape",
    "request_id_in_body": "shape",
    "request_id_unique": "shape",
    "documented_error_code": "shape",
    "error_code_matches_status": "shape",
    "error_message_not_empty": "shape",
    "api_key_not_in_response": "shape",
    "auth_refused": "shape",
    "near_miss_keys_refused": "shape",
    "subscriber_dates_consistent": "record",
    "answer_matches_request": "record",
    "server_time": "record",
    **{
        name: "state"
        for name in (
            "refusal_changes_nothing",
            "read_after_write",
            "update_reflected",
            "dates_follow_writes",
            "reads_change_nothing",
            "unknown_email_not_found",
            "duplicate_create_conflicts",
            "unknown_list_refused",
            "missing_body_refused",
            "invalid_input_refused",
            "missing_email_refused",
            "not_enabled_refused",
            "developer_mode_isolated",
            "membership",
            "identity_exact",
            "isolation_both_ways",
            "concurrent_creates",
        )
    },
}


def our_checks(secret: Secret, *, stateful: bool) -> list[Check]:
    """Fresh instances (some remember what they saw) for one run."""
    checks = [
        no_redirect,
        request_id_in_body,
        request_ids_unique(),
        documented_error_code,
        error_code_matches_status,
        error_message_not_empty,
        key_never_echoed(secret),
    ]
    if stateful:  # they assume a consistent record (ASSUMES): fake data has none
        checks += [subscriber_dates_consistent, answer_matches_request, server_time]
    return checks
