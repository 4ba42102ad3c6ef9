"""What the mock was asked: every `/v1` request, its decoded JSON body and the status answered.

Tests assert on what their code sent (`pingback_mock.requests[-1].json`). The API key is never
kept: its header reads `[redacted]`. The log is bounded (oldest entries go first), so a
long-running `pingback mock` does not grow without end.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import Any

REDACTED = "[redacted]"
_REDACTED_BYTES = REDACTED.encode("ascii")
MAX_RECORDED = 10_000


class RecordedRequest:
    """One request: `method`, decoded `path` (`/v1/subscriber/ana@example.com`), `json`
    (the decoded body, or None), `headers` (lower-case names, key redacted), `status` (of the
    answer), `operation` (operationId, None for unknown routes), `account` (None: no valid key).

    Headers and body are kept raw (the key already replaced) and decoded when read, so that
    recording costs the mock's request path next to nothing.
    """

    __slots__ = ("_body", "_headers", "account", "method", "operation", "path", "status")

    def __init__(
        self,
        *,
        method: str,
        path: str,
        raw_headers: list[tuple[bytes, bytes]],
        raw_body: bytes | None,
        status: int,
        operation: str | None,
        account: str | None,
    ) -> None:
        self.method = method
        self.path = path
        self._headers = [
            (name, _REDACTED_BYTES if name.lower() == b"x-api-key" else value)
            for name, value in raw_headers
        ]
        self._body = raw_body
        self.status = status
        self.operation = operation
        self.account = account

    @property
    def headers(self) -> dict[str, str]:
        """Lower-case names; repeated headers joined with `, `; the API key redacted."""
        headers: dict[str, str] = {}
        for name_bytes, value_bytes in self._headers:
            name = name_bytes.decode("latin-1").lower()
            value = value_bytes.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return headers

    @property
    def json(self) -> Any:
        """The body decoded as JSON; None when there was none or it was not JSON."""
        if not self._body or not self._body.strip():
            return None
        try:
            return json.loads(self._body)
        except ValueError:
            return None

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape `GET /_mock/requests` answers with."""
        return {
            "method": self.method,
            "path": self.path,
            "json": self.json,
            "headers": self.headers,
            "status": self.status,
            "operation": self.operation,
        }

    def __repr__(self) -> str:
        return f"RecordedRequest({self.method} {self.path} -> {self.status})"


class Recorder:
    """The bounded, thread-safe log of requests."""

    def __init__(self, limit: int = MAX_RECORDED) -> None:
        self._entries: deque[RecordedRequest] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def add(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self, account: str | None = None, *, every: bool = False) -> list[RecordedRequest]:
        """The requests of one account, or `every=True` for all (those without a key too)."""
        with self._lock:
            return [e for e in self._entries if every or e.account == account]

    def clear(self, account: str | None = None, *, every: bool = False) -> None:
        with self._lock:
            kept = [] if every else [e for e in self._entries if e.account != account]
            self._entries.clear()
            self._entries.extend(kept)
