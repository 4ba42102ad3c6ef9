"""`/_mock/` HTTP test controls, for tests written in any language against `pingback mock`.

Outside `/v1` so they can never collide with the API; not rate limited, not counted, not
recorded. Like the API they need a valid `x-api-key` (403 otherwise), and they act only on
that key's account: one tenant can neither read nor wipe another's data.

- `POST /_mock/reset`: forget the account's subscribers, lists, faults, request log, counts.
- `GET /_mock/segmentation-lists`, `POST /_mock/segmentation-lists {"id"}`: the lists the
  account sees; add one for the account.
- `POST /_mock/blacklist {"email", "developerMode"?, "blacklisted"?}`.
- `POST /_mock/inject {"status", "times"?, "operation"?, "retryAfter"?, "delay"?}`: the next
  `times` requests (to `operation`, an operationId) answer `status` with the documented body.
- `GET /_mock/requests`: the account's recorded requests (key redacted).
- `GET /_mock/stats`: the account's responses by status.

Each calls the same public method on `MockApp` that Python tests call directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pingback_ext.mock.errors import ApiError, invalid_input
from pingback_ext.mock.routing import Operation

if TYPE_CHECKING:
    from pingback_ext.mock.app import MockApp


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


def handle(mock: MockApp, op: Operation, method: str, body: Any, api_key: str) -> tuple[int, Any]:
    """Run one control for the account of `api_key` (already authenticated); (status, data)."""
    if op is Operation.CONTROL_RESET:
        mock.reset(api_key=api_key)
        return 200, {"reset": True}
    if op is Operation.CONTROL_STATS:
        counts = mock.request_counts(api_key)
        by_status = {str(status): n for status, n in sorted(counts.items())}
        return 200, {"total": sum(counts.values()), "byStatus": by_status}
    if op is Operation.CONTROL_REQUESTS:
        return 200, [entry.as_dict() for entry in mock.requests(api_key)]
    if op is Operation.CONTROL_LISTS:
        account = mock.account(api_key)
        if method == "POST":
            list_id = _string(_object(body), "id", required=True)
            assert list_id is not None
            mock.add_segmentation_list(list_id, api_key=api_key)
            return 201, {"id": list_id, "segmentationLists": mock.store.segmentation_lists(account)}
        return 200, mock.store.segmentation_lists(account)
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
            mock.inject(
                fault["status"],
                times=fault["times"],
                operation=operation,
                retry_after=fault["retryAfter"],
                delay=fault["delay"],
                api_key=api_key,
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
    return 200, mock.blacklist(
        email,
        api_key=api_key,
        developer_mode=_bool(obj, "developerMode", False),
        blacklisted=_bool(obj, "blacklisted", True),
    )
