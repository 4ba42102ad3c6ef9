"""pingback_ext: the Pingback API client people import, on top of the generated client
(`pingback_ext._generated`, from openapi-python-client).

    from pingback_ext import Pingback
    with Pingback(api_key="…", developer_mode=True) as pb:
        sub = pb.subscribers.create("ana@example.com", name="Ana")

Errors: see pingback_ext.errors (one hierarchy, rooted at PingbackError).
Importing this package loads the client only: the CLI, the mock and the contract suite live in
subpackages with their own extras (see pingback_ext.extras). The result types subclass the
generated models, which load on first use (with the first call, or when a result type is named):
attrs and the generated client would otherwise be a third of `import pingback_ext`.
"""

import typing

__version__ = "0.1.0"  # the one place the version is written (pyproject reads it)

from pingback_ext.bulk import BulkReport, RecordOutcome
from pingback_ext.client import AsyncPingback, Pingback
from pingback_ext.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    BadRequest,
    ClientClosedError,
    ConfigurationError,
    Conflict,
    Forbidden,
    InsecureBaseURLError,
    InvalidInput,
    InvalidParams,
    InvalidRequestError,
    MissingAPIKeyError,
    MissingBody,
    NotFound,
    PingbackError,
    RateLimited,
    RateLimiterError,
    Redirected,
    ResponseValidationError,
    SegmentationListNotFound,
    ServerError,
    SubscriberAlreadyExists,
    SubscriberEmailIsNecessary,
    SubscriberNotEnabled,
    SubscriberNotFound,
    SyncStateError,
    TransportError,
    UnexpectedStatus,
    UnprocessableEntity,
)
from pingback_ext.ratelimit import LocalPacer, RedisPacer
from pingback_ext.settings import NOT_GIVEN, APIKey, NotGiven
from pingback_ext.spec import UnknownValue
from pingback_ext.upsert import Upserted

#: Public names of pingback_ext.results, imported on first use (see the module doc).
_RESULTS = ("MembershipList", "SegmentationMembership", "Subscriber")

if typing.TYPE_CHECKING:
    from pingback_ext.results import MembershipList, SegmentationMembership, Subscriber
else:  # hidden from type checkers, which see the import above (no name is typed as Any)

    def __getattr__(name: str) -> typing.Any:
        if name in _RESULTS:
            from pingback_ext import results

            value = getattr(results, name)
            globals()[name] = value
            return value
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*globals(), *_RESULTS})


__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIError",
    "APIKey",
    "APITimeoutError",
    "AsyncPingback",
    "BadRequest",
    "BulkReport",
    "ClientClosedError",
    "ConfigurationError",
    "Conflict",
    "Forbidden",
    "InsecureBaseURLError",
    "InvalidInput",
    "InvalidParams",
    "InvalidRequestError",
    "LocalPacer",
    "MembershipList",
    "MissingAPIKeyError",
    "MissingBody",
    "NotFound",
    "NotGiven",
    "Pingback",
    "PingbackError",
    "RateLimited",
    "RateLimiterError",
    "RecordOutcome",
    "Redirected",
    "RedisPacer",
    "ResponseValidationError",
    "SegmentationListNotFound",
    "SegmentationMembership",
    "ServerError",
    "Subscriber",
    "SubscriberAlreadyExists",
    "SubscriberEmailIsNecessary",
    "SubscriberNotEnabled",
    "SubscriberNotFound",
    "SyncStateError",
    "TransportError",
    "UnexpectedStatus",
    "UnknownValue",
    "UnprocessableEntity",
    "Upserted",
]
