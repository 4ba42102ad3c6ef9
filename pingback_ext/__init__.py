"""pingback_ext: the Pingback API client people import, on top of the generated client
(`pingback_ext._generated`, from openapi-python-client).

    from pingback_ext import Pingback
    with Pingback(api_key="…", developer_mode=True) as pb:
        sub = pb.subscribers.create("ana@example.com", name="Ana")

Errors: see pingback_ext.errors (one hierarchy, rooted at PingbackError).
The CLI, the mock and the contract suite live in subpackages with their own extras (see
pingback_ext.extras). Each public name loads its module when it is first used (PEP 562): what a
program never touches costs it nothing at start-up. The result types subclass the generated
models, which load with the first call (attrs and the generated client would otherwise be a
third of the client's import); bulk sync and upsert load with their first use.
"""

import typing

__version__ = "0.1.0"  # the one place the version is written (pyproject reads it)

#: The module of each public name that is not an error (the errors are in pingback_ext.errors);
#: a name is imported when first used: `import pingback_ext` alone loads nothing (so `pingback
#: --version` is answered at once), `from pingback_ext import Pingback` loads the client and
#: what it needs, and the first call loads the generated models.
_NOT_ERRORS: dict[str, str] = {
    "AsyncPingback": "pingback_ext.client",
    "Pingback": "pingback_ext.client",
    "APIKey": "pingback_ext.apikey",
    "NOT_GIVEN": "pingback_ext.settings",
    "NotGiven": "pingback_ext.settings",
    "LocalPacer": "pingback_ext.ratelimit",
    "RedisPacer": "pingback_ext.ratelimit",
    "UnknownValue": "pingback_ext.spec",
    "BulkReport": "pingback_ext.bulk",
    "RecordOutcome": "pingback_ext.bulk",
    "MembershipList": "pingback_ext.results",
    "SegmentationMembership": "pingback_ext.results",
    "Subscriber": "pingback_ext.results",
    "Upserted": "pingback_ext.upsert",
}

if typing.TYPE_CHECKING:  # what type checkers and IDEs see: the names, typed as they are
    from pingback_ext.apikey import APIKey
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
    from pingback_ext.results import MembershipList, SegmentationMembership, Subscriber
    from pingback_ext.settings import NOT_GIVEN, NotGiven
    from pingback_ext.spec import UnknownValue
    from pingback_ext.upsert import Upserted
else:  # hidden from type checkers, which see the imports above (no name is typed as Any)

    def __getattr__(name: str) -> typing.Any:
        if name not in __all__:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        import importlib

        module = _NOT_ERRORS.get(name, "pingback_ext.errors")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})


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
