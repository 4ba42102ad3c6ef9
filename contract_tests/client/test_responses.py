"""Responses are understood: whatever the derived spec lets a server answer, the client turns
into the typed result or the typed error the docs promise, and never into a raw exception.

Bodies come from the spec's own schemas (schemathesis' generator). The expected exception for
each answer is written out here from the hierarchy in pingback_ext/errors.py's docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from contract_tests.client import bodies, oracle
from contract_tests.client.profiles import examples
from contract_tests.client.twins import API_KEY, TWINS, run
from pingback_ext import (
    APIError,
    BadRequest,
    Conflict,
    Forbidden,
    InvalidInput,
    InvalidParams,
    MembershipList,
    MissingBody,
    NotFound,
    PingbackError,
    RateLimited,
    Redirected,
    ResponseValidationError,
    SegmentationListNotFound,
    SegmentationMembership,
    ServerError,
    Subscriber,
    SubscriberAlreadyExists,
    SubscriberEmailIsNecessary,
    SubscriberNotEnabled,
    SubscriberNotFound,
    UnexpectedStatus,
    UnprocessableEntity,
)

SETTINGS = examples(40)
EMAIL = "ana@example.com"

#: One call per operation, with arguments the spec allows.
CALLS: dict[str, Callable[[Any], Any]] = {
    "createSubscriber": lambda pb: pb.subscribers.create(EMAIL, name="Ana"),
    "getSubscriber": lambda pb: pb.subscribers.get(EMAIL),
    "updateSubscriber": lambda pb: pb.subscribers.update(EMAIL, name="Ana"),
    "addSubscriberToSegment": lambda pb: pb.segmentations.add_subscriber(EMAIL, ["list-1"]),
    "removeSubscriberFromSegment": lambda pb: pb.segmentations.remove_subscriber("list-1", EMAIL),
}
OPERATIONS = sorted(CALLS)

#: errors.py: "chosen by errorCode first, then by status".
BY_ERROR_CODE: dict[str, type[APIError]] = {
    "MISSING_BODY": MissingBody,
    "SUBSCRIBER_NOT_ENABLED": SubscriberNotEnabled,
    "SUBSCRIBER_NOT_FOUND": SubscriberNotFound,
    "SEGMENTATION_LIST_NOT_FOUND": SegmentationListNotFound,
    "SUBSCRIBER_ALREADY_EXISTS": SubscriberAlreadyExists,
    "INVALID_INPUT": InvalidInput,
    "INVALID_PARAMS": InvalidParams,
    "SUBSCRIBER_EMAIL_IS_NECESSARY": SubscriberEmailIsNecessary,
    "INTERNAL_SERVER_ERROR": ServerError,
}
BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequest,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: UnprocessableEntity,
    429: RateLimited,
}
#: Statuses a proxy or gateway may answer with bodies of its own: mapped by status alone.
GATEWAY = (403, 429, *range(500, 600))


def expected_error(status: int, error_code: str | None, *, declared: bool) -> type[APIError]:
    if status == 429:
        return RateLimited
    if error_code in BY_ERROR_CODE:
        return BY_ERROR_CODE[error_code]
    if status >= 500:
        return ServerError
    if status == 403:
        return Forbidden
    return BY_STATUS[status] if declared else UnexpectedStatus


def answer(twin: str, operation_id: str, response: httpx.Response) -> Any:
    """The result of the operation's call when the server answers `response`, or the
    PingbackError it raised. Any other exception propagates and fails the test."""
    with respx.mock(assert_all_called=False) as router:
        router.route().mock(return_value=response)
        try:
            return run(twin, CALLS[operation_id])
        except PingbackError as error:
            return error


def success_status(operation_id: str) -> int:
    [status] = [s for s in oracle.declared_statuses(operation_id) if 200 <= s < 300]
    return status


def test_every_operation_is_exercised() -> None:
    assert set(CALLS) == set(oracle.operations(oracle.derived()))


# ----------------------------------------------------------------------------- 2xx


def success_schema(operation_id: str) -> Any:
    """The success envelope, with `data` present: the client refuses a success without it
    (see test_success_without_data_is_refused); every other part as the spec has it."""
    schema = oracle.response_schema(operation_id, success_status(operation_id))
    return {**schema, "required": sorted({*schema.get("required", []), "data"})}


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("operation_id", OPERATIONS)
@SETTINGS
@given(data=st.data())
def test_success_bodies_become_equal_typed_results(
    twin: str, operation_id: str, data: st.DataObject
) -> None:
    schema = success_schema(operation_id)
    body = data.draw(bodies.valid(schema), label="body")
    status = success_status(operation_id)
    result = answer(twin, operation_id, httpx.Response(status, json=body))
    assert not isinstance(result, PingbackError), f"{result!r} for a spec-valid body"

    data_schema = schema["properties"]["data"]
    if operation_id == "addSubscriberToSegment":
        assert isinstance(result, MembershipList)
        assert all(isinstance(item, SegmentationMembership) for item in result)
        got = [item.to_dict() for item in result]
        assert all(item.request_id == body["requestId"] for item in result)
    else:
        expected_type = (
            SegmentationMembership if operation_id == "removeSubscriberFromSegment" else Subscriber
        )
        assert isinstance(result, expected_type)
        got = result.to_dict()
    assert bodies.normalized(data_schema, got) == bodies.normalized(data_schema, body["data"])
    assert result.request_id == body["requestId"]
    assert result.http_response is not None and result.http_response.status_code == status


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_success_without_data_is_refused(operation_id: str) -> None:
    response = httpx.Response(success_status(operation_id), json={"requestId": "r-1"})
    error = answer("sync", operation_id, response)
    assert isinstance(error, ResponseValidationError), error


# ----------------------------------------------------------------------------- errors


def check_error(error: Any, response: httpx.Response, expected: type[APIError], body: Any) -> None:
    assert type(error) is expected, f"{type(error).__name__}, expected {expected.__name__}"
    fields = body if isinstance(body, dict) else {}
    assert error.status_code == response.status_code
    assert error.error_code == fields.get("errorCode")
    assert error.request_id == fields.get("requestId")
    if fields.get("error"):
        assert error.message == fields["error"]
    assert error.attempts == 1
    assert API_KEY not in f"{error!s}{error!r}{error.response.request.headers}"


def error_bodies(codes: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Error bodies the spec allows, with a documented errorCode or an unknown one."""
    schema = oracle.json_schema(oracle.derived(), {"$ref": "#/components/schemas/Error"})
    unknown = st.text(max_size=20).filter(lambda code: code not in BY_ERROR_CODE)
    code = st.one_of(st.sampled_from(codes), unknown) if codes else unknown
    return st.tuples(bodies.valid(schema), code).map(lambda pair: {**pair[0], "errorCode": pair[1]})


def declared_errors(operation_id: str) -> list[int]:
    return [s for s in oracle.declared_statuses(operation_id) if s >= 400 and s not in GATEWAY]


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("operation_id", OPERATIONS)
@SETTINGS
@given(data=st.data())
def test_declared_errors_become_their_exceptions(
    twin: str, operation_id: str, data: st.DataObject
) -> None:
    status = data.draw(st.sampled_from(declared_errors(operation_id)), label="status")
    codes = oracle.documented_error_codes(operation_id, status)
    body = data.draw(error_bodies(codes), label="body")
    response = httpx.Response(status, json=body)
    error = answer(twin, operation_id, response)
    check_error(error, response, expected_error(status, body["errorCode"], declared=True), body)


#: What gateways in front of an API answer besides spec-shaped errors.
FOREIGN_BODIES = st.one_of(
    bodies.JSON.map(lambda doc: ("json", doc)),
    st.sampled_from(["<html><body>Bad gateway</body></html>", "", "Forbidden"]).map(
        lambda text: ("text", text)
    ),
)


def gateway_response(status: int, kind: str, body: Any, retry_after: str | None) -> httpx.Response:
    headers = {} if retry_after is None else {"retry-after": retry_after}
    if kind == "json":
        return httpx.Response(status, json=body, headers=headers)
    return httpx.Response(status, text=body, headers={**headers, "content-type": "text/html"})


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("operation_id", OPERATIONS)
@SETTINGS
@given(data=st.data())
def test_forbidden_rate_limited_and_server_errors_map_by_status(
    twin: str, operation_id: str, data: st.DataObject
) -> None:
    status = data.draw(st.sampled_from([403, 429, 500, 502, 503, 504, 599]), label="status")
    spec_shaped = error_bodies(oracle.documented_error_codes(operation_id, status)).map(
        lambda doc: ("json", doc)
    )
    kind, body = data.draw(st.one_of(spec_shaped, FOREIGN_BODIES), label="body")
    retry_after = data.draw(st.none() | st.integers(0, 120).map(str), label="retry-after")
    response = gateway_response(status, kind, body, retry_after)
    error = answer(twin, operation_id, response)
    fields = body if isinstance(body, dict) else {}
    code = fields.get("errorCode") if isinstance(fields.get("errorCode"), str) else None
    declared = status in oracle.declared_statuses(operation_id)
    expected = expected_error(status, code, declared=declared)
    clean = {k: v for k, v in fields.items() if isinstance(v, str)}
    check_error(error, response, expected, clean)
    if status == 429:
        assert error.retry_after == (None if retry_after is None else float(retry_after))


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("operation_id", OPERATIONS)
@SETTINGS
@given(data=st.data())
def test_undeclared_statuses(twin: str, operation_id: str, data: st.DataObject) -> None:
    declared = oracle.declared_statuses(operation_id)
    status = data.draw(
        st.integers(200, 499).filter(lambda s: s not in declared and s not in GATEWAY),
        label="status",
    )
    spec_shaped = error_bodies([]).map(lambda doc: ("json", doc))
    kind, body = data.draw(st.one_of(spec_shaped, FOREIGN_BODIES), label="body")
    response = gateway_response(status, kind, body, None)
    error = answer(twin, operation_id, response)
    if status < 300:
        assert isinstance(error, ResponseValidationError), error
        assert error.status_code == status
        return
    fields = body if isinstance(body, dict) else {}
    clean = {k: v for k, v in fields.items() if isinstance(v, str)}
    # A 3xx is never followed (the key would go along): it is Redirected, an UnexpectedStatus.
    expected = Redirected if 300 <= status < 400 else UnexpectedStatus
    check_error(error, response, expected, clean)


# ----------------------------------------------------------------------------- broken bodies


def strict_statuses(operation_id: str) -> list[int]:
    """Statuses whose bodies the client holds to the spec: success and declared 4xx errors."""
    return [success_status(operation_id), *declared_errors(operation_id)]


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("operation_id", OPERATIONS)
@SETTINGS
@given(data=st.data())
def test_bodies_that_break_the_spec_raise_response_validation_error(
    twin: str, operation_id: str, data: st.DataObject
) -> None:
    status = data.draw(st.sampled_from(strict_statuses(operation_id)), label="status")
    schema = (
        success_schema(operation_id)
        if status < 300
        else oracle.response_schema(operation_id, status)
    )
    response = data.draw(
        st.one_of(
            bodies.broken(schema).map(lambda doc: httpx.Response(status, json=doc)),
            st.sampled_from(["", "not json", "{", "<html></html>"]).map(
                lambda text: httpx.Response(status, text=text)
            ),
        ),
        label="response",
    )
    error = answer(twin, operation_id, response)
    assert isinstance(error, ResponseValidationError), f"{error!r} for {response.content!r}"
    assert error.status_code == status and error.response is not None
