"""The one exception type the mock raises for every documented error response.

Handlers raise `ApiError`; the ASGI layer turns it into the shared error body
`{"error", "errorCode", "requestId"}`. Keeping status, code and message together means
a handler cannot send a code with the wrong status.
"""

from __future__ import annotations

from collections.abc import Mapping


class ApiError(Exception):
    """An error response: HTTP status, Pingback `errorCode`, human message, extra headers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})


def invalid_input(message: str) -> ApiError:
    """422 INVALID_INPUT with a Joi-style message naming the field."""
    return ApiError(422, "INVALID_INPUT", message)


def missing_body(reason: str | None = None) -> ApiError:
    """400 MISSING_BODY; `reason` says why the body did not count (empty, not JSON...)."""
    message = "Body is necessary." if reason is None else f"Body is necessary: {reason}"
    return ApiError(400, "MISSING_BODY", message)


def subscriber_not_found(message: str = "Subscriber not found.") -> ApiError:
    """404 SUBSCRIBER_NOT_FOUND."""
    return ApiError(404, "SUBSCRIBER_NOT_FOUND", message)


def segmentation_list_not_found(list_id: str | None = None) -> ApiError:
    """404 SEGMENTATION_LIST_NOT_FOUND, naming the first unknown list when known."""
    suffix = "" if list_id is None else f": {list_id}"
    return ApiError(404, "SEGMENTATION_LIST_NOT_FOUND", f"Segmentation list not found{suffix}.")


def subscriber_not_enabled() -> ApiError:
    """400 SUBSCRIBER_NOT_ENABLED: unsubscribed or blacklisted subscribers cannot be segmented."""
    return ApiError(400, "SUBSCRIBER_NOT_ENABLED", "Subscriber not enabled.")


def subscriber_already_exists() -> ApiError:
    """409 SUBSCRIBER_ALREADY_EXISTS."""
    return ApiError(409, "SUBSCRIBER_ALREADY_EXISTS", "Subscriber already exists.")
