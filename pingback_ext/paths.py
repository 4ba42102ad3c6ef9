"""Guards for values that become path segments.

The generated client percent-encodes path parameters (`quote(value, safe="")`), so `/ # ? % +`,
spaces and non-ASCII arrive intact. What encoding cannot save is a segment that is empty or a dot
segment: httpx collapses `.` and `..`, so `get("..")` would silently request `GET /v1`.
"""

from __future__ import annotations

from pingback_ext.errors import InvalidRequestError


def path_segment(name: str, value: object) -> str:
    """`value` if it is safe as one path segment; InvalidRequestError naming `name` otherwise."""
    if not isinstance(value, str):
        raise InvalidRequestError(f"{name} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidRequestError(f"{name} must not be empty")
    if value in (".", ".."):
        raise InvalidRequestError(f"{name} must not be {value!r} (a dot path segment)")
    if "\x00" in value:
        raise InvalidRequestError(f"{name} must not contain a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRequestError(f"{name} is not valid Unicode text (a lone surrogate)") from None
    return value
