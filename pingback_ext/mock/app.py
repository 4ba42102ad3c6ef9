"""The mock's ASGI application: Pingback's five operations plus `/_mock/` test controls.

A thin raw-ASGI app rather than a framework: GET throughput is a stated goal, and the
request pipeline is short enough to read top to bottom in `_handle`. Order of checks on
`/v1`: route (404/405) -> API key (403) -> rate limit (429) -> developer-mode header
(422) -> path parameters (422/414) -> body (413/415/400) -> validation (422) -> store.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from pingback_ext.mock import controls
from pingback_ext.mock.asgi_io import (
    ClientDisconnected,
    Receive,
    Scope,
    Send,
    encode_json,
    is_json_media_type,
    parse_json,
    read_body,
    send_json,
)
from pingback_ext.mock.errors import ApiError
from pingback_ext.mock.ratelimit import TokenBucketLimiter, retry_after_header
from pingback_ext.mock.routing import Match, Operation, match
from pingback_ext.mock.store import Partition, Store
from pingback_ext.mock.validation import (
    parse_developer_mode,
    validate_create,
    validate_segmentation,
    validate_update,
)

logger = logging.getLogger("pingback_ext.mock")

_BODY_OPERATIONS = frozenset(
    {Operation.CREATE_SUBSCRIBER, Operation.UPDATE_SUBSCRIBER, Operation.ADD_TO_SEGMENTS}
)


def account_id(api_key: str) -> str:
    """The partition name for a key: a hash, so a `--db` file never holds the key itself."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:32]


class MockApp:
    """An ASGI app that behaves like Pingback; also the handle tests use to control it.

    Attributes: `store` (the `Store`), `limiter` (the `TokenBucketLimiter`), `api_keys`.
    `app.state.mock` is the app itself, for code that expects Starlette-style state.
    """

    def __init__(
        self,
        *,
        api_keys: Sequence[str] = ("test-key",),
        segmentation_lists: Sequence[str] = (),
        rate_limit: float = 5.0,
        burst: int = 2,
        db_path: str = ":memory:",
    ) -> None:
        keys = tuple(dict.fromkeys(api_keys))
        if not keys or any(not key for key in keys):
            raise ValueError("api_keys must be non-empty strings")
        if any(not list_id for list_id in segmentation_lists):
            raise ValueError("segmentation list ids must be non-empty strings")
        self.api_keys = keys
        self._accounts = {key: account_id(key) for key in keys}
        self.limiter = TokenBucketLimiter(rate_limit, burst)
        self.store = Store(db_path, segmentation_lists=segmentation_lists)
        self.state = SimpleNamespace(mock=self)
        self._counts: dict[int, int] = {}
        self._counts_lock = threading.Lock()

    # -- test controls (Python side; `/_mock/` routes call the same methods) ---------------

    @property
    def segmentation_lists(self) -> list[str]:
        """Every segmentation list id that exists (in every partition)."""
        return self.store.segmentation_lists()

    def add_segmentation_list(self, list_id: str) -> None:
        """Seed a segmentation list, as Pingback support would create one."""
        if not list_id:
            raise ValueError("list id must be a non-empty string")
        self.store.add_segmentation_list(list_id)

    def partition(self, api_key: str | None = None, developer_mode: bool = False) -> Partition:
        """The data partition of a key (default: the first key) and mode."""
        key = self.api_keys[0] if api_key is None else api_key
        if key not in self._accounts:
            raise KeyError(f"unknown API key: {key!r}")
        return Partition(self._accounts[key], developer_mode)

    def blacklist(
        self,
        email: str,
        *,
        api_key: str | None = None,
        developer_mode: bool = False,
        blacklisted: bool = True,
    ) -> dict[str, Any]:
        """Blacklist (or un-blacklist) a subscriber; raises `ApiError` 404 if unknown."""
        return self.store.set_blacklisted(
            self.partition(api_key, developer_mode), email, blacklisted
        )

    def reset(self) -> None:
        """Drop all subscribers, restore the configured lists, refill buckets, zero counts."""
        self.store.reset()
        self.limiter.reset()
        with self._counts_lock:
            self._counts.clear()

    def request_counts(self) -> dict[int, int]:
        """Responses sent on non-control routes, by HTTP status."""
        with self._counts_lock:
            return dict(self._counts)

    def close(self) -> None:
        """Release the database connection."""
        self.store.close()

    # -- ASGI ---------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = str(uuid.uuid4())
        headers: dict[str, str] = {}
        counted = True
        try:
            route = match(scope.get("raw_path") or scope["path"].encode("utf-8"), scope["method"])
            counted = not route.operation.is_control
            status, payload = await self._handle(route, scope, receive)
            body = encode_json({"data": payload, "requestId": request_id})
        except ClientDisconnected:
            return
        except ApiError as error:
            status, headers = error.status, error.headers
            body = encode_json(
                {"error": error.message, "errorCode": error.code, "requestId": request_id}
            )
        except Exception:
            logger.exception("mock bug while handling request %s", request_id)
            status = 500
            body = encode_json(
                {
                    "error": "Internal server error.",
                    "errorCode": "INTERNAL_SERVER_ERROR",
                    "requestId": request_id,
                }
            )
        if counted:
            with self._counts_lock:
                self._counts[status] = self._counts.get(status, 0) + 1
        await send_json(send, status, body, request_id, headers)

    async def _handle(self, route: Match, scope: Scope, receive: Receive) -> tuple[int, Any]:
        api_key: str | None = None
        dev_header: str | None = None
        content_type: str | None = None
        content_length: int | None = None
        for name, value in scope["headers"]:
            if name == b"x-api-key":
                api_key = value.decode("latin-1")
            elif name == b"x-developer-mode":
                dev_header = value.decode("latin-1")
            elif name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"content-length" and value.isdigit():
                content_length = int(value)

        op = route.operation
        if op.is_control:
            body = await self._json_body(receive, content_type, content_length, optional=True)
            return controls.handle(self, op, scope["method"], body)

        account = self._accounts.get(api_key) if api_key else None
        if account is None:
            reason = "Missing API key." if not api_key else "Invalid API key."
            raise ApiError(403, "FORBIDDEN", reason)
        wait = self.limiter.acquire(api_key or "")
        if wait is not None:
            raise ApiError(
                429,
                "TOO_MANY_REQUESTS",
                "Rate limit exceeded: slow down.",
                {"retry-after": retry_after_header(wait)},
            )
        part = Partition(account, parse_developer_mode(dev_header))
        if route.param_error is not None:
            raise route.param_error
        body = None
        if op in _BODY_OPERATIONS:
            body = await self._json_body(receive, content_type, content_length)

        store = self.store
        if op is Operation.GET_SUBSCRIBER:
            return 200, store.get_subscriber(part, route.params[0])
        if op is Operation.CREATE_SUBSCRIBER:
            return 201, store.create_subscriber(part, validate_create(body))
        if op is Operation.UPDATE_SUBSCRIBER:
            changes = validate_update(body).changes
            return 200, store.update_subscriber(part, route.params[0], changes)
        if op is Operation.ADD_TO_SEGMENTS:
            list_ids = validate_segmentation(body)
            return 200, store.add_to_lists(part, route.params[0], list_ids)
        list_id, email = route.params
        return 200, store.remove_from_list(part, list_id, email)

    @staticmethod
    async def _json_body(
        receive: Receive,
        content_type: str | None,
        content_length: int | None,
        *,
        optional: bool = False,
    ) -> Any:
        """Read and decode a JSON body (absent content type is read as JSON)."""
        raw = await read_body(receive, content_length)
        if optional and not raw.strip():
            return None
        if raw and content_type is not None and not is_json_media_type(content_type):
            raise ApiError(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                f"Content type {content_type!r} is not supported; send application/json.",
            )
        return parse_json(raw)


def create_app(
    *,
    api_keys: Sequence[str] = ("test-key",),
    segmentation_lists: Sequence[str] = (),
    rate_limit: float = 5.0,
    burst: int = 2,
    db_path: str = ":memory:",
) -> MockApp:
    """Build a mock Pingback ASGI app (`rate_limit=0` turns limiting off)."""
    return MockApp(
        api_keys=api_keys,
        segmentation_lists=segmentation_lists,
        rate_limit=rate_limit,
        burst=burst,
        db_path=db_path,
    )
