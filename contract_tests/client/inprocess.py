"""The mock served in-process to either twin: no sockets, no threads, one event loop."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import httpx

from contract_tests.client.twins import client_options
from pingback_ext import AsyncPingback, Pingback
from pingback_ext.mock import SyncASGITransport

BASE_URL = "http://localhost/v1"


class InProcessClient:
    """A `twin` client of `app`; `call(fn)` runs `fn(client)` to completion either way."""

    def __init__(self, twin: str, app: Any, api_key: str) -> None:
        self._loop = asyncio.new_event_loop()
        options = client_options(api_key=api_key, base_url=BASE_URL)
        self._http: httpx.Client | httpx.AsyncClient
        self._client: Pingback | AsyncPingback
        if twin == "sync":
            self._http = httpx.Client(transport=SyncASGITransport(app, self._loop))
            self._client = Pingback(http_client=self._http, **options)
        else:
            self._http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
            self._client = AsyncPingback(http_client=self._http, **options)

    def call(self, fn: Any) -> Any:
        result = fn(self._client)
        if inspect.isawaitable(result):
            result = self._loop.run_until_complete(result)
        return result

    def close(self) -> None:
        if isinstance(self._http, httpx.AsyncClient):
            self._loop.run_until_complete(self._http.aclose())
        else:
            self._http.close()
        self._loop.close()
