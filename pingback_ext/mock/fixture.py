"""What the `pingback_mock` pytest fixture gives a test: a fresh, empty mock Pingback of its own.

One mock is served per test session (per pytest-xdist worker: each its own process, server and
free 127.0.0.1 port), on a real port so that code which builds its own client reaches it. Each
test gets an account of its own on it: a new random API key, no data, no lists, no faults, an
empty request log; the account is forgotten when the test ends. Starting a server per test cost
~200 ms; a new account costs well under a millisecond.

For the test's duration the environment says where the mock is (`PINGBACK_API_KEY`,
`PINGBACK_BASE_URL`, `PINGBACK_RATE_LIMIT=0`, no `PINGBACK_DEVELOPER_MODE`), so `Pingback()` with
no arguments talks to it, unpaced; and `XDG_STATE_HOME` is a temporary directory of the test's
own, so `pingback import` keeps its sync state there, never in the developer's
`~/.local/state`. Everything is restored afterwards.
"""

from __future__ import annotations

import functools
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Protocol

import httpx

from pingback_ext.client import AsyncPingback, Pingback
from pingback_ext.mock.controls import Tenant
from pingback_ext.mock.server import RunningMock, serve_mock


class Environment(Protocol):
    """What the fixture needs of pytest's `monkeypatch`: set and unset variables, undone later."""

    def setenv(self, name: str, value: str, prepend: str | None = None) -> None: ...

    def delenv(self, name: str, raising: bool = True) -> None: ...


class MockServer:
    """The mock a test session shares (see `serve_for_tests`): where it is, its app, and one
    connection pool to it that the tests' `client`s use (no handshake and no certificate
    loading per test: those cost more than the rest of a typical test together)."""

    def __init__(self, running: RunningMock) -> None:
        self.running = running
        self.app = running.app
        #: `http://127.0.0.1:PORT/v1`
        self.base_url = running.base_url
        self.http = httpx.Client(follow_redirects=False)
        #: Private (0700) directory holding each test's `XDG_STATE_HOME`.
        self.state_root = Path(tempfile.mkdtemp(prefix="pingback-mock-"))

    def state_home(self) -> Path:
        """A new test's `XDG_STATE_HOME`: named, not made (what writes there makes it; making
        and removing an empty directory per test cost more than the rest of the fixture)."""
        return self.state_root / secrets.token_hex(8)

    def close(self) -> None:
        self.http.close()
        shutil.rmtree(self.state_root, ignore_errors=True)


class PingbackMock(Tenant):
    """The test's own account on a running mock; see the README's "Testing your app".

    The controls (`add_segmentation_list`, `blacklist`, `inject`, `requests`,
    `request_counts`, `reset`, `segmentation_lists`) are the account's `Tenant` controls.
    """

    def __init__(self, server: MockServer, api_key: str) -> None:
        super().__init__(server.app, api_key)
        #: `http://127.0.0.1:PORT/v1`
        self.base_url = server.base_url
        self._http = server.http

    @functools.cached_property
    def client(self) -> Pingback:
        """A ready `Pingback` for this mock (unpaced), closed when the test ends; it shares
        the session's connections to the mock."""
        return Pingback(
            api_key=self.api_key, base_url=self.base_url, rate_limit=None, http_client=self._http
        )

    def async_client(self) -> AsyncPingback:
        """A fresh `AsyncPingback` for this mock; use it as `async with …() as apb:`."""
        return AsyncPingback(api_key=self.api_key, base_url=self.base_url, rate_limit=None)

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()


@contextmanager
def serve_for_tests() -> Iterator[MockServer]:
    """The mock a test session shares: unlimited, and no key until a test adds its own."""
    with serve_mock(api_keys=(), rate_limit=0) as running:
        server = MockServer(running)
        try:
            yield server
        finally:
            server.close()


@contextmanager
def pingback_mock(
    environment: Environment, server: MockServer | None = None
) -> Iterator[PingbackMock]:
    """A fresh account on `server` (None: on a mock served for this block alone), with the
    environment pointed at it, until the block ends."""
    with ExitStack() as stack:
        if server is None:
            server = stack.enter_context(serve_for_tests())
        api_key = f"pingback-mock-{secrets.token_hex(12)}"
        server.app.add_tenant(api_key)
        stack.callback(server.app.remove_tenant, api_key)
        state_home = server.state_home()
        stack.callback(shutil.rmtree, state_home, ignore_errors=True)
        environment.setenv("PINGBACK_API_KEY", api_key)
        environment.setenv("PINGBACK_BASE_URL", server.base_url)
        environment.setenv("PINGBACK_RATE_LIMIT", "0")
        environment.delenv("PINGBACK_DEVELOPER_MODE", raising=False)
        environment.setenv("XDG_STATE_HOME", str(state_home))
        mock = PingbackMock(server, api_key)
        stack.callback(mock.close)
        yield mock
