"""Serving the mock over real HTTP: a background-thread server for tests, and the CLI's runner.

The socket is bound before uvicorn starts, so port 0 yields a known free port at once and
there is no window where another process can take it. With `ServerTLS` the mock speaks HTTPS
(tests of clients behind a private CA, of mutual TLS), still on loopback only.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Unpack

from pingback_ext.mock.app import MockApp, MockOptions, create_app

if TYPE_CHECKING:
    import uvicorn

_STARTUP_TIMEOUT_S = 10.0
_TLS_SHUTDOWN_TIMEOUT_S = 1.0


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


@dataclass(frozen=True)
class ServerTLS:
    """Serve over HTTPS: the server's certificate chain (PEM, with its key unless `keyfile` is
    given), and, when `client_ca` is set, require a client certificate issued by that CA."""

    certfile: Path
    keyfile: Path | None = None
    client_ca: Path | None = None


def base_url_for(sock: socket.socket, *, tls: bool = False) -> str:
    """`http://HOST:PORT/v1` (`https://` with `tls`) for a bound socket."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}/v1"


def uvicorn_server(
    app: MockApp, log_level: str = "warning", tls: ServerTLS | None = None
) -> uvicorn.Server:
    """A uvicorn server for the app (uvloop and httptools when installed), over HTTPS with `tls`."""
    import ssl

    import uvicorn

    https: dict[str, Any] = {}
    if tls is not None:
        # A TLS connection's close waits for the client's close_notify (asyncio gives it 30 s);
        # a client that keeps its connection open (a `requests` response still referenced
        # holds its socket) would hold the server's stop that long: a test server stops sooner.
        https = {
            "ssl_certfile": tls.certfile,
            "ssl_keyfile": tls.keyfile,
            "timeout_graceful_shutdown": _TLS_SHUTDOWN_TIMEOUT_S,
        }
        if tls.client_ca is not None:
            https |= {"ssl_ca_certs": tls.client_ca, "ssl_cert_reqs": ssl.CERT_REQUIRED}
    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="off",
        access_log=False,
        server_header=False,
        date_header=False,
        **https,
    )
    return uvicorn.Server(config)


class RunningMock:
    """A mock being served: where to reach it, and its app (`app`), which holds the controls:
    the whole mock's (`app.reset()`, `app.request_counts()`, ...) and one account's
    (`app.tenant(key).inject(503)`)."""

    def __init__(self, app: MockApp, base_url: str) -> None:
        self.app = app
        #: `http://127.0.0.1:PORT/v1`
        self.base_url = base_url
        #: `http://127.0.0.1:PORT`, where the `/_mock/` controls are
        self.root_url = base_url.removesuffix("/v1")

    @property
    def api_keys(self) -> tuple[str, ...]:
        """The keys the mock accepts."""
        return self.app.api_keys

    @property
    def api_key(self) -> str:
        """The first key."""
        return self.app.api_keys[0]


@contextmanager
def serve_mock(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: ServerTLS | None = None,
    **options: Unpack[MockOptions],
) -> Iterator[RunningMock]:
    """Serve a fresh mock (`create_app(**options)`) on loopback in a background thread for the
    `with` block; over HTTPS with `tls`."""
    app = create_app(**options)
    try:
        sock = bind_socket(host, port)
    except OSError:
        app.close()
        raise
    server = uvicorn_server(app, tls=tls)
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
        yield RunningMock(app, base_url_for(sock, tls=tls is not None))
    finally:
        server.should_exit = True
        thread.join(_STARTUP_TIMEOUT_S)
        sock.close()
        app.close()
