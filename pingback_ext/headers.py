"""Which headers a caller may add to a request, checked on every path headers enter.

A caller's headers come in through `default_headers` (the constructor and `with_options`),
`extra_headers` (per call) and the headers of a caller's own `http_client`; all are checked
here, once, by `check_headers`. Two kinds are refused, in any casing:

- what the client itself decides: the key (`x-api-key`: pass `api_key=`) and the mode
  (`x-developer-mode`: pass `developer_mode=`), so that no header can send a request made with
  `developer_mode=True` to production data, nor a second key beside the client's;
- what the HTTP layer derives from the request (its framing and connection handling:
  `content-length`, `transfer-encoding`, `host`, `connection`...): a wrong value there breaks
  the request on the wire (h11 refuses it halfway, or the server reads a different request).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pingback_ext.errors import ConfigurationError, InvalidRequestError

#: What an HTTP header value may hold (visible ASCII and inner spaces; RFC 9110 field-value).
_HEADER_VALUE = re.compile(r"[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")
#: An RFC 9110 token.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

#: Headers only the client sets, and the setting that sets each (the key becomes a header in
#: one place, engine.http_request; the mode in engine.build_send).
RESERVED_HEADERS: dict[str, str] = {"x-api-key": "api_key", "x-developer-mode": "developer_mode"}
#: Headers the HTTP layer writes from the request itself (RFC 9110 7.6.1 and 6.4.1, RFC 9112).
FRAMING_HEADERS = frozenset({
    "content-length", "transfer-encoding", "host", "connection", "keep-alive",
    "proxy-connection", "te", "trailer", "upgrade",
})  # fmt: skip


def is_header_value(value: str) -> bool:
    """Whether h11 sends `value` as given: printable ASCII without surrounding whitespace."""
    return _HEADER_VALUE.fullmatch(value) is not None


def check_headers(
    headers: object, *, what: str, per_call: bool = False
) -> tuple[tuple[str, str], ...]:
    """Header pairs that h11 will send as given, none of them reserved (see the module doc).

    Errors name the header, never its value: InvalidRequestError per call, ConfigurationError
    when a client is built.
    """
    error = InvalidRequestError if per_call else ConfigurationError
    if not isinstance(headers, Mapping):
        raise error(f"{what} must be a mapping of header names to values")
    pairs = []
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            raise error(f"{what}: {name!r} is not a valid header name")
        refusal = refused(name)
        if refusal is not None:
            raise error(f"{what}: {refusal}")
        if not isinstance(value, str) or not is_header_value(value):
            raise error(
                f"{what}: the value of {name!r} must be printable ASCII text without "
                "surrounding whitespace (not shown)"
            )
        pairs.append((name, value))
    return tuple(pairs)


def refused(name: str) -> str | None:
    """Why a caller may not set header `name` (any casing), or None when it may."""
    lowered = name.lower()
    if lowered in RESERVED_HEADERS:
        return f"{name!r} is set by the client; pass {RESERVED_HEADERS[lowered]}= instead"
    if lowered in FRAMING_HEADERS:
        return (
            f"{name!r} is written by the HTTP layer from the request itself "
            "(framing and connection headers cannot be passed)"
        )
    return None
