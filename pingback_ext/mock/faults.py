"""Injected failures: "the next N requests (to this operation) answer 503 after 2 s".

Faults belong to an account (the API key's tenant) and are consumed in the order they were
added by the matching requests of that account only. An injected answer carries the documented
error body (`error`, `errorCode`, `requestId`) and, for `retry_after`, a `Retry-After` header.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from http import HTTPStatus

from pingback_ext.mock.errors import ApiError
from pingback_ext.mock.routing import Operation

#: errorCode and message per status, as Pingback documents them (errors.mdx); other statuses
#: use the HTTP reason phrase (503 -> SERVICE_UNAVAILABLE, "Service Unavailable.").
DOCUMENTED: dict[int, tuple[str, str]] = {
    400: ("MISSING_BODY", "Body is necessary."),
    403: ("FORBIDDEN", "Invalid API key."),
    404: ("SUBSCRIBER_NOT_FOUND", "Subscriber not found."),
    409: ("SUBSCRIBER_ALREADY_EXISTS", "Subscriber already exists."),
    422: ("INVALID_INPUT", "Unprocessable Entity."),
    429: ("TOO_MANY_REQUESTS", "Rate limit exceeded: slow down."),
    500: ("INTERNAL_SERVER_ERROR", "Internal server error."),
}
OPERATIONS = frozenset(op.value for op in Operation if not op.is_control)
MAX_DELAY_S = 600.0
MAX_RETRY_AFTER_S = 86_400.0
MAX_TIMES = 1_000_000


@dataclass
class Fault:
    """One injection: answer `status` to the next `times` matching requests."""

    status: int
    times: int = 1
    operation: str | None = None
    retry_after: float | None = None
    delay: float | None = None

    def __post_init__(self) -> None:
        """ValueError naming the first field that is out of range (the HTTP control: 422)."""
        status = self.status
        if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
            raise ValueError('"status" must be an HTTP error status (400-599)')
        times = self.times
        if isinstance(times, bool) or not isinstance(times, int) or not 1 <= times <= MAX_TIMES:
            raise ValueError(f'"times" must be an integer from 1 to {MAX_TIMES}')
        if self.operation is not None and self.operation not in OPERATIONS:
            raise ValueError(f'"operation" must be one of [{", ".join(sorted(OPERATIONS))}]')
        _seconds(self.retry_after, "retryAfter", MAX_RETRY_AFTER_S)
        _seconds(self.delay, "delay", MAX_DELAY_S)

    def error(self) -> ApiError:
        """The error response this fault answers with."""
        code, message = DOCUMENTED.get(self.status) or _from_reason(self.status)
        headers = {}
        if self.retry_after is not None:
            headers["retry-after"] = f"{self.retry_after:g}"
        return ApiError(self.status, code, message, headers)


def _seconds(value: object, name: str, limit: float) -> None:
    if value is None:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= limit
    ):
        raise ValueError(f'"{name}" must be a number of seconds from 0 to {limit:g}')


def _from_reason(status: int) -> tuple[str, str]:
    try:
        known = HTTPStatus(status)
    except ValueError:
        return f"HTTP_{status}", f"HTTP error {status}."
    return known.name, f"{known.phrase}."


class Faults:
    """Pending injections per account; thread-safe (tests add, the server thread consumes)."""

    def __init__(self) -> None:
        self._pending: dict[str, list[Fault]] = {}
        self._lock = threading.Lock()

    def add(self, account: str, fault: Fault) -> None:
        with self._lock:
            self._pending.setdefault(account, []).append(fault)

    def take(self, account: str, operation: str) -> Fault | None:
        """The first pending fault of `account` that matches `operation`, used once."""
        with self._lock:
            pending = self._pending.get(account, [])
            for index, fault in enumerate(pending):
                if fault.operation in (None, operation):
                    fault.times -= 1
                    if fault.times == 0:
                        del pending[index]
                    return fault
        return None

    def clear(self, account: str | None = None) -> None:
        """Drop the pending faults of one account, or of all."""
        with self._lock:
            if account is None:
                self._pending.clear()
            else:
                self._pending.pop(account, None)
