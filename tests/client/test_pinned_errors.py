"""Pinned: how an error answer picks its class, the exception tree, and what an error says.

The rule (pingback_ext.errors): a 429 is always RateLimited; otherwise a known errorCode decides,
whatever the status; otherwise 5xx is ServerError, 403 Forbidden, a status the spec declares for
the operation its status class, and any other status UnexpectedStatus.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from pingback_ext import errors, spec
from tests.client import bodies
from tests.client.conftest import ClientFactory
from tests.resilience import conftest as resilience

no_sleep = resilience.no_sleep  # the fixture: retry waits recorded, not slept

KNOWN_CODES = {
    "MISSING_BODY": errors.MissingBody,
    "SUBSCRIBER_NOT_ENABLED": errors.SubscriberNotEnabled,
    "SUBSCRIBER_NOT_FOUND": errors.SubscriberNotFound,
    "SEGMENTATION_LIST_NOT_FOUND": errors.SegmentationListNotFound,
    "SUBSCRIBER_ALREADY_EXISTS": errors.SubscriberAlreadyExists,
    "INVALID_INPUT": errors.InvalidInput,
    "INVALID_PARAMS": errors.InvalidParams,
    "SUBSCRIBER_EMAIL_IS_NECESSARY": errors.SubscriberEmailIsNecessary,
    "INTERNAL_SERVER_ERROR": errors.ServerError,
}
#: The class of a declared status when the answer carries no errorCode we know.
BY_DECLARED_STATUS = {
    400: errors.BadRequest,
    403: errors.Forbidden,
    404: errors.NotFound,
    409: errors.Conflict,
    422: errors.UnprocessableEntity,
    429: errors.RateLimited,
    500: errors.ServerError,
}
#: Every exception and its direct parents (the tree in the module docstring).
TREE: dict[type, tuple[type, ...]] = {
    errors.PingbackError: (Exception,),
    errors.ConfigurationError: (errors.PingbackError, ValueError),
    errors.MissingAPIKeyError: (errors.ConfigurationError,),
    errors.InsecureBaseURLError: (errors.ConfigurationError,),
    errors.InvalidRequestError: (errors.PingbackError, ValueError),
    errors.RateLimiterError: (errors.PingbackError,),
    errors.TransportError: (errors.PingbackError,),
    errors.APITimeoutError: (errors.TransportError,),
    errors.APIConnectionError: (errors.TransportError,),
    errors.ResponseValidationError: (errors.PingbackError,),
    errors.APIError: (errors.PingbackError,),
    errors.BadRequest: (errors.APIError,),
    errors.MissingBody: (errors.BadRequest,),
    errors.SubscriberNotEnabled: (errors.BadRequest,),
    errors.Forbidden: (errors.APIError,),
    errors.NotFound: (errors.APIError,),
    errors.SubscriberNotFound: (errors.NotFound,),
    errors.SegmentationListNotFound: (errors.NotFound,),
    errors.Conflict: (errors.APIError,),
    errors.SubscriberAlreadyExists: (errors.Conflict,),
    errors.UnprocessableEntity: (errors.APIError,),
    errors.InvalidInput: (errors.UnprocessableEntity,),
    errors.InvalidParams: (errors.UnprocessableEntity,),
    errors.SubscriberEmailIsNecessary: (errors.UnprocessableEntity,),
    errors.RateLimited: (errors.APIError,),
    errors.ServerError: (errors.APIError,),
    errors.UnexpectedStatus: (errors.APIError,),
}


# ----------------------------------------------------------------------------- error_class


@pytest.mark.parametrize("declared", [True, False])
@pytest.mark.parametrize("code", [*KNOWN_CODES, "TOO_MANY_REQUESTS", "SOMETHING_NEW", None])
def test_a_429_is_rate_limited_whatever_its_error_code(code: str | None, declared: bool) -> None:
    assert errors.error_class(429, code, declared=declared) is errors.RateLimited


@pytest.mark.parametrize("declared", [True, False])
@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 418, 422, 500, 502, 503])
@pytest.mark.parametrize(("code", "expected"), KNOWN_CODES.items())
def test_a_known_error_code_decides_whatever_the_status(
    code: str, expected: type, status: int, declared: bool
) -> None:
    assert errors.error_class(status, code, declared=declared) is expected


@pytest.mark.parametrize(("status", "expected"), BY_DECLARED_STATUS.items())
@pytest.mark.parametrize("code", ["SOMETHING_NEW", None])
def test_a_declared_status_falls_back_to_its_class(
    status: int, expected: type, code: str | None
) -> None:
    assert errors.error_class(status, code, declared=True) is expected


@pytest.mark.parametrize("status", [500, 501, 502, 503, 504, 599])
@pytest.mark.parametrize("declared", [True, False])
def test_every_5xx_is_a_server_error(status: int, declared: bool) -> None:
    assert errors.error_class(status, "SOMETHING_NEW", declared=declared) is errors.ServerError
    assert errors.error_class(status, None, declared=declared) is errors.ServerError


@pytest.mark.parametrize("declared", [True, False])
def test_403_is_forbidden_declared_or_not(declared: bool) -> None:
    assert errors.error_class(403, None, declared=declared) is errors.Forbidden
    assert errors.error_class(403, "FORBIDDEN", declared=declared) is errors.Forbidden


@pytest.mark.parametrize("status", [300, 301, 302, 303, 304, 307, 308, 399])
@pytest.mark.parametrize("declared", [True, False])
def test_every_3xx_is_redirected_whatever_its_error_code(status: int, declared: bool) -> None:
    """The whole 3xx range, from 300 to 399: the key never follows one, and no errorCode in the
    body (a proxy's page could carry any) turns it into another error."""
    for code in ("SOMETHING_NEW", None, "SUBSCRIBER_NOT_FOUND", "INVALID_INPUT"):
        assert errors.error_class(status, code, declared=declared) is errors.Redirected
    assert issubclass(errors.Redirected, errors.UnexpectedStatus)


@pytest.mark.parametrize("status", [200, 299, 400, 404, 500])
def test_only_3xx_is_redirected(status: int) -> None:
    for code in ("SOMETHING_NEW", None, "SUBSCRIBER_NOT_FOUND"):
        assert errors.error_class(status, code, declared=True) is not errors.Redirected
        assert errors.error_class(status, code, declared=False) is not errors.Redirected


@pytest.mark.parametrize("status", [400, 401, 404, 405, 409, 418, 422, 499])
def test_an_undeclared_status_is_unexpected(status: int) -> None:
    assert errors.error_class(status, "SOMETHING_NEW", declared=False) is errors.UnexpectedStatus
    assert errors.error_class(status, None, declared=False) is errors.UnexpectedStatus


@pytest.mark.parametrize("status", [401, 405, 418, 499])
def test_a_declared_status_without_a_class_of_its_own_is_unexpected(status: int) -> None:
    assert errors.error_class(status, None, declared=True) is errors.UnexpectedStatus


# ----------------------------------------------------------------------------- through the client

CALLS: dict[str, tuple[str, str, tuple[Any, ...], dict[str, Any]]] = {
    "createSubscriber": ("POST", "subscribers.create", ("ana@example.com",), {}),
    "getSubscriber": ("GET", "subscribers.get", ("ana@example.com",), {}),
    "updateSubscriber": ("PUT", "subscribers.update", ("ana@example.com",), {"name": "Ana"}),
    "addSubscriberToSegment": (
        "POST", "segmentations.add_subscriber", ("ana@example.com", ["list-1"]), {},
    ),
    "removeSubscriberFromSegment": (
        "DELETE", "segmentations.remove_subscriber", ("list-1", "ana@example.com"), {},
    ),
}  # fmt: skip


def _declared_error_statuses() -> list[tuple[str, int]]:
    return [
        (operation_id, status)
        for operation_id in CALLS
        for status in sorted(spec.declared_statuses(operation_id))
        if status >= 400
    ]


def _call(pb: Any, operation_id: str) -> Any:
    _method, name, args, kwargs = CALLS[operation_id]
    group, method = name.split(".")
    return getattr(getattr(pb, group), method)(*args, max_retries=0, **kwargs)


@pytest.mark.parametrize(("operation_id", "status"), _declared_error_statuses())
def test_every_declared_status_with_an_unknown_code_maps_to_its_class(
    make_client: ClientFactory, api: respx.MockRouter, operation_id: str, status: int
) -> None:
    api.route(method=CALLS[operation_id][0]).respond(
        status, json=bodies.error("SOMETHING_NEW", "Something new went wrong.")
    )
    with pytest.raises(errors.APIError) as caught:
        _call(make_client(), operation_id)
    error = caught.value
    assert type(error) is BY_DECLARED_STATUS[status]
    assert (error.status_code, error.error_code) == (status, "SOMETHING_NEW")
    assert (error.message, error.request_id) == ("Something new went wrong.", bodies.REQUEST_ID)


@pytest.mark.parametrize("code", sorted(KNOWN_CODES))
def test_a_429_with_any_known_code_is_retried_as_rate_limited(
    make_client: ClientFactory, api: respx.MockRouter, no_sleep: list[float], code: str
) -> None:
    route = api.post("/subscriber").mock(
        side_effect=[
            httpx.Response(429, json=bodies.error(code), headers={"Retry-After": "1.5"}),
            httpx.Response(201, json=bodies.envelope(bodies.subscriber())),
        ]
    )
    sub = make_client().subscribers.create("ana@example.com", max_retries=1)
    assert sub.email == "ana@example.com" and route.call_count == 2
    assert no_sleep == [1.5]  # the server's Retry-After, not our backoff


@pytest.mark.parametrize("code", sorted(KNOWN_CODES))
def test_a_429_with_any_known_code_raises_rate_limited_when_out_of_retries(
    make_client: ClientFactory, api: respx.MockRouter, code: str
) -> None:
    api.get("/subscriber/ana%40example.com").respond(
        429, json=bodies.error(code, "Slow down."), headers={"Retry-After": "2"}
    )
    with pytest.raises(errors.RateLimited) as caught:
        make_client().subscribers.get("ana@example.com", max_retries=0)
    assert caught.value.retry_after == 2.0 and caught.value.error_code == code


# ----------------------------------------------------------------------------- the tree


@pytest.mark.parametrize(("cls", "parents"), TREE.items(), ids=lambda v: getattr(v, "__name__", ""))
def test_each_exception_has_its_documented_parents(cls: type, parents: tuple[type, ...]) -> None:
    assert cls.__bases__ == parents


@pytest.mark.parametrize(("code", "cls"), KNOWN_CODES.items())
def test_except_the_status_class_catches_the_code_class(code: str, cls: type) -> None:
    status_class = BY_DECLARED_STATUS[500 if cls is errors.ServerError else _status_of(cls)]
    with pytest.raises(status_class):
        raise cls("x", response=httpx.Response(400))


def _status_of(cls: type) -> int:
    for status, status_class in BY_DECLARED_STATUS.items():
        if issubclass(cls, status_class):
            return status
    raise AssertionError(cls)


# ----------------------------------------------------------------------------- what errors say


def _not_found(**kwargs: Any) -> errors.APIError:
    return errors.SubscriberNotFound(
        "Subscriber not found.", response=httpx.Response(404), **kwargs
    )


def test_str_of_an_error_is_status_code_message_and_request_id() -> None:
    error = _not_found(error_code="SUBSCRIBER_NOT_FOUND", request_id="rid-123")
    assert str(error) == "404 SUBSCRIBER_NOT_FOUND: Subscriber not found. (requestId rid-123)"


def test_str_of_an_error_leaves_out_what_it_lacks() -> None:
    assert str(_not_found()) == "404: Subscriber not found."
    assert str(_not_found(error_code="SUBSCRIBER_NOT_FOUND")) == (
        "404 SUBSCRIBER_NOT_FOUND: Subscriber not found."
    )
    assert str(_not_found(request_id="rid-123")) == "404: Subscriber not found. (requestId rid-123)"
    assert str(_not_found(error_code="", request_id="")) == "404: Subscriber not found."


def test_the_message_is_the_exception_argument_too() -> None:
    error = _not_found(error_code="SUBSCRIBER_NOT_FOUND", request_id="rid-123")
    assert error.args == (str(error),)


def test_repr_of_an_error_names_every_field() -> None:
    text = repr(_not_found(error_code="SUBSCRIBER_NOT_FOUND", request_id="rid-123"))
    assert text.startswith("SubscriberNotFound(")
    for part in ("404", "'SUBSCRIBER_NOT_FOUND'", "'Subscriber not found.'", "'rid-123'"):
        assert part in text


def test_error_fields() -> None:
    response = httpx.Response(409)
    error = errors.Conflict("dup", response=response, error_code="X", request_id="r")
    assert (error.message, error.status_code, error.error_code, error.request_id) == (
        "dup", 409, "X", "r",
    )  # fmt: skip
    assert error.response is response and error.attempts == 1
    limited = errors.RateLimited("slow", response=httpx.Response(429), retry_after=1.5)
    assert limited.retry_after == 1.5 and limited.status_code == 429
    assert errors.RateLimited("slow", response=httpx.Response(429)).retry_after is None


def test_transport_and_validation_error_fields() -> None:
    request = httpx.Request("GET", "https://connect.pingback.com/v1/x")
    sent = errors.APITimeoutError("timed out", request=request)
    assert sent.request is request and sent.request_sent is True and sent.attempts == 1
    assert str(sent) == "timed out"
    unsent = errors.APIConnectionError("refused", request_sent=False)
    assert unsent.request is None and unsent.request_sent is False
    bad = errors.ResponseValidationError("broken", response=httpx.Response(502))
    assert bad.status_code == 502 and bad.response.status_code == 502 and str(bad) == "broken"
