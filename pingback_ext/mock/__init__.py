"""A faithful, stateful mock of the Pingback API for offline tests.

Public API:

- `create_app(...) -> MockApp`: an ASGI app (use with `httpx.ASGITransport`, schemathesis
  `from_asgi`, or any ASGI server). `MockApp` also carries the test controls:
  `reset()`, `add_segmentation_list(id)`, `blacklist(email, api_key=..., developer_mode=...)`,
  `request_counts()`, `segmentation_lists`, `api_keys`, `store`, `limiter`.
- `serve_mock(...)`: context manager serving the app on a free 127.0.0.1 port in a thread,
  yielding a `RunningMock` with `.base_url` (`http://127.0.0.1:PORT/v1`) and the same controls.
- `SyncASGITransport(app)`: the app behind a blocking `httpx.Client`, in-process.
- The same controls over HTTP under `/_mock/`: `POST /_mock/reset`,
  `GET|POST /_mock/segmentation-lists`, `POST /_mock/blacklist`, `GET /_mock/stats`.
"""

from __future__ import annotations

from pingback_ext.mock.app import MockApp, create_app
from pingback_ext.mock.errors import ApiError
from pingback_ext.mock.ratelimit import TokenBucketLimiter
from pingback_ext.mock.server import RunningMock, serve_mock
from pingback_ext.mock.store import Partition, Store
from pingback_ext.mock.transport import SyncASGITransport

__all__ = [
    "ApiError",
    "MockApp",
    "Partition",
    "RunningMock",
    "Store",
    "SyncASGITransport",
    "TokenBucketLimiter",
    "create_app",
    "serve_mock",
]
