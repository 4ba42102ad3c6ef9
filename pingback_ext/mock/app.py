"""The mock's ASGI application: Pingback's five operations plus `/_mock/` test controls.

A thin raw-ASGI app rather than a framework: GET throughput is a stated goal, and the
request pipeline is short enough to read top to bottom in `_handle`. Order of checks on
`/v1`: route (404/405) -> API key (403) -> injected fault -> rate limit (429) ->
developer-mode header (422) -> path parameters (422/414) -> body (413/415/400) ->
validation (422) -> store. Every `/v1` (or unknown) request with a valid key is recorded in
that key's log (keys redacted); requests without one are only counted.

Tenancy: each API key is an account; its data, injected faults, request log and counts are
its own (`Tenant`). Keys can be added and removed while the app serves (`add_tenant`), which
is how the pytest fixture gives each test an empty mock without starting a server. The
`/_mock/` controls need a valid key too and act on that key's account only.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import uuid
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, TypedDict, Unpack

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
from pingback_ext.mock.controls import Tenant
from pingback_ext.mock.errors import ApiError
from pingback_ext.mock.faults import Faults
from pingback_ext.mock.ratelimit import TokenBucketLimiter, retry_after_header
from pingback_ext.mock.recorder import MAX_LOG_BYTES, RecordedRequest, Recorder
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


def _check_key(api_key: object) -> None:
    if not isinstance(api_key, str) or not is_header_value(api_key):
        raise ValueError(
            "api_keys must be non-empty strings that can be header values "
            "(printable ASCII, no surrounding whitespace)"
        )


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


class MockOptions(TypedDict, total=False):
    """How to build a mock (`MockApp`'s keyword arguments), shared by `create_app` and
    `serve_mock` so that each option is declared once."""

    api_keys: Sequence[str]
    segmentation_lists: Sequence[str]
    rate_limit: float
    burst: int
    db_path: str
    log_limit_bytes: int


class MockApp:
    """An ASGI app that behaves like Pingback; also the handle tests use to control it.

    The whole mock's controls are here (`reset()`, `add_segmentation_list`, `requests()`,
    `request_counts()`, tenants coming and going); one account's are on its `Tenant`
    (`tenant(key)`). Attributes: `store` (the `Store`), `limiter` (the `TokenBucketLimiter`),
    `faults` (injected answers), `recorder` (request logs and counts).
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
        log_limit_bytes: int = MAX_LOG_BYTES,
    ) -> None:
        keys = tuple(dict.fromkeys(api_keys))
        for key in keys:
            _check_key(key)
        self.limiter = TokenBucketLimiter(rate_limit, burst)
        self.recorder = Recorder(log_limit_bytes)
        self.store = Store(db_path, segmentation_lists=segmentation_lists)
        self.faults = Faults()
        self.state = SimpleNamespace(mock=self)
        # key -> account; replaced whole (never changed in place) when tenants come and go, so
        # the server thread reads it without a lock while a test thread adds a tenant.
        self._accounts: dict[str, str] = {}
        self._tenants_lock = threading.Lock()
        for key in keys:
            self.add_tenant(key)

    # -- the whole mock's controls (one account's: `Tenant`, in controls.py) -----------------

    @property
    def api_keys(self) -> tuple[str, ...]:
        """The keys the mock accepts, in the order they were configured or added."""
        return tuple(self._accounts)

    def account(self, api_key: str | None = None) -> str:
        """The account of a key (default: the first key); KeyError when it is not accepted."""
        accounts = self._accounts
        key = next(iter(accounts), None) if api_key is None else api_key
        if key is None or key not in accounts:
            raise KeyError("unknown API key")
        return accounts[key]

    def tenant(self, api_key: str | None = None) -> Tenant:
        """The controls of a key's account (default: the first key's)."""
        if api_key is None:
            api_key = next(iter(self._accounts), None)
            if api_key is None:
                raise KeyError("the mock has no API key")
        return Tenant(self, api_key)

    def add_tenant(self, api_key: str) -> Tenant:
        """Accept one more key, with an account of its own (empty unless `--db` kept one)."""
        _check_key(api_key)
        account = account_id(api_key, self.store)
        if self.store.persistent and self.store.adopt_account(
            _unsalted_account_id(api_key), account
        ):
            logger.info("mock: moved an account's data to its salted id")
        with self._tenants_lock:
            self._accounts = {**self._accounts, api_key: account}
        return Tenant(self, api_key)

    def remove_tenant(self, api_key: str) -> None:
        """Stop accepting a key and forget its account: data, faults, log, counts."""
        tenant = self.tenant(api_key)
        with self._tenants_lock:
            self._accounts = {k: v for k, v in self._accounts.items() if k != api_key}
        tenant.reset()

    def partition(self, api_key: str | None = None, developer_mode: bool = False) -> Partition:
        """The data partition of a key (default: the first key) and mode."""
        return Partition(self.account(api_key), developer_mode)

    @property
    def segmentation_lists(self) -> list[str]:
        """The segmentation list ids every account has (configured or added for all)."""
        return self.store.segmentation_lists()

    def add_segmentation_list(self, list_id: str) -> None:
        """Seed a segmentation list for every account, as Pingback support would create one
        (one account's own: `tenant(key).add_segmentation_list`)."""
        self.store.add_segmentation_list(list_id)

    def requests(self) -> list[RecordedRequest]:
        """Every account's recorded `/v1` requests, in arrival order (one account's:
        `tenant(key).requests`); requests without a valid key are never recorded."""
        return self.recorder.entries()

    def request_counts(self) -> dict[int, int]:
        """Responses sent on non-control routes, by HTTP status, to everyone (keyless too)."""
        return self.recorder.counts(every=True)

    def reset(self) -> None:
        """Back to the start: subscribers, lists added since, buckets, faults, logs, counts."""
        self.store.reset()
        self.limiter.reset()
        self.faults.clear()
        self.recorder.clear()

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
        accounts = self._accounts
        account = accounts.get(request.api_key) if request.api_key else None
        if account is None:  # no valid key: counted, never in anyone's log
            self.recorder.count(None, status)
            return
        self.recorder.add(
            RecordedRequest(
                method=scope["method"],
                path=scope["path"],
                query=scope.get("query_string", b""),
                raw_headers=scope["headers"],
                raw_body=request.raw_body,
                status=status,
                operation=None if operation is None else operation.value,
                account=account,
                keys=accounts.keys(),
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
            return controls.handle(Tenant(self, api_key), op, scope["method"], body)

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


def create_app(**options: Unpack[MockOptions]) -> MockApp:
    """Build a mock Pingback ASGI app (`rate_limit=0` turns limiting off); see `MockApp`."""
    return MockApp(**options)
