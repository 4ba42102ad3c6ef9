"""What the mock was asked: every `/v1` request, its decoded JSON body and the status answered.

Tests assert on what their code sent (`pingback_mock.requests[-1].json`). The API key is never
kept: its header reads `[redacted]`. The log is bounded (oldest entries go first), so a
long-running `pingback mock` does not grow without end.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

REDACTED = "[redacted]"
MAX_RECORDED = 10_000


@dataclass(frozen=True)
class RecordedRequest:
    """One request: `method`, decoded `path` (`/v1/subscriber/ana@example.com`), `json`
    (the decoded body, or None), `headers` (lower-case names, key redacted), `status` (of the
    answer), `operation` (operationId, None for unknown routes), `account` (None: no valid key).
    """

    method: str
    path: str
    json: Any
    headers: dict[str, str]
    status: int
    operation: str | None
    account: str | None

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


def redacted_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI headers as a dict, the API key replaced (repeated names joined with `, `)."""
    headers: dict[str, str] = {}
    for name_bytes, value_bytes in raw:
        name = name_bytes.decode("latin-1").lower()
        value = REDACTED if name == "x-api-key" else value_bytes.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


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
