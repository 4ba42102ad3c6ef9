"""One call, from arguments to a typed result or a typed error, shared by sync and async.

A call is a *plan*: a generator that yields actions (send this request, sleep, wait for the
rate limiter) and receives their outcomes. `Pingback` performs the actions with blocking I/O and
`AsyncPingback` with `await`; everything else — building the request, reading the answer,
retries, logging — is written once, here.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol, TypeVar

import httpx
from pingback_client.types import UNSET

from pingback_ext import spec
from pingback_ext.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    RateLimited,
    ResponseValidationError,
    TransportError,
    error_class,
)
from pingback_ext.retries import NEVER_SENT, RetryPolicy, parse_retry_after
from pingback_ext.settings import Settings

logger = logging.getLogger("pingback")

T = TypeVar("T")
REDACTED = "[redacted]"
USER_AGENT = "pingback-toolkit/0.1 (python)"


# ----------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class Send:
    """Send one HTTP request; the outcome is an httpx.Response or an httpx.TransportError."""

    method: str
    url: str
    headers: dict[str, str]
    json: Any
    timeout: httpx.Timeout


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Acquire:
    """Wait for the rate limiter of this API key (no outcome)."""


@dataclass(frozen=True)
class Pause:
    """Tell everyone sharing this API key's limiter to hold off for `seconds` (a 429 came)."""

    seconds: float


Action = Send | Sleep | Acquire | Pause
Plan = Generator[Action, Any, T]


class Pacer(Protocol):
    """Client-side rate limiting in front of every request (see pingback_ext.ratelimit)."""

    def acquire(self) -> None: ...

    async def acquire_async(self) -> None: ...

    def pause(self, seconds: float) -> None: ...


# ----------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Operation:
    """One generated endpoint: how to build its request and read its success body."""

    operation_id: str
    module: ModuleType  # a generated pingback_client.api module (its _get_kwargs)
    parse: Callable[[dict[str, Any], httpx.Response], Any]
    idempotent: bool


def redact(request: httpx.Request | None) -> None:
    """Replace the API key in a sent request, so responses and errors can be kept safely."""
    if request is not None and "x-api-key" in request.headers:
        request.headers["x-api-key"] = REDACTED


def build_send(settings: Settings, operation: Operation, arguments: dict[str, Any]) -> Send:
    kwargs = operation.module._get_kwargs(
        **arguments, x_developer_mode=True if settings.developer_mode else UNSET
    )
    headers = {
        **kwargs.get("headers", {}),
        "x-api-key": settings.api_key.reveal(),
        "accept": "application/json",
        "user-agent": USER_AGENT,
    }
    return Send(
        method=kwargs["method"].upper(),
        url=settings.base_url + kwargs["url"],
        headers=headers,
        json=kwargs.get("json"),
        timeout=settings.timeout,
    )


def _json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_from(operation: Operation, response: httpx.Response, body: Any) -> APIError:
    status = response.status_code
    declared = status in spec.declared_statuses(operation.operation_id)
    fields = body if isinstance(body, dict) else {}
    # 403, 429 and 5xx may come from proxies and gateways in front of Pingback, with bodies of
    # their own: map them by status. Other declared errors must have the spec's shape.
    strict = declared and status < 500 and status not in (403, 429)
    validator = spec.response_validator(operation.operation_id, status) if strict else None
    if validator is not None:
        problem = spec.first_violation(validator, body)
        if problem is not None:
            raise ResponseValidationError(
                f"{operation.operation_id}: {status} body breaks the spec: {problem}",
                response=response,
            )
    error_code = fields.get("errorCode") if isinstance(fields.get("errorCode"), str) else None
    request_id = fields.get("requestId") if isinstance(fields.get("requestId"), str) else None
    message = fields.get("error") if isinstance(fields.get("error"), str) else None
    if not message:
        message = response.reason_phrase or "error"
    cls = error_class(status, error_code, declared=declared)
    if cls is RateLimited:
        return RateLimited(
            message,
            response=response,
            error_code=error_code,
            request_id=request_id,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    return cls(message, response=response, error_code=error_code, request_id=request_id)


def interpret(operation: Operation, response: httpx.Response) -> Any:
    """The typed result of a success answer; raises the typed error of any other."""
    body = _json_body(response)
    if response.status_code >= 300:
        raise _error_from(operation, response, body)
    op_id = operation.operation_id
    validator = spec.response_validator(op_id, response.status_code)
    if validator is None:
        raise ResponseValidationError(
            f"{op_id}: status {response.status_code} is not declared by the spec",
            response=response,
        )
    problem = spec.first_violation(validator, body)
    if problem is not None:
        raise ResponseValidationError(
            f"{op_id}: body breaks the spec: {problem}", response=response
        )
    try:
        return operation.parse(body, response)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResponseValidationError(
            f"{op_id}: body could not be read: {type(exc).__name__}: {exc}", response=response
        ) from None


def _transport_error(exc: httpx.TransportError, where: str) -> TransportError:
    try:
        request: httpx.Request | None = exc.request
    except RuntimeError:  # httpx raises this when the error has no request attached
        request = None
    redact(request)
    sent = not isinstance(exc, NEVER_SENT)
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(
            f"{where}: timed out ({type(exc).__name__})", request=request, request_sent=sent
        )
    return APIConnectionError(
        f"{where}: {type(exc).__name__}: {exc}", request=request, request_sent=sent
    )


def settle(
    operation: Operation,
    outcome: httpx.Response | httpx.TransportError,
    where: str,
    millis: float,
) -> Any:
    """The result of one attempt, or the PingbackError it amounts to (raised)."""
    if not isinstance(outcome, httpx.Response):
        logger.debug("%s -> %s (%.1f ms)", where, type(outcome).__name__, millis)
        raise _transport_error(outcome, where)
    redact(outcome.request)
    if logger.isEnabledFor(logging.DEBUG):
        body = _json_body(outcome)
        rid = body.get("requestId") if isinstance(body, dict) else None
        logger.debug("%s -> %s (requestId=%s, %.1f ms)", where, outcome.status_code, rid, millis)
    return interpret(operation, outcome)


def request_plan(
    settings: Settings,
    operation: Operation,
    arguments: dict[str, Any],
    policy: RetryPolicy,
    clock: Callable[[], float] = time.monotonic,
) -> Plan[Any]:
    """Send the call, retrying as the policy allows; return its typed result.

    The policy's time budget counts time spent failing and backing off, not the time queued
    behind the rate limiter before the first attempt (it grows with the callers sharing a key).
    """
    send = build_send(settings, operation, arguments)
    where = f"{send.method} {send.url}"
    started = clock()
    queued = 0.0
    for attempt in itertools.count(1):
        yield Acquire()
        sent_at = clock()
        if attempt == 1:
            queued = sent_at - started
        outcome = yield send
        try:
            return settle(operation, outcome, where, (clock() - sent_at) * 1000)
        except (APIError, TransportError) as error:
            failure = error
        failure.attempts = attempt
        if isinstance(failure, RateLimited) and failure.retry_after:
            yield Pause(failure.retry_after)
        elapsed = clock() - started - queued
        delay = policy.next_delay(
            failure, idempotent=operation.idempotent, retry=attempt, elapsed=elapsed
        )
        if delay is None:
            raise failure
        logger.info(
            "%s: retrying in %.2fs (retry %d of %d) after %s",
            where, delay, attempt, policy.max_retries, _reason(failure, where),
        )  # fmt: skip
        yield Sleep(delay)
    raise AssertionError("unreachable")


def _reason(failure: APIError | TransportError, where: str) -> str:
    if isinstance(failure, APIError):
        return f"{failure.status_code} {failure.error_code or ''}".strip()
    return f"{type(failure).__name__} ({str(failure).removeprefix(where + ': ')})"
