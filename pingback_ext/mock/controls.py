"""`/_mock/` HTTP test controls: seed lists, blacklist, reset, read request counts.

Outside `/v1` so they can never collide with the API; no key, no rate limit, not counted.
Each one calls the same public method on `MockApp` that Python tests can call directly.
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


def handle(mock: MockApp, op: Operation, method: str, body: Any) -> tuple[int, Any]:
    """Run one control and return (status, data)."""
    if op is Operation.CONTROL_RESET:
        mock.reset()
        return 200, {"reset": True}
    if op is Operation.CONTROL_STATS:
        counts = mock.request_counts()
        by_status = {str(status): n for status, n in sorted(counts.items())}
        return 200, {"total": sum(counts.values()), "byStatus": by_status}
    if op is Operation.CONTROL_LISTS:
        if method == "POST":
            list_id = _string(_object(body), "id", required=True)
            assert list_id is not None
            mock.add_segmentation_list(list_id)
            return 201, {"id": list_id, "segmentationLists": mock.segmentation_lists}
        return 200, mock.segmentation_lists
    # CONTROL_BLACKLIST
    obj = _object(body)
    email = _string(obj, "email", required=True)
    assert email is not None
    api_key = _string(obj, "apiKey", required=False)
    if api_key is not None and api_key not in mock.api_keys:
        raise invalid_input('"apiKey" is not one of the configured keys')
    return 200, mock.blacklist(
        email,
        api_key=api_key,
        developer_mode=_bool(obj, "developerMode", False),
        blacklisted=_bool(obj, "blacklisted", True),
    )
