"""One call, from arguments to a typed result or a typed error, shared by sync and async.

A call is a *plan*: a generator that yields actions (send this request, sleep, wait for the
rate limiter) and receives their outcomes. `Pingback` performs the actions with blocking I/O and
`AsyncPingback` with `await`; everything else — building the request, reading the answer,
retries, logging — is written once, here.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import math
import time
from collections.abc import Callable, Generator
from types import ModuleType
from typing import Any, Literal, NamedTuple, Protocol, TypeVar

import httpx

from pingback_ext import spec
from pingback_ext.bodies import Extras
from pingback_ext.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    InvalidRequestError,
    RateLimited,
    ResponseValidationError,
    ServerError,
    TransportError,
    error_class,
)
from pingback_ext.retries import NEVER_SENT, RetryPolicy, parse_retry_after
from pingback_ext.settings import APIKey, Settings, attempt_limit

logger = logging.getLogger("pingback")

T = TypeVar("T")
REDACTED = "[redacted]"
USER_AGENT = "pingback-toolkit/0.1 (python)"


# ----------------------------------------------------------------------------- actions
# The value types of this module are NamedTuples, not frozen dataclasses: a frozen dataclass
# compiles its methods with exec() when it is defined (about 0.6 ms each, on every import of
# the package), a NamedTuple costs a fifth of that. They are told apart by isinstance only.


class Send(NamedTuple):
    """Send one HTTP request; the outcome is an httpx.Response or an httpx.RequestError.

    It holds the APIKey object, never the key as text: the header is made at the last moment
    by `http_request`, so no repr, log line or traceback frame of a Send shows the key.
    `attempt_limit` bounds the attempt as a whole (seconds; None: no limit), the body included.
    """

    method: str
    url: str
    api_key: APIKey
    headers: tuple[tuple[str, str], ...]
    params: tuple[tuple[str, str], ...]
    json: Any
    timeout: httpx.Timeout
    attempt_limit: float | None


class Sleep(NamedTuple):
    seconds: float


class Acquire(NamedTuple):
    """Wait for the rate limiter of this API key. The outcome is 0.0 once admitted, or, when
    a 429's pause has longer to run than `max_pause`, the seconds left (nothing was sent)."""

    max_pause: float = math.inf


class Pause(NamedTuple):
    """Tell everyone sharing this API key's limiter to hold off for `seconds` (a 429 came)."""

    seconds: float


Action = Send | Sleep | Acquire | Pause
Plan = Generator[Action, Any, T]


class Pacer(Protocol):
    """Client-side rate limiting in front of every request (see pingback_ext.ratelimit)."""

    def acquire(self, max_pause: float = ...) -> float: ...

    async def acquire_async(self, max_pause: float = ...) -> float: ...

    def pause(self, seconds: float) -> None: ...


# ----------------------------------------------------------------------------- operations


#: Runs a follow-up request of the same call (same settings, headers and retries): a
#: confirmation reads Pingback with it.
Read = Callable[["Operation", dict[str, Any]], "Plan[Any]"]


class Retry(NamedTuple):
    """What retrying one operation means; calls.py declares one per operation, in one table,
    and `request_plan` applies it.

    `after_sent`: the operation may be sent again after an attempt that may have reached the
    server (a timeout or a broken connection after sending, a 5xx). Any operation is retried
    when nothing was sent (the connection was never made) or after a 429 (see retries.py).
    `already_done`: the error a retry meets when an earlier attempt did the work and only its
    answer was lost; `confirm(read, arguments)` then reads Pingback and returns the call's
    success, or None when what it reads does not show the earlier attempt landed (the error
    stands). Met on a first attempt, or after attempts that cannot have acted, it is an error.
    """

    after_sent: bool
    already_done: type[APIError] | None = None
    confirm: Callable[[Read, dict[str, Any]], Plan[Any]] | None = None


class Operation(NamedTuple):
    """One generated endpoint: how to build its request, read its success body, and retry it.

    The first two come from the generated client, whose attrs models are about a third of what
    `import pingback_ext` would cost: an Operation names them, and they load with the first call.
    """

    operation_id: str
    #: its generated module under `pingback_ext._generated.api` (`_get_kwargs` builds the request)
    api: str
    #: the function of `pingback_ext.results` that reads its success body
    result: Literal["subscriber", "membership", "memberships"]
    retry: Retry

    @property
    def module(self) -> ModuleType:
        return importlib.import_module(f"pingback_ext._generated.api.{self.api}")

    def parse(self, body: dict[str, Any], response: httpx.Response) -> Any:
        """The typed result of a success body (already checked against the spec)."""
        from pingback_ext import results

        read: Callable[[dict[str, Any], httpx.Response], Any] = getattr(results, self.result)
        return read(body, response)


def redact(request: httpx.Request | None) -> None:
    """Replace the API key in a sent request, so responses and errors can be kept safely."""
    if request is not None and "x-api-key" in request.headers:
        request.headers["x-api-key"] = REDACTED


def http_request(http: httpx.Client | httpx.AsyncClient, send: Send) -> httpx.Request:
    """The httpx request for a Send: the one place where the API key becomes a header.

    Whatever httpx refuses to build (a URL too long, text it cannot encode) is an
    InvalidRequestError: nothing was sent.
    """
    try:
        request = http.build_request(
            send.method,
            send.url,
            params=send.params or None,
            headers=send.headers,
            json=send.json,
            timeout=send.timeout,
        )
    except (httpx.InvalidURL, httpx.HTTPError, UnicodeError, ValueError, TypeError) as exc:
        raise InvalidRequestError(
            f"{send.method} {send.url[:200]!r}: cannot be sent ({type(exc).__name__})"
        ) from None
    mode = [value for name, value in send.headers if name.lower() == "x-developer-mode"]
    if request.headers.get_list("x-developer-mode") != mode:  # the http_client's own headers
        raise InvalidRequestError(
            f"{send.method} {send.url[:200]!r}: not sent: the http_client's headers set "
            "'x-developer-mode' (added after the client was built); pass developer_mode= instead"
        )
    request.headers["x-api-key"] = send.api_key.reveal()
    return request


def build_send(
    settings: Settings, operation: Operation, arguments: dict[str, Any], extras: Extras
) -> Send:
    if settings.developer_mode:  # the generated default leaves the header out
        arguments = {**arguments, "x_developer_mode": True}
    kwargs = operation.module._get_kwargs(**arguments)
    headers = {
        **kwargs.get("headers", {}),
        "accept": "application/json",
        "user-agent": USER_AGENT,
        **dict(settings.default_headers),
        **dict(extras.headers),
    }
    body = kwargs.get("json")
    if extras.body:
        if body is not None and not isinstance(body, dict):
            raise InvalidRequestError(
                f"{operation.operation_id}: extra_body needs a JSON object body"
            )
        body = {**(body or {}), **extras.body}
    return Send(
        method=kwargs["method"].upper(),
        url=settings.base_url + kwargs["url"],
        api_key=settings.api_key,
        headers=tuple(headers.items()),
        params=extras.query,
        json=body,
        timeout=settings.timeout,
        attempt_limit=attempt_limit(settings.timeout),
    )


def _json_body(response: httpx.Response) -> Any:
    """The body as JSON, or None (empty, not JSON, not UTF-8: a proxy's page; nested deeper
    than the JSON reader goes)."""
    try:
        return response.json()
    except (ValueError, UnicodeError, RecursionError):
        return None


def _error_from(
    operation: Operation, response: httpx.Response, body: Any, *, strict: bool
) -> APIError:
    """The typed error of an error answer: by its status, and its errorCode when it has one.

    Whatever the body (empty, `{}`, a proxy's HTML, a bare string, fields of the wrong type),
    the error is the status's; the body stays on `error.response` (and `error.body`). Strict
    reading also checks the body of a status the spec declares, except 403, 429, 3xx and 5xx,
    which proxies and gateways in front of Pingback answer with bodies of their own.
    """
    status = response.status_code
    declared = status in spec.declared_statuses(operation.operation_id)
    checked = strict and declared and status < 500 and status not in (403, 429)
    if checked and spec.response_validator(operation.operation_id, status) is not None:
        problem = spec.read_body(operation.operation_id, status, body, strict=True).problem
        if problem is not None:
            raise ResponseValidationError(
                f"{operation.operation_id}: {status} body breaks the spec: {problem}",
                response=response,
            )
    fields = body if isinstance(body, dict) else {}
    error_code = _text_field(fields, "errorCode")
    request_id = _text_field(fields, "requestId")
    message = _text_field(fields, "error") or response.reason_phrase or "error"
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


def _text_field(fields: dict[str, Any], name: str) -> str | None:
    """A text field of an error body as sent; a value of another type is as good as absent."""
    value = fields.get(name)
    return value if isinstance(value, str) else None


def interpret(operation: Operation, response: httpx.Response, *, strict: bool = False) -> Any:
    """The typed result of a success answer; raises the typed error of any other.

    `strict`: the body must be exactly what the spec allows, with the status it declares.
    Otherwise (the default) every answer whose meaning is clear is read (pingback_ext.spec): new
    enum values (kept as `UnknownValue` strings), new fields (kept in the models'
    `additional_properties`, so `to_dict()` returns them), nulls, scalars for strings, any 2xx
    status. ResponseValidationError is left for success answers the client cannot use.
    """
    body = _json_body(response)
    if response.status_code >= 300:
        raise _error_from(operation, response, body, strict=strict)
    op_id = operation.operation_id
    status = response.status_code
    if spec.response_validator(op_id, status) is None:
        if strict:
            raise ResponseValidationError(
                f"{op_id}: status {status} is not declared by the spec", response=response
            )
        status = spec.success_status(op_id)  # a 200 for a 201: the same answer
    reading = spec.read_body(op_id, status, body, strict=strict)
    if reading.problem is not None:
        raise ResponseValidationError(
            f"{op_id}: body breaks the spec: {reading.problem}", response=response
        )
    try:
        result = operation.parse(reading.body, response)
        reading.restore(result)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise ResponseValidationError(
            f"{op_id}: body could not be read: {type(exc).__name__}: {exc}", response=response
        ) from None
    return result


def _transport_error(exc: httpx.RequestError, where: str) -> TransportError:
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
    outcome: httpx.Response | httpx.RequestError,
    where: str,
    millis: float,
    *,
    strict: bool = False,
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
    return interpret(operation, outcome, strict=strict)


def request_plan(
    settings: Settings,
    operation: Operation,
    arguments: dict[str, Any],
    policy: RetryPolicy,
    extras: Extras | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Plan[Any]:
    """Send the call, retrying as the policy allows; return its typed result.

    The policy's time budget counts time spent failing and backing off, not the time queued
    behind the rate limiter before the first attempt (it grows with the callers sharing a key).
    A 429's pause, though, is waited out only if it ends within what the call may still wait
    (its budget, and its timeout); otherwise the call raises RateLimited at once.
    What a retry may meet, and how it is confirmed, is the operation's `Retry` rule. The result
    (or error) says in `attempts` how many times the request was sent.
    """
    extras = extras or Extras()
    send = build_send(settings, operation, arguments, extras)
    where = f"{send.method} {send.url}"
    started = clock()
    queued = 0.0
    may_have_acted = False  # an earlier attempt may have done the work (its answer was lost)
    rule = operation.retry
    for attempt in itertools.count(1):
        held = yield Acquire(_may_wait(policy, send, clock() - started - queued))
        if held:
            raise _held_back(send, held, attempt)
        sent_at = clock()
        if attempt == 1:
            queued = sent_at - started
        outcome = yield send
        try:
            result = settle(
                operation, outcome, where, (clock() - sent_at) * 1000, strict=settings.strict
            )
            result.attempts = attempt
            return result
        except (APIError, TransportError) as error:
            failure = error
        failure.attempts = attempt
        if may_have_acted and rule.already_done and isinstance(failure, rule.already_done):
            assert rule.confirm is not None

            def read(follow_up: Operation, follow_args: dict[str, Any]) -> Plan[Any]:
                reading = Extras(headers=extras.headers, query=extras.query)
                return request_plan(settings, follow_up, follow_args, policy, reading, clock)

            confirmed = yield from rule.confirm(read, arguments)
            if confirmed is None:
                raise failure
            logger.info("%s: the retry met %s; Pingback shows an earlier attempt did it",
                        where, _reason(failure, where))  # fmt: skip
            confirmed.attempts = attempt
            return confirmed
        may_have_acted = may_have_acted or _may_have_acted(failure)
        if isinstance(failure, RateLimited) and failure.retry_after:
            yield Pause(failure.retry_after)  # everyone sharing the key holds off (bounded)
            if failure.retry_after > _may_wait(policy, send, clock() - started - queued):
                raise failure  # this call may not wait that long: say so now, do not block
        elapsed = clock() - started - queued
        delay = policy.next_delay(
            failure, idempotent=rule.after_sent, retry=attempt, elapsed=elapsed
        )
        if delay is None:
            raise failure
        logger.info(
            "%s: retrying in %.2fs (retry %d of %d) after %s",
            where, delay, attempt, policy.max_retries, _reason(failure, where),
        )  # fmt: skip
        yield Sleep(delay)
    raise AssertionError("unreachable")


def _may_have_acted(failure: APIError | TransportError) -> bool:
    """Whether the server may have done what a failed attempt asked: the request went out and
    no answer says it did nothing (a 5xx may come after the work, from a gateway or a crash)."""
    if isinstance(failure, TransportError):
        return failure.request_sent
    return isinstance(failure, ServerError)


def _may_wait(policy: RetryPolicy, send: Send, spent: float) -> float:
    """How long a call may still wait for a 429's pause: what is left of its retry budget, and
    no longer than its timeout (a call with `timeout=2` is not kept waiting for 30 s)."""
    left = max(0.0, policy.budget - spent)
    return left if send.attempt_limit is None else min(left, send.attempt_limit)


def _held_back(send: Send, seconds: float, attempt: int) -> RateLimited:
    """The RateLimited of a call the pacer held back (an earlier 429's pause is too long)."""
    request = httpx.Request(send.method, send.url)  # never sent, and without the key
    response = httpx.Response(
        429, headers={"retry-after": str(math.ceil(seconds))}, request=request
    )
    error = RateLimited(
        f"not sent: an earlier 429 paused this API key for {seconds:.1f} s more, "
        "longer than this call may wait (its timeout or retry budget)",
        response=response,
        retry_after=seconds,
    )
    error.sent = False
    error.attempts = attempt
    return error


def _reason(failure: APIError | TransportError, where: str) -> str:
    if isinstance(failure, APIError):
        return f"{failure.status_code} {failure.error_code or ''}".strip()
    return f"{type(failure).__name__} ({str(failure).removeprefix(where + ': ')})"
