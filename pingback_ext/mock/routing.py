"""Route matching on the raw request path.

Emails may contain `/ # ? % +`, spaces and non-ASCII; clients send them percent-encoded
(`quote(email, safe="")`). Splitting the decoded path would cut `a%2Fb@x.com` in two, so
the raw path is split on `/` first and each segment is decoded afterwards.
Unknown paths are 404 and known paths with the wrong method are 405 (with `Allow`);
a malformed parameter is reported later, after authentication, via `Match.param_error`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from urllib.parse import unquote_to_bytes

from pingback_ext.mock.errors import ApiError

MAX_SEGMENT_BYTES = 2048


class Operation(Enum):
    """Everything the mock can do: the five API operations and the test controls."""

    CREATE_SUBSCRIBER = "createSubscriber"
    GET_SUBSCRIBER = "getSubscriber"
    UPDATE_SUBSCRIBER = "updateSubscriber"
    ADD_TO_SEGMENTS = "addSubscriberToSegment"
    REMOVE_FROM_SEGMENT = "removeSubscriberFromSegment"
    CONTROL_RESET = "reset"
    CONTROL_LISTS = "segmentationLists"
    CONTROL_BLACKLIST = "blacklist"
    CONTROL_STATS = "stats"
    CONTROL_INJECT = "inject"
    CONTROL_REQUESTS = "requests"

    @property
    def is_control(self) -> bool:
        """True for `/_mock/` routes: no rate limit, not counted, not recorded."""
        return self.name.startswith("CONTROL_")


@dataclass(frozen=True)
class Match:
    """A matched route: the operation, its decoded path parameters, or a deferred error."""

    operation: Operation
    params: tuple[str, ...] = ()
    param_error: ApiError | None = None


def _decode(raw: bytes, missing: ApiError) -> tuple[str, ApiError | None]:
    """Percent-decode one segment; empty, dot or NUL segments become `missing`."""
    if len(raw) > MAX_SEGMENT_BYTES:
        return "", ApiError(414, "URI_TOO_LONG", "Path segment is too long.")
    try:
        value = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return "", ApiError(422, "INVALID_PARAMS", "Path segment is not valid UTF-8.")
    if value in ("", ".", "..") or "\x00" in value:
        return "", missing
    return value, None


def _email_missing(code: str) -> ApiError:
    return ApiError(422, code, "Subscriber email is necessary.")


def _allowed(method: str, allowed: tuple[str, ...]) -> None:
    if method not in allowed:
        raise ApiError(
            405,
            "METHOD_NOT_ALLOWED",
            f"Method {method} is not allowed here.",
            {"allow": ", ".join(allowed)},
        )


def _with_params(operation: Operation, segments: list[tuple[bytes, ApiError]]) -> Match:
    params: list[str] = []
    for raw, missing in segments:
        value, error = _decode(raw, missing)
        if error is not None:
            return Match(operation, (), error)
        params.append(value)
    return Match(operation, tuple(params))


_CONTROLS: dict[bytes, tuple[tuple[str, ...], Operation]] = {
    b"reset": (("POST",), Operation.CONTROL_RESET),
    b"segmentation-lists": (("GET", "POST"), Operation.CONTROL_LISTS),
    b"blacklist": (("POST",), Operation.CONTROL_BLACKLIST),
    b"stats": (("GET",), Operation.CONTROL_STATS),
    b"inject": (("POST",), Operation.CONTROL_INJECT),
    b"requests": (("GET",), Operation.CONTROL_REQUESTS),
}


def match(raw_path: bytes, method: str) -> Match:
    """Map a raw path and method to a `Match`, or raise 404 NOT_FOUND / 405."""
    path = raw_path.split(b"?", 1)[0]
    parts = path.split(b"/")
    n = len(parts)
    if n >= 3 and parts[0] == b"" and parts[1] == b"v1":
        if parts[2] == b"subscriber":
            if n == 3:
                _allowed(method, ("POST",))
                return Match(Operation.CREATE_SUBSCRIBER)
            if n == 4:
                _allowed(method, ("GET", "PUT"))
                op = Operation.GET_SUBSCRIBER if method == "GET" else Operation.UPDATE_SUBSCRIBER
                return _with_params(op, [(parts[3], _email_missing("INVALID_PARAMS"))])
        elif parts[2] == b"segmentation":
            if n == 5 and parts[3] == b"add-subscriber":
                _allowed(method, ("POST",))
                missing = _email_missing("SUBSCRIBER_EMAIL_IS_NECESSARY")
                return _with_params(Operation.ADD_TO_SEGMENTS, [(parts[4], missing)])
            if n == 6 and parts[4] == b"remove-subscriber":
                _allowed(method, ("DELETE",))
                no_id = ApiError(422, "INVALID_PARAMS", "Segmentation id is required.")
                missing = _email_missing("SUBSCRIBER_EMAIL_IS_NECESSARY")
                return _with_params(
                    Operation.REMOVE_FROM_SEGMENT, [(parts[3], no_id), (parts[5], missing)]
                )
    elif n == 3 and parts[0] == b"" and parts[1] == b"_mock" and parts[2] in _CONTROLS:
        allowed, op = _CONTROLS[parts[2]]
        _allowed(method, allowed)
        return Match(op)
    raise ApiError(404, "NOT_FOUND", "Route not found.")
