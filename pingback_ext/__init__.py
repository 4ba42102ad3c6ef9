"""pingback_ext: the Pingback API client people import, on top of the generated pingback_client.

    from pingback_ext import Pingback
    with Pingback(api_key="…", developer_mode=True) as pb:
        sub = pb.subscribers.create("ana@example.com", name="Ana")

Errors: see pingback_ext.errors (one hierarchy, rooted at PingbackError).
Importing this package loads the client only: the CLI, the mock and the contract suite live in
subpackages with their own extras (see pingback_ext.extras).
"""

__version__ = "0.1.0"  # the one place the version is written (pyproject reads it)

from pingback_ext.bulk import BulkReport, RecordOutcome
from pingback_ext.client import AsyncPingback, Pingback
from pingback_ext.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    BadRequest,
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
    TransportError,
    UnexpectedStatus,
    UnprocessableEntity,
)
from pingback_ext.ratelimit import LocalPacer, RedisPacer
from pingback_ext.results import MembershipList, SegmentationMembership, Subscriber
from pingback_ext.settings import NOT_GIVEN, APIKey, NotGiven
from pingback_ext.spec import UnknownValue

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIError",
    "APIKey",
    "APITimeoutError",
    "AsyncPingback",
    "BadRequest",
    "BulkReport",
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
    "TransportError",
    "UnexpectedStatus",
    "UnknownValue",
    "UnprocessableEntity",
]
