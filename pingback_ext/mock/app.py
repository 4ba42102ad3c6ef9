"""The mock's ASGI application: Pingback's five operations plus `/_mock/` test controls.

A thin raw-ASGI app rather than a framework: GET throughput is a stated goal, and the
request pipeline is short enough to read top to bottom in `_handle`. Order of checks on
`/v1`: route (404/405) -> API key (403) -> injected fault -> rate limit (429) ->
developer-mode header (422) -> path parameters (422/414) -> body (413/415/400) ->
validation (422) -> store. Every `/v1` request is recorded (key redacted).

Tenancy: each API key is an account; its data, injected faults, request log and counts are
its own. The `/_mock/` controls need a valid key too and act on that key's account only.
"""

from __future__ import annotations

import asyncio
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
from pingback_ext.mock.faults import Fault, Faults
from pingback_ext.mock.ratelimit import TokenBucketLimiter, retry_after_header
from pingback_ext.mock.recorder import RecordedRequest, Recorder
from pingback_ext.mock.routing import Match, Operation, match
from pingback_ext.mock.store import Partition, Store
from pingback_ext.mock.validation import (
    parse_developer_mode,
    validate_create,
    validate_segmentation,
    validate_update,
)
from pingback_ext.settings import KEY_HASH_ROUNDS, APIKey, is_header_value

logger = logging.getLogger("pingback_ext.mock")

_BODY_OPERATIONS = frozenset(
    {Operation.CREATE_SUBSCRIBER, Operation.UPDATE_SUBSCRIBER, Operation.ADD_TO_SEGMENTS}
)


def account_id(api_key: str, store: Store) -> str:
    """The partition name of a key: its salted fingerprint, with the database's own salt.

    A `--db` file holds nothing that checks a guessed key offline (a slow hash, as a sync state
    keeps), and the same key finds its data again after a restart. In memory, where the mock
    holds the keys themselves, one round is enough: the id only names a partition.
    """
    rounds = KEY_HASH_ROUNDS if store.persistent else 1
    return APIKey(api_key).salted_fingerprint(store.salt, rounds)[:32]


def _unsalted_account_id(api_key: str) -> str:
    """The id files written before ids were salted used: data found under it moves to the
    salted id when its key is configured again (and the unsalted hash leaves the file)."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:32]


class _Request:
    """What the pipeline learns about one request: headers, whose it is, its body."""

    def __init__(self, scope: Scope) -> None:
        self.api_key: str | None = None
        self.dev_header: str | None = None
        self.content_type: str | None = None
        self.content_length: int | None = None
        for name, value in scope["headers"]:
            if name == b"x-api-key":
                self.api_key = value.decode("latin-1")
            elif name == b"x-developer-mode":
                self.dev_header = value.decode("latin-1")
            elif name == b"content-type":
                self.content_type = value.decode("latin-1")
            elif name == b"content-length" and value.isdigit():
                self.content_length = int(value)
        self.account: str | None = None
        self.raw_body: bytes | None = None


class MockApp:
    """An ASGI app that behaves like Pingback; also the handle tests use to control it.

    Attributes: `store` (the `Store`), `limiter` (the `TokenBucketLimiter`), `api_keys`,
    `faults` (injected answers), `recorder` (the request log).
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
        if not keys or not all(isinstance(key, str) and is_header_value(key) for key in keys):
            raise ValueError(
                "api_keys must be non-empty strings that can be header values "
                "(printable ASCII, no surrounding whitespace)"
            )
        if any(not list_id for list_id in segmentation_lists):
            raise ValueError("segmentation list ids must be non-empty strings")
        self.api_keys = keys
        self.limiter = TokenBucketLimiter(rate_limit, burst)
        self.store = Store(db_path, segmentation_lists=segmentation_lists)
        self._accounts = {key: account_id(key, self.store) for key in keys}
        if self.store.persistent:
            for key, account in self._accounts.items():
                if self.store.adopt_account(_unsalted_account_id(key), account):
                    logger.info("mock: moved an account's data to its salted id")
        self.faults = Faults()
        self.recorder = Recorder()
        self.state = SimpleNamespace(mock=self)
        self._counts: dict[str | None, dict[int, int]] = {}
        self._counts_lock = threading.Lock()

    # -- test controls (Python side; `/_mock/` routes call the same methods with their key) ----

    @property
    def segmentation_lists(self) -> list[str]:
        """The segmentation list ids every account has (configured or added without a key)."""
        return self.store.segmentation_lists()

    def account(self, api_key: str | None = None) -> str:
        """The account of a configured key (default: the first key)."""
        key = self.api_keys[0] if api_key is None else api_key
        if key not in self._accounts:
            raise KeyError("unknown API key")
        return self._accounts[key]

    def add_segmentation_list(self, list_id: str, *, api_key: str | None = None) -> None:
        """Seed a segmentation list, as Pingback support would create one: for every account,
        or only for the account of `api_key`."""
        if not list_id:
            raise ValueError("list id must be a non-empty string")
        account = None if api_key is None else self.account(api_key)
        self.store.add_segmentation_list(list_id, account=account)

    def partition(self, api_key: str | None = None, developer_mode: bool = False) -> Partition:
        """The data partition of a key (default: the first key) and mode."""
        return Partition(self.account(api_key), developer_mode)

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
        """Answer the next `times` requests of `api_key`'s account (to `operation`, an
        operationId; None: any) with `status` and the documented error body, after `delay`
        seconds, with `Retry-After: retry_after` when given. ValueError if out of range."""
        fault = Fault(status, times, operation, retry_after, delay)
        self.faults.add(self.account(api_key), fault)

    def requests(self, api_key: str | None = None) -> list[RecordedRequest]:
        """Recorded `/v1` requests, oldest first: every one, or only those of `api_key`."""
        if api_key is None:
            return self.recorder.entries(every=True)
        return self.recorder.entries(self.account(api_key))

    def reset(self, *, api_key: str | None = None) -> None:
        """Back to the start: everything (subscribers, lists added since, buckets, faults, log,
        counts), or only what belongs to the account of `api_key`."""
        if api_key is None:
            self.store.reset()
            self.limiter.reset()
            self.faults.clear()
            self.recorder.clear(every=True)
            with self._counts_lock:
                self._counts.clear()
            return
        account = self.account(api_key)
        self.store.reset_account(account)
        self.limiter.reset(api_key)
        self.faults.clear(account)
        self.recorder.clear(account)
        with self._counts_lock:
            self._counts.pop(account, None)

    def request_counts(self, api_key: str | None = None) -> dict[int, int]:
        """Responses sent on non-control routes, by HTTP status: all, or `api_key`'s."""
        with self._counts_lock:
            if api_key is not None:
                return dict(self._counts.get(self.account(api_key), {}))
            total: dict[int, int] = {}
            for counts in self._counts.values():
                for status, n in counts.items():
                    total[status] = total.get(status, 0) + n
            return total

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
        request = _Request(scope)
        operation: Operation | None = None
        try:
            route = match(scope.get("raw_path") or scope["path"].encode("utf-8"), scope["method"])
            operation = route.operation
            status, payload = await self._handle(route, scope, receive, request)
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
        if operation is None or not operation.is_control:
            self._record(scope, request, operation, status)
        await send_json(send, status, body, request_id, headers)

    def _record(
        self, scope: Scope, request: _Request, operation: Operation | None, status: int
    ) -> None:
        with self._counts_lock:
            counts = self._counts.setdefault(request.account, {})
            counts[status] = counts.get(status, 0) + 1
        self.recorder.add(
            RecordedRequest(
                method=scope["method"],
                path=scope["path"],
                raw_headers=scope["headers"],
                raw_body=request.raw_body,
                status=status,
                operation=None if operation is None else operation.value,
                account=request.account,
            )
        )

    def _authenticate(self, request: _Request) -> str:
        api_key = request.api_key
        account = self._accounts.get(api_key) if api_key else None
        if account is None:
            reason = "Missing API key." if not api_key else "Invalid API key."
            raise ApiError(403, "FORBIDDEN", reason)
        request.account = account
        return account

    async def _handle(
        self, route: Match, scope: Scope, receive: Receive, request: _Request
    ) -> tuple[int, Any]:
        op = route.operation
        account = self._authenticate(request)
        api_key = request.api_key or ""
        if op.is_control:
            body = await self._json_body(receive, request, optional=True)
            return controls.handle(self, op, scope["method"], body, api_key)

        if op in _BODY_OPERATIONS:
            request.raw_body = await read_body(receive, request.content_length)
        fault = self.faults.take(account, op.value)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            raise fault.error()
        wait = self.limiter.acquire(api_key)
        if wait is not None:
            raise ApiError(
                429,
                "TOO_MANY_REQUESTS",
                "Rate limit exceeded: slow down.",
                {"retry-after": retry_after_header(wait)},
            )
        part = Partition(account, parse_developer_mode(request.dev_header))
        if route.param_error is not None:
            raise route.param_error
        body = None
        if op in _BODY_OPERATIONS:
            body = self._decode_body(request)

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
    def _decode_body(request: _Request, *, optional: bool = False) -> Any:
        """Decode a JSON body (absent content type is read as JSON)."""
        raw = request.raw_body or b""
        if optional and not raw.strip():
            return None
        content_type = request.content_type
        if raw and content_type is not None and not is_json_media_type(content_type):
            raise ApiError(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                f"Content type {content_type!r} is not supported; send application/json.",
            )
        return parse_json(raw)

    @classmethod
    async def _json_body(cls, receive: Receive, request: _Request, *, optional: bool) -> Any:
        request.raw_body = await read_body(receive, request.content_length)
        return cls._decode_body(request, optional=optional)


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
