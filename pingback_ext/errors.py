"""Every exception pingback_ext raises, in one place.

    PingbackError
    ├── ConfigurationError (also ValueError)      bad settings, found when the client is built
    │   ├── MissingAPIKeyError                    no api_key and no PINGBACK_API_KEY
    │   └── InsecureBaseURLError                  http:// to a host that is not loopback
    ├── InvalidRequestError (also ValueError)     refused before anything is sent
    ├── ClientClosedError (also RuntimeError)     a call on a closed client (nothing is sent)
    ├── RateLimiterError                          the shared (Redis) rate limiter is unreachable
    ├── SyncStateError                            a bulk sync's state file cannot be used
    ├── TransportError                            the request got no HTTP answer
    │   ├── APITimeoutError
    │   └── APIConnectionError
    ├── ResponseValidationError                   an answer that breaks the spec
    └── APIError                                  an HTTP error answer (see error_class)
        ├── BadRequest (400)
        │   ├── MissingBody                       MISSING_BODY
        │   └── SubscriberNotEnabled              SUBSCRIBER_NOT_ENABLED
        ├── Forbidden (403)
        ├── NotFound (404)
        │   ├── SubscriberNotFound                SUBSCRIBER_NOT_FOUND
        │   └── SegmentationListNotFound          SEGMENTATION_LIST_NOT_FOUND
        ├── Conflict (409)
        │   └── SubscriberAlreadyExists           SUBSCRIBER_ALREADY_EXISTS
        ├── UnprocessableEntity (422)
        │   ├── InvalidInput                      INVALID_INPUT
        │   ├── InvalidParams                     INVALID_PARAMS
        │   └── SubscriberEmailIsNecessary        SUBSCRIBER_EMAIL_IS_NECESSARY
        ├── RateLimited (429)                     .retry_after in seconds
        ├── ServerError (5xx)                     INTERNAL_SERVER_ERROR and the rest
        └── UnexpectedStatus                      any status the spec does not declare
            └── Redirected (3xx)                  .location; redirects are never followed

How an error answer picks its class (`error_class`): a 429 is always RateLimited (it drives
retries) and a 3xx Redirected (the key must not follow a redirect); otherwise a known errorCode
decides, whatever the status; otherwise 5xx is ServerError, 403 Forbidden, a status the spec
declares for the operation its status class, and any other status UnexpectedStatus.

An error answer is typed by its status (and errorCode) whatever its body: an empty body, `{}`,
a proxy's HTML page or a bare string still make a 404 NotFound, a 502 ServerError, a 429
RateLimited. The answer is kept: `error.response` (status, headers, raw bytes) and `error.body`.

Exceptions never carry the API key: requests attached to them have it redacted.
"""

from __future__ import annotations

import json

import httpx


def _body_of(response: httpx.Response) -> object:
    """A response's body as it came: parsed JSON, else its text, or None when it is empty."""
    content = response.content
    if not content.strip():
        return None
    try:
        parsed: object = json.loads(content)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than the reader goes
        return response.text
    return parsed


class PingbackError(Exception):
    """Root of every exception raised by pingback_ext."""


class ConfigurationError(PingbackError, ValueError):
    """The client cannot be built with these settings."""


class MissingAPIKeyError(ConfigurationError):
    """No API key was given and PINGBACK_API_KEY is not set."""


class InsecureBaseURLError(ConfigurationError):
    """The base URL is plain http:// to a host that is not loopback; the key would leak."""


class InvalidRequestError(PingbackError, ValueError):
    """The call's arguments cannot make a valid request (nothing was sent)."""


class ClientClosedError(PingbackError, RuntimeError):
    """The client (or the connection pool it uses) was closed: nothing was sent."""


class RateLimiterError(PingbackError):
    """The shared rate limiter could not be reached (for example, Redis is down)."""


class SyncStateError(PingbackError):
    """The sync state (bulk_upsert's `state=`) cannot be read or written: permissions, a
    read-only file system, a full disk, a damaged file. `email` names the record Pingback
    accepted but the state could not record (None when the failure came before a request)."""

    def __init__(self, message: str, *, email: str | None = None) -> None:
        super().__init__(message)
        self.email = email


class TransportError(PingbackError):
    """The request failed below HTTP: no answer was received.

    `request_sent` is False when the connection was never made (safe to retry any call).
    `attempts` is how many times the call was tried.
    """

    attempts: int = 1

    def __init__(
        self, message: str, *, request: httpx.Request | None = None, request_sent: bool = True
    ) -> None:
        super().__init__(message)
        self.request = request
        self.request_sent = request_sent


class APITimeoutError(TransportError):
    """The request timed out."""


class APIConnectionError(TransportError):
    """The connection could not be made or broke."""


class ResponseValidationError(PingbackError):
    """The server answered with a body (or status) that breaks the spec: by default, only a
    success answer the client cannot use (no `data`, no email); with `strict=True`, any
    departure from the spec. The answer is kept in `response` and `body`."""

    def __init__(self, message: str, *, response: httpx.Response) -> None:
        super().__init__(message)
        self.response = response
        self.status_code = response.status_code

    @property
    def body(self) -> object:
        """The answer's body: parsed JSON, else its text, None when empty."""
        return _body_of(self.response)


class APIError(PingbackError):
    """An HTTP error answer from Pingback. `attempts` is how many times the call was tried."""

    attempts: int = 1

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        error_code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.message = message
        self.response = response
        self.status_code = response.status_code
        self.error_code = error_code
        self.request_id = request_id
        super().__init__(self.__str__())

    def __str__(self) -> str:
        code = f" {self.error_code}" if self.error_code else ""
        rid = f" (requestId {self.request_id})" if self.request_id else ""
        return f"{self.status_code}{code}: {self.message}{rid}"

    @property
    def body(self) -> object:
        """The answer's body as it came: parsed JSON, else its text (a proxy's HTML page, a
        bare string), None when empty. The raw bytes are `response.content`."""
        return _body_of(self.response)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, "
            f"error_code={self.error_code!r}, message={self.message!r}, "
            f"request_id={self.request_id!r})"
        )


class BadRequest(APIError):
    """400."""


class MissingBody(BadRequest):
    """400 MISSING_BODY: the call needs a body."""


class SubscriberNotEnabled(BadRequest):
    """400 SUBSCRIBER_NOT_ENABLED: the subscriber is unsubscribed or blacklisted."""


class Forbidden(APIError):
    """403: the API key is missing or not valid."""


class NotFound(APIError):
    """404."""


class SubscriberNotFound(NotFound):
    """404 SUBSCRIBER_NOT_FOUND."""


class SegmentationListNotFound(NotFound):
    """404 SEGMENTATION_LIST_NOT_FOUND."""


class Conflict(APIError):
    """409."""


class SubscriberAlreadyExists(Conflict):
    """409 SUBSCRIBER_ALREADY_EXISTS."""


class UnprocessableEntity(APIError):
    """422."""


class InvalidInput(UnprocessableEntity):
    """422 INVALID_INPUT: a field is not valid; the message names it."""


class InvalidParams(UnprocessableEntity):
    """422 INVALID_PARAMS."""


class SubscriberEmailIsNecessary(UnprocessableEntity):
    """422 SUBSCRIBER_EMAIL_IS_NECESSARY."""


class RateLimited(APIError):
    """429: too many requests. `retry_after` is the wait the server asked for, if any.

    `sent` is False when the client refused to send at all: an earlier 429 paused this key's
    pacer for longer than the call may wait (its timeout or retry budget). `response` is then
    the client's own 429 (no body from the server), `retry_after` the pause left.
    """

    sent: bool = True

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        error_code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, response=response, error_code=error_code, request_id=request_id)


class ServerError(APIError):
    """5xx."""


class UnexpectedStatus(APIError):
    """A status the spec does not declare for this operation."""


class Redirected(UnexpectedStatus):
    """3xx: the server redirected to `location`. Never followed: the API key would go along to
    wherever it points (another host, plain http). Usually base_url is wrong."""

    @property
    def location(self) -> str | None:
        location: str | None = self.response.headers.get("location")
        return location

    def __str__(self) -> str:
        return f"{self.status_code}: redirected to {self.location!r}; not followed ({self.message})"


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


def error_class(status_code: int, error_code: str | None, *, declared: bool) -> type[APIError]:
    """429, then 3xx, then a known errorCode (it wins over 5xx and 403 too), then the status:
    5xx, 403, a declared status's class, else UnexpectedStatus (see the module docstring)."""
    if status_code == 429:
        return RateLimited
    if 300 <= status_code < 400:
        return Redirected
    if error_code in BY_ERROR_CODE:
        return BY_ERROR_CODE[error_code]
    if status_code >= 500:
        return ServerError
    if status_code == 403:
        return Forbidden
    if not declared:
        return UnexpectedStatus
    return BY_STATUS.get(status_code, UnexpectedStatus)
