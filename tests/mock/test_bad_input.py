"""Hostile and malformed requests: each gets a 4xx JSON error, and the mock keeps serving."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.mock.conftest import Api
from tests.mock.spec_check import check_response

TEN_MB = 10 * 1024 * 1024
JSON = {"content-type": "application/json"}


async def _chunks(total: int, size: int = 256 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        yield b"x" * min(size, total - sent)
        sent += size


@dataclass
class Bad:
    """One kind of bad request and the error it must get."""

    name: str
    method: str
    url: str
    status: int
    code: str
    content: Any = None
    headers: dict[str, str] = field(default_factory=dict)


CREATE = "/v1/subscriber"
GET = "/v1/subscriber/someone%40example.com"
ADD = "/v1/segmentation/add-subscriber/someone%40example.com"

BAD: list[Bad] = [
    Bad("empty body", "POST", CREATE, 400, "MISSING_BODY", b"", JSON),
    Bad("whitespace body", "POST", CREATE, 400, "MISSING_BODY", b" \n\t ", JSON),
    Bad("truncated JSON", "POST", CREATE, 400, "MISSING_BODY", b'{"email":', JSON),
    Bad("trailing garbage", "POST", CREATE, 400, "MISSING_BODY", b'{"email":"a@b.co"} x', JSON),
    Bad("NaN literal", "POST", CREATE, 400, "MISSING_BODY", b'{"email": NaN}', JSON),
    Bad("invalid UTF-8", "POST", CREATE, 400, "MISSING_BODY", b'{"email":"\xff\xfe"}', JSON),
    Bad("deep nesting", "POST", CREATE, 400, "MISSING_BODY", b"[" * 200_000, JSON),
    Bad(
        "huge integer", "POST", CREATE, 400, "MISSING_BODY", b'{"email":' + b"9" * 5000 + b"}", JSON
    ),
    Bad("JSON array", "POST", CREATE, 422, "INVALID_INPUT", b'["a@b.co"]', JSON),
    Bad("JSON string", "POST", CREATE, 422, "INVALID_INPUT", b'"a@b.co"', JSON),
    Bad("JSON number", "POST", CREATE, 422, "INVALID_INPUT", b"42", JSON),
    Bad("JSON null", "POST", CREATE, 422, "INVALID_INPUT", b"null", JSON),
    Bad("email as number", "POST", CREATE, 422, "INVALID_INPUT", b'{"email": 1}', JSON),
    Bad(
        "name as list", "POST", CREATE, 422, "INVALID_INPUT", b'{"email":"a@b.co","name":[]}', JSON
    ),
    Bad(
        "lone surrogate",
        "POST",
        CREATE,
        422,
        "INVALID_INPUT",
        b'{"email":"a@b.co","name":"\\ud800"}',
        JSON,
    ),
    Bad("10 MB body", "POST", CREATE, 413, "PAYLOAD_TOO_LARGE", b"x" * TEN_MB, JSON),
    Bad("10 MB chunked body", "POST", CREATE, 413, "PAYLOAD_TOO_LARGE", "chunked", JSON),
    Bad(
        "text/plain body",
        "POST",
        CREATE,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        b'{"email":"a@b.co"}',
        {"content-type": "text/plain"},
    ),
    Bad(
        "form body",
        "PUT",
        GET,
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        b"name=x",
        {"content-type": "application/x-www-form-urlencoded"},
    ),
    Bad("PUT malformed JSON", "PUT", GET, 400, "MISSING_BODY", b"{,}", JSON),
    Bad("add non-object", "POST", ADD, 422, "INVALID_INPUT", b"[]", JSON),
    Bad("10 MB body on GET", "GET", GET, 404, "SUBSCRIBER_NOT_FOUND", b"x" * TEN_MB, JSON),
    Bad("NUL path segment", "GET", "/v1/subscriber/a%00b", 422, "INVALID_PARAMS"),
    Bad("dot segment", "GET", "/v1/subscriber/%2E", 422, "INVALID_PARAMS"),
    Bad("dot-dot segment", "GET", "/v1/subscriber/%2E%2E", 422, "INVALID_PARAMS"),
    Bad("empty email segment", "GET", "/v1/subscriber/", 422, "INVALID_PARAMS"),
    Bad("invalid UTF-8 segment", "GET", "/v1/subscriber/%FF%FE", 422, "INVALID_PARAMS"),
    Bad("10k-char segment", "GET", "/v1/subscriber/" + "a" * 10_000, 414, "URI_TOO_LONG"),
    Bad(
        "empty remove list id",
        "DELETE",
        "/v1/segmentation//remove-subscriber/a",
        422,
        "INVALID_PARAMS",
    ),
    Bad("empty API key", "GET", GET, 403, "FORBIDDEN", None, {"x-api-key": ""}),
    Bad("non-ASCII API key", "GET", GET, 403, "FORBIDDEN", None, {"x-api-key": "kéy"}),
    Bad("bad developer mode", "GET", GET, 422, "INVALID_INPUT", None, {"x-developer-mode": "1"}),
    Bad("unknown method", "PATCH", GET, 405, "METHOD_NOT_ALLOWED"),
    Bad("unknown route", "GET", "/v1/unsubscribe", 404, "NOT_FOUND"),
]


@pytest.mark.parametrize("bad", BAD, ids=[bad.name for bad in BAD])
async def test_bad_input_gets_a_4xx_json_error_and_the_mock_keeps_serving(
    api: Api, bad: Bad
) -> None:
    content: Any = _chunks(TEN_MB) if bad.content == "chunked" else bad.content
    headers = dict(bad.headers)
    if "x-api-key" in headers and not headers["x-api-key"].isascii():
        headers["x-api-key"] = headers["x-api-key"].encode("utf-8")  # type: ignore[assignment]
    response = await api.client.request(bad.method, bad.url, content=content, headers=headers)
    body = check_response(response, None, bad.method)
    assert (response.status_code, body["errorCode"]) == (bad.status, bad.code), body
    assert 400 <= response.status_code < 500
    # Still serving, on a fresh request.
    created = await api.client.post(CREATE, json={"email": "after@example.com"})
    assert created.status_code in (201, 409)
    assert (await api.client.get("/v1/subscriber/after%40example.com")).status_code == 200


def test_at_least_twenty_kinds() -> None:
    assert len(BAD) >= 20
