"""Raw ASGI plumbing: reading bounded bodies, parsing JSON, writing JSON responses.

Kept free of Pingback semantics so the app module reads as the API's behaviour only.
Bodies are read incrementally and never buffered past the limit; an oversized body is
drained (up to a cap) rather than buffered, so the client still gets its 413.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pingback_ext.mock.errors import ApiError, missing_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY_BYTES = 1024 * 1024
_DRAIN_CAP_BYTES = 64 * 1024 * 1024


class ClientDisconnected(Exception):
    """The client went away mid-request; there is nobody to answer."""


def _too_large() -> ApiError:
    return ApiError(
        413,
        "PAYLOAD_TOO_LARGE",
        f"Request body exceeds {MAX_BODY_BYTES} bytes.",
        {"connection": "close"},
    )


async def _drain(receive: Receive, more: bool) -> None:
    drained = 0
    while more and drained < _DRAIN_CAP_BYTES:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        drained += len(message.get("body", b""))
        more = bool(message.get("more_body", False))


async def read_body(receive: Receive, content_length: int | None) -> bytes:
    """The whole body, at most `MAX_BODY_BYTES`, else 413 PAYLOAD_TOO_LARGE."""
    if content_length is not None and content_length > MAX_BODY_BYTES:
        await _drain(receive, True)
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        more = bool(message.get("more_body", False))
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            await _drain(receive, more)
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes) -> Any:
    """Decode a JSON body; empty or unparseable bodies are 400 MISSING_BODY saying why."""
    if not body.strip():
        raise missing_body()
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise missing_body("body is nested too deeply") from None
    except ValueError:
        raise missing_body("body is not valid JSON") from None


def is_json_media_type(content_type: str) -> bool:
    """`application/json` or any `+json` type, parameters (charset) ignored."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def encode_json(payload: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


async def send_json(
    send: Send,
    status: int,
    body: bytes,
    request_id: str,
    extra_headers: dict[str, str] | None = None,
) -> None:
    """Send one complete `application/json` response with `x-request-id`."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"x-request-id", request_id.encode("ascii")),
    ]
    if extra_headers:
        headers.extend((k.encode("latin-1"), v.encode("latin-1")) for k, v in extra_headers.items())
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
