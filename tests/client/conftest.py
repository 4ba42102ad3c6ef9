"""Fixtures that run every client test against both Pingback and AsyncPingback."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import respx

from pingback_ext import AsyncPingback, Pingback

BASE_URL = "https://connect.pingback.com/v1"
API_KEY = "sk_live_very_secret_key_0123456789"


class Blocking:
    """Calls an async client's methods to completion, so one test body serves both twins."""

    def __init__(self, target: Any, loop: asyncio.AbstractEventLoop | None) -> None:
        self._target = target
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if name in ("subscribers", "segmentations"):
            return Blocking(value, self._loop)
        if self._loop is None or not callable(value):
            return value

        def run(*args: Any, **kwargs: Any) -> Any:
            assert self._loop is not None
            result = value(*args, **kwargs)
            if isinstance(result, AsyncPingback):
                return Blocking(result, self._loop)
            return self._loop.run_until_complete(result)

        return run


ClientFactory = Callable[..., Blocking]


@pytest.fixture(params=["sync", "async"])
def make_client(request: pytest.FixtureRequest) -> Iterator[ClientFactory]:
    """Build a Pingback (or AsyncPingback, made blocking) with test defaults."""
    loop = asyncio.new_event_loop() if request.param == "async" else None
    made: list[Any] = []

    def factory(**kwargs: Any) -> Blocking:
        # Pacing (5/s by default) has its own tests in tests/resilience; here it would only wait.
        options: dict[str, Any] = {
            "api_key": API_KEY, "base_url": BASE_URL, "rate_limit": None, **kwargs
        }  # fmt: skip
        client = AsyncPingback(**options) if loop is not None else Pingback(**options)
        made.append(client)
        return Blocking(client, loop)

    yield factory
    for client in made:
        if loop is not None:
            loop.run_until_complete(client.aclose())
        else:
            client.close()
    if loop is not None:
        loop.close()


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


# The hostile kit's servers (tests/hostile), for tests against hostile servers.
from tests.hostile.fixtures import hostile_server, redirect_pair  # noqa: E402, F401
