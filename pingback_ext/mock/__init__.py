"""A faithful, stateful mock of the Pingback API for offline tests.

Public API:

- `create_app(...) -> MockApp`: an ASGI app (use with `httpx.ASGITransport`, schemathesis
  `from_asgi`, or any ASGI server); its options are `MockOptions`. The app holds the whole
  mock's controls: `reset()`, `add_segmentation_list(id)` (for every account), `requests()`,
  `request_counts()`, `add_tenant(key)`/`remove_tenant(key)`, `store`, `limiter`.
- `app.tenant(key) -> Tenant`: one account's controls, declared once and used by Python tests,
  the pytest fixture and the HTTP routes alike: `add_segmentation_list(id)`,
  `blacklist(email, developer_mode=...)`, `inject(status, times=, operation=, retry_after=,
  delay=)`, `requests`, `request_counts()`, `reset()`, `segmentation_lists`.
- `serve_mock(...)`: context manager serving the app on a free 127.0.0.1 port in a thread,
  yielding a `RunningMock` with `.base_url` (`http://127.0.0.1:PORT/v1`) and `.app`; with
  `tls=ServerTLS(certfile, keyfile, client_ca=)` over HTTPS (and mutual TLS).
- `SyncASGITransport(app)`: the app behind a blocking `httpx.Client`, in-process.
- The same per-account controls over HTTP under `/_mock/` for the key in `x-api-key` (see
  `pingback_ext.mock.controls`).

Needs the `mock` extra (`pip install 'pingback-toolkit[mock]'`); importing this package
without it raises `MissingExtraError` naming it.
"""

from __future__ import annotations

from pingback_ext import extras

extras.require("mock", "pingback_ext.mock")

# The extra is there: import the package's parts.

from pingback_ext.mock.app import MockApp, MockOptions, create_app  # noqa: E402
from pingback_ext.mock.controls import Tenant  # noqa: E402
from pingback_ext.mock.errors import ApiError  # noqa: E402
from pingback_ext.mock.faults import Fault  # noqa: E402
from pingback_ext.mock.ratelimit import TokenBucketLimiter  # noqa: E402
from pingback_ext.mock.recorder import RecordedRequest  # noqa: E402
from pingback_ext.mock.server import RunningMock, ServerTLS, serve_mock  # noqa: E402
from pingback_ext.mock.store import Partition, Store  # noqa: E402
from pingback_ext.mock.transport import SyncASGITransport  # noqa: E402

__all__ = [
    "ApiError",
    "Fault",
    "MockApp",
    "MockOptions",
    "Partition",
    "RecordedRequest",
    "RunningMock",
    "ServerTLS",
    "Store",
    "SyncASGITransport",
    "Tenant",
    "TokenBucketLimiter",
    "create_app",
    "serve_mock",
]
