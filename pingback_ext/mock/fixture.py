"""What the `pingback_mock` pytest fixture gives a test: a fresh mock Pingback of its own.

The mock is served on a real 127.0.0.1 port in a thread (code that builds its own client reaches
it), with one random API key, no rate limit and no data. For the test's duration the
environment says where it is (`PINGBACK_API_KEY`, `PINGBACK_BASE_URL`, `PINGBACK_RATE_LIMIT=0`,
no `PINGBACK_DEVELOPER_MODE`), so `Pingback()` with no arguments talks to it, unpaced.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from pingback_ext.client import AsyncPingback, Pingback
from pingback_ext.mock.recorder import RecordedRequest
from pingback_ext.mock.server import RunningMock, serve_mock


class Environment(Protocol):
    """What the fixture needs of pytest's `monkeypatch`: set and unset variables, undone later."""

    def setenv(self, name: str, value: str, prepend: str | None = None) -> None: ...

    def delenv(self, name: str, raising: bool = True) -> None: ...


class PingbackMock:
    """A running mock for one test; see the README's "Testing your app"."""

    def __init__(self, running: RunningMock) -> None:
        self._running = running
        #: `http://127.0.0.1:PORT/v1`
        self.base_url = running.base_url
        #: The one API key the mock accepts (also in PINGBACK_API_KEY).
        self.api_key = running.api_key

    @functools.cached_property
    def client(self) -> Pingback:
        """A ready `Pingback` for this mock (unpaced), closed when the test ends."""
        return Pingback(api_key=self.api_key, base_url=self.base_url, rate_limit=None)

    def async_client(self) -> AsyncPingback:
        """A fresh `AsyncPingback` for this mock; use it as `async with …() as apb:`."""
        return AsyncPingback(api_key=self.api_key, base_url=self.base_url, rate_limit=None)

    def add_segmentation_list(self, list_id: str) -> None:
        """Create a segmentation list (Pingback has no API for that; support does it)."""
        self._running.add_segmentation_list(list_id)

    def blacklist(self, email: str, *, developer_mode: bool = False) -> None:
        """Mark a subscriber blacklisted, as a spam report or a bounce would."""
        self._running.blacklist(email, developer_mode=developer_mode)

    def inject(
        self,
        status: int,
        *,
        times: int = 1,
        operation: str | None = None,
        retry_after: float | None = None,
        delay: float | None = None,
    ) -> None:
        """The next `times` requests (to `operation`, an operationId such as "getSubscriber";
        None: any) answer `status` (400-599) with the documented error body, after `delay`
        seconds, with `Retry-After: retry_after` when given."""
        self._running.inject(
            status, times=times, operation=operation, retry_after=retry_after, delay=delay
        )

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request the mock received, oldest first: `.method`, `.path`, `.json`,
        `.headers` (the API key redacted), `.status`, `.operation`."""
        return self._running.requests()

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()


@contextmanager
def pingback_mock(environment: Environment) -> Iterator[PingbackMock]:
    """Serve a fresh mock and point the environment at it until the block ends."""
    api_key = f"pingback-mock-{secrets.token_hex(12)}"
    with serve_mock(api_keys=[api_key], rate_limit=0) as running:
        environment.setenv("PINGBACK_API_KEY", api_key)
        environment.setenv("PINGBACK_BASE_URL", running.base_url)
        environment.setenv("PINGBACK_RATE_LIMIT", "0")
        environment.delenv("PINGBACK_DEVELOPER_MODE", raising=False)
        mock = PingbackMock(running)
        try:
            yield mock
        finally:
            mock.close()
