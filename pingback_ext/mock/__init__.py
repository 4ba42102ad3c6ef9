"""A faithful, stateful mock of the Pingback API for offline tests.

Public API:

- `create_app(...) -> MockApp`: an ASGI app (use with `httpx.ASGITransport`, schemathesis
  `from_asgi`, or any ASGI server). `MockApp` also carries the test controls:
  `reset(api_key=None)`, `add_segmentation_list(id)`, `blacklist(email, api_key=...,
  developer_mode=...)`, `inject(status, times=, operation=, retry_after=, delay=)`,
  `requests()`, `request_counts()`, `segmentation_lists`, `api_keys`, `store`, `limiter`.
- `serve_mock(...)`: context manager serving the app on a free 127.0.0.1 port in a thread,
  yielding a `RunningMock` with `.base_url` (`http://127.0.0.1:PORT/v1`) and the same controls.
- `SyncASGITransport(app)`: the app behind a blocking `httpx.Client`, in-process.
- The same controls over HTTP under `/_mock/` for the key in `x-api-key` (see
  `pingback_ext.mock.controls`).

Needs the `mock` extra (`pip install 'pingback-toolkit[mock]'`); importing this package
without it raises `MissingExtraError` naming it.
"""

from __future__ import annotations

from pingback_ext import extras

extras.require("mock", "pingback_ext.mock")

# The extra is there: import the package's parts.

from pingback_ext.mock.app import MockApp, create_app  # noqa: E402
from pingback_ext.mock.errors import ApiError  # noqa: E402
from pingback_ext.mock.faults import Fault  # noqa: E402
from pingback_ext.mock.ratelimit import TokenBucketLimiter  # noqa: E402
from pingback_ext.mock.recorder import RecordedRequest  # noqa: E402
from pingback_ext.mock.server import RunningMock, serve_mock  # noqa: E402
from pingback_ext.mock.store import Partition, Store  # noqa: E402
from pingback_ext.mock.transport import SyncASGITransport  # noqa: E402

__all__ = [
    "ApiError",
    "Fault",
    "MockApp",
    "Partition",
    "RecordedRequest",
    "RunningMock",
    "Store",
    "SyncASGITransport",
    "TokenBucketLimiter",
    "create_app",
    "serve_mock",
]
