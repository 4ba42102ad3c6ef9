"""The mock's test controls, declared once: `Tenant`, what a test may do to one account's data,
and the `/_mock/` HTTP routes, which run the same methods for the key in `x-api-key`.

Python tests reach a `Tenant` through `MockApp.tenant(key)` (the `pingback_mock` fixture *is*
one); tests in any language use the routes below against `pingback mock`. The routes are
outside `/v1` so they can never collide with the API; not rate limited, not counted, not
recorded. Like the API they need a valid `x-api-key` (403 otherwise), and they act only on
that key's account: one tenant can neither read nor wipe another's data.

- `POST /_mock/reset`: forget the account's subscribers, lists, faults, request log, counts.
- `GET /_mock/segmentation-lists`, `POST /_mock/segmentation-lists {"id"}`: the lists the
  account sees; add one for the account.
- `POST /_mock/blacklist {"email", "developerMode"?, "blacklisted"?}`.
- `POST /_mock/inject {"status", "times"?, "operation"?, "retryAfter"?, "delay"?}`: the next
  `times` requests (to `operation`, an operationId) answer `status` with the documented body.
- `GET /_mock/requests`: the account's recorded requests (keys redacted).
- `GET /_mock/stats`: the account's responses by status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pingback_ext.mock.errors import ApiError, invalid_input
from pingback_ext.mock.faults import Fault
from pingback_ext.mock.recorder import RecordedRequest
from pingback_ext.mock.routing import Operation
from pingback_ext.mock.store import Partition

if TYPE_CHECKING:
    from pingback_ext.mock.app import MockApp


class Tenant:
    """The test controls of one account (one API key): its data, faults, request log, counts.

    `api_key` is the key; `account` its partition name. KeyError when the app has no such key.
    """

    def __init__(self, app: MockApp, api_key: str) -> None:
        self.account = app.account(api_key)
        self.api_key = api_key
        self._app = app

    @property
    def segmentation_lists(self) -> list[str]:
        """The segmentation list ids this account sees (every account's, then its own)."""
        return self._app.store.segmentation_lists(self.account)

    def add_segmentation_list(self, list_id: str) -> None:
        """Create a segmentation list for this account (Pingback has no API for that; support
        does it)."""
        self._app.store.add_segmentation_list(list_id, account=self.account)

    def partition(self, developer_mode: bool = False) -> Partition:
        """This account's data in production (or developer) mode, for reading the store."""
        return Partition(self.account, developer_mode)

    def blacklist(
        self, email: str, *, developer_mode: bool = False, blacklisted: bool = True
    ) -> dict[str, Any]:
        """Mark a subscriber blacklisted (or clear it), as a spam report or a bounce would; the
        subscriber's JSON. `ApiError` 404 when there is no such subscriber."""
        part = self.partition(developer_mode)
        return self._app.store.set_blacklisted(part, email, blacklisted)

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
        seconds, with `Retry-After: retry_after` when given. ValueError if out of range."""
        self._app.faults.add(self.account, Fault(status, times, operation, retry_after, delay))

    @property
    def requests(self) -> list[RecordedRequest]:
        """This account's `/v1` requests, oldest first: `.method`, `.path`, `.query`,
        `.params`, `.json`, `.headers` (keys redacted), `.status`, `.operation`."""
        return self._app.recorder.entries(self.account)

    def request_counts(self) -> dict[int, int]:
        """This account's answers by HTTP status."""
        return self._app.recorder.counts(self.account)

    def reset(self) -> None:
        """Forget this account's subscribers, own lists, faults, request log, counts and rate
        bucket; other accounts keep theirs."""
        app = self._app
        app.store.reset_account(self.account)
        app.limiter.reset(self.api_key)
        app.faults.clear(self.account)
        app.recorder.clear(self.account)


def _object(body: Any) -> dict[str, Any]:
    if body is None:
        raise ApiError(400, "MISSING_BODY", "Body is necessary.")
    if not isinstance(body, dict):
        raise invalid_input('"value" must be of type object')
    return body


def _string(body: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or not value.isprintable():
        raise invalid_input(f'"{name}" must be a non-empty printable string')
    return value


def _bool(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise invalid_input(f'"{name}" must be a boolean')
    return value


def handle(tenant: Tenant, op: Operation, method: str, body: Any) -> tuple[int, Any]:
    """Run one control for an (authenticated) tenant; (status, data)."""
    if op is Operation.CONTROL_RESET:
        tenant.reset()
        return 200, {"reset": True}
    if op is Operation.CONTROL_STATS:
        counts = tenant.request_counts()
        by_status = {str(status): n for status, n in sorted(counts.items())}
        return 200, {"total": sum(counts.values()), "byStatus": by_status}
    if op is Operation.CONTROL_REQUESTS:
        return 200, [entry.as_dict() for entry in tenant.requests]
    if op is Operation.CONTROL_LISTS:
        if method == "POST":
            list_id = _string(_object(body), "id", required=True)
            assert list_id is not None
            tenant.add_segmentation_list(list_id)
            return 201, {"id": list_id, "segmentationLists": tenant.segmentation_lists}
        return 200, tenant.segmentation_lists
    if op is Operation.CONTROL_INJECT:
        obj = _object(body)
        operation = _string(obj, "operation", required=False)
        fault = {
            "status": obj.get("status"),
            "times": obj.get("times", 1),
            "operation": operation,
            "retryAfter": obj.get("retryAfter"),
            "delay": obj.get("delay"),
        }
        try:  # Fault checks every field's type and range
            tenant.inject(
                fault["status"],
                times=fault["times"],
                operation=operation,
                retry_after=fault["retryAfter"],
                delay=fault["delay"],
            )
        except ValueError as error:
            raise invalid_input(str(error)) from None
        return 201, fault
    # CONTROL_BLACKLIST
    obj = _object(body)
    if "apiKey" in obj:
        raise invalid_input('"apiKey" is not allowed: the x-api-key header says whose data it is')
    email = _string(obj, "email", required=True)
    assert email is not None
    return 200, tenant.blacklist(
        email,
        developer_mode=_bool(obj, "developerMode", False),
        blacklisted=_bool(obj, "blacklisted", True),
    )
