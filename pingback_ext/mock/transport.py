"""Serve a blocking `httpx.Client` straight from the mock's ASGI app: no socket, no thread.

httpx ships only an async ASGI transport; this drives it on an event loop of its own (or one
you pass), so a sync `Pingback` can talk to `create_app(...)` in-process:

    app = create_app(api_keys=["k"], rate_limit=0)
    http = httpx.Client(transport=SyncASGITransport(app))
    pb = Pingback(api_key="k", base_url="http://localhost/v1", http_client=http)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


class SyncASGITransport(httpx.BaseTransport):
    """An ASGI app behind a blocking httpx.Client."""

    def __init__(self, app: ASGIApp, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._owns_loop = loop is None
        self._loop = loop or asyncio.new_event_loop()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def forward() -> httpx.Response:
            inner = httpx.Request(
                request.method, request.url, headers=request.headers, content=request.read()
            )
            response = await self._asgi.handle_async_request(inner)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self._loop.run_until_complete(forward())

    def close(self) -> None:
        if self._owns_loop and not self._loop.is_closed():
            self._loop.close()
