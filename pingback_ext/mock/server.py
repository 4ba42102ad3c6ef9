"""Serving the mock over real HTTP: a background-thread server for tests, and the CLI's runner.

The socket is bound before uvicorn starts, so port 0 yields a known free port at once and
there is no window where another process can take it.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pingback_ext.mock.app import MockApp, create_app
from pingback_ext.mock.recorder import RecordedRequest

if TYPE_CHECKING:
    import uvicorn

_STARTUP_TIMEOUT_S = 10.0


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port); port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def listens_on_loopback(sock: socket.socket) -> bool:
    """True when the bound address is a loopback one (127.0.0.0/8 or ::1), names resolved."""
    return ipaddress.ip_address(sock.getsockname()[0]).is_loopback


def base_url_for(sock: socket.socket) -> str:
    """`http://HOST:PORT/v1` for a bound socket."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/v1"


def uvicorn_server(app: MockApp, log_level: str = "warning") -> uvicorn.Server:
    """A uvicorn server for the app (uvloop and httptools when installed)."""
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="off",
        access_log=False,
        server_header=False,
        date_header=False,
    )
    return uvicorn.Server(config)


class RunningMock:
    """A mock being served: where to reach it and how to control it."""

    def __init__(self, app: MockApp, base_url: str) -> None:
        self.app = app
        self.base_url = base_url
        self.root_url = base_url.removesuffix("/v1")
        self.api_keys = app.api_keys

    @property
    def api_key(self) -> str:
        """The first configured key."""
        return self.api_keys[0]

    @property
    def segmentation_lists(self) -> list[str]:
        """Every segmentation list id that exists."""
        return self.app.segmentation_lists

    def add_segmentation_list(self, list_id: str) -> None:
        """Seed a segmentation list."""
        self.app.add_segmentation_list(list_id)

    def blacklist(
        self,
        email: str,
        *,
        api_key: str | None = None,
        developer_mode: bool = False,
        blacklisted: bool = True,
    ) -> dict[str, Any]:
        """Blacklist (or clear) a subscriber."""
        return self.app.blacklist(
            email, api_key=api_key, developer_mode=developer_mode, blacklisted=blacklisted
        )

    def inject(
        self,
        status: int,
        *,
        times: int = 1,
        operation: str | None = None,
        retry_after: float | None = None,
        delay: float | None = None,
        api_key: str | None = None,
    ) -> None:
        """Answer the next `times` requests with `status` (see MockApp.inject)."""
        self.app.inject(
            status,
            times=times,
            operation=operation,
            retry_after=retry_after,
            delay=delay,
            api_key=api_key,
        )

    def requests(self, api_key: str | None = None) -> list[RecordedRequest]:
        """Recorded `/v1` requests, oldest first (see MockApp.requests)."""
        return self.app.requests(api_key)

    def reset(self, *, api_key: str | None = None) -> None:
        """Back to the configured start state: all of it, or `api_key`'s account only."""
        self.app.reset(api_key=api_key)

    def request_counts(self, api_key: str | None = None) -> dict[int, int]:
        """Responses sent on `/v1` and unknown routes, by status."""
        return self.app.request_counts(api_key)


@contextmanager
def serve_mock(
    *,
    api_keys: Sequence[str] = ("test-key",),
    segmentation_lists: Sequence[str] = (),
    rate_limit: float = 5.0,
    burst: int = 2,
    db_path: str = ":memory:",
    host: str = "127.0.0.1",
    port: int = 0,
) -> Iterator[RunningMock]:
    """Serve a fresh mock on loopback in a background thread for the `with` block."""
    app = create_app(
        api_keys=api_keys,
        segmentation_lists=segmentation_lists,
        rate_limit=rate_limit,
        burst=burst,
        db_path=db_path,
    )
    sock = bind_socket(host, port)
    server = uvicorn_server(app)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="pingback-mock", daemon=True
    )
    thread.start()
    try:
        waited = 0.0
        while not server.started:
            if not thread.is_alive() or waited > _STARTUP_TIMEOUT_S:
                raise RuntimeError("pingback mock server failed to start")
            thread.join(0.01)
            waited += 0.01
        yield RunningMock(app, base_url_for(sock))
    finally:
        server.should_exit = True
        thread.join(_STARTUP_TIMEOUT_S)
        sock.close()
        app.close()
