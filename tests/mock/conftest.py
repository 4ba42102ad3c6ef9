"""Fixtures: the same `Api` helper over an in-process ASGI transport and over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from pingback_ext.mock import MockApp, create_app, serve_mock
from tests.mock.spec_check import check_response

KEY = "test-key"
OTHER_KEY = "other-key"
LISTS = ("list-a", "list-b", "list-c")


def enc(value: str) -> str:
    """Path-encode a parameter the way the generated client does."""
    return quote(value, safe="")


class Api:
    """One mock plus a client; every call validates the response against the spec."""

    def __init__(self, client: httpx.AsyncClient, mock: MockApp, transport: str) -> None:
        self.client = client
        self.mock = mock
        self.transport = transport

    async def call(
        self, method: str, url: str, template: str | None, **kwargs: Any
    ) -> tuple[int, Any, httpx.Response]:
        response = await self.client.request(method, url, **kwargs)
        body = check_response(response, template, method)
        return response.status_code, body, response

    async def create(self, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        if body is not None:
            kwargs["json"] = body
        status, data, _ = await self.call("POST", "/v1/subscriber", "/subscriber", **kwargs)
        return status, data

    async def get(self, email: str, **kwargs: Any) -> tuple[int, Any]:
        url = f"/v1/subscriber/{enc(email)}"
        status, data, _ = await self.call("GET", url, "/subscriber/{email}", **kwargs)
        return status, data

    async def update(self, email: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        if body is not None:
            kwargs["json"] = body
        url = f"/v1/subscriber/{enc(email)}"
        status, data, _ = await self.call("PUT", url, "/subscriber/{email}", **kwargs)
        return status, data

    async def add(self, email: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        if body is not None:
            kwargs["json"] = body
        url = f"/v1/segmentation/add-subscriber/{enc(email)}"
        template = "/segmentation/add-subscriber/{email}"
        status, data, _ = await self.call("POST", url, template, **kwargs)
        return status, data

    async def remove(self, list_id: str, email: str, **kwargs: Any) -> tuple[int, Any]:
        url = f"/v1/segmentation/{enc(list_id)}/remove-subscriber/{enc(email)}"
        template = "/segmentation/{id}/remove-subscriber/{email}"
        status, data, _ = await self.call("DELETE", url, template, **kwargs)
        return status, data


def mock_kwargs(**overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "api_keys": (KEY, OTHER_KEY),
        "segmentation_lists": LISTS,
        "rate_limit": 0,
    }
    kwargs.update(overrides)
    return kwargs


def _open(stack: ExitStack, transport: str, **overrides: Any) -> tuple[httpx.AsyncClient, MockApp]:
    kwargs = mock_kwargs(**overrides)
    if transport == "asgi":
        app = create_app(**kwargs)
        stack.callback(app.close)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://mock",
            headers={"x-api-key": KEY},
        )
        return client, app
    running = stack.enter_context(serve_mock(**kwargs))
    client = httpx.AsyncClient(base_url=running.root_url, headers={"x-api-key": KEY}, timeout=30)
    return client, running.app


@pytest.fixture(params=["asgi", "http"])
async def api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    """A fresh mock (two keys, three lists, no rate limit) in-process and on loopback."""
    with ExitStack() as stack:
        client, app = _open(stack, request.param)
        async with client:
            yield Api(client, app, request.param)


@pytest.fixture(params=["asgi", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    """Which way to reach the mock, for tests that build their own."""
    return str(request.param)


@pytest.fixture
def stack() -> Iterator[ExitStack]:
    with ExitStack() as s:
        yield s


open_mock = _open
