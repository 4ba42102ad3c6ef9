"""Run one call on `Pingback` or on `AsyncPingback`, so each property covers both twins."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import Any

import httpx

from pingback_ext import AsyncPingback, Pingback
from pingback_ext.client import OPTION_NAMES

API_KEY = "sk_test_client_properties_0123456789"
BASE_URL = "https://connect.pingback.com/v1"
TWINS = ("sync", "async")
#: Built once: loading the CA bundle for every client would be most of each example's time.
TLS = ssl.create_default_context()


def client_options(**extra: Any) -> dict[str, Any]:
    """Constructor arguments: no retries and no client-side pacing (tests must not wait), and
    strict reads: the properties check the client against exactly what the spec allows."""
    options: dict[str, Any] = {
        "api_key": API_KEY, "base_url": BASE_URL, "max_retries": 0, "strict": True
    }  # fmt: skip
    if "rate_limit" in OPTION_NAMES:  # the options both constructors take
        options["rate_limit"] = None
    return {**options, **extra}


def run(twin: str, call: Callable[[Any], Any], **options: Any) -> Any:
    """Build a `twin` client, return `call(client)` (awaited for async), close the client."""
    if twin == "sync":
        with (
            httpx.Client(verify=TLS) as http,
            Pingback(http_client=http, **client_options(**options)) as client,
        ):
            return call(client)

    async def main() -> Any:
        async with (
            httpx.AsyncClient(verify=TLS) as http,
            AsyncPingback(http_client=http, **client_options(**options)) as client,
        ):
            return await call(client)

    return asyncio.run(main())
