"""What the mock was asked: each tenant's `/v1` requests, as sent, with every API key redacted.

Tests assert on what their code sent (`pingback_mock.requests[-1].json`, `.params`). A request
enters the log of the tenant whose valid key it carried, and no other: a request without a valid
key is answered (403) and counted, never logged, so nobody can flood a tenant's log without its
key. Each tenant's log is capped in bytes (oldest entries go first), so neither a long-running
`pingback mock` nor a flood of large bodies grows the process without end.

Redaction happens when a request is recorded: the `x-api-key` header always, and any configured
key wherever else it appears (another header, the path, the query, the body), as sent or
percent-, JSON- or base64-encoded.
"""

from __future__ import annotations

import base64
import binascii
import functools
import itertools
import json
import re
import threading
from collections import deque
from collections.abc import Collection, Iterator
from typing import Any
from urllib.parse import unquote, unquote_plus

import httpx

REDACTED = "[redacted]"
_REDACTED_BYTES = REDACTED.encode("ascii")
_REDACTED_QUERY = "%5Bredacted%5D"  # reads back as "[redacted]" through `params`
#: Per tenant. A request is at most ~1 MiB of body plus headers, so a few of the largest fit.
MAX_LOG_BYTES = 8 * 1024 * 1024
#: What an entry costs beyond its data (the object, its lists, the deque slot); counted so that
#: a flood of empty requests is bounded too.
ENTRY_OVERHEAD = 512
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{8,}={0,2}")
_JSON_UNICODE = re.compile(r"\\u([0-9a-fA-F]{4})")
_JSON_SIMPLE = re.compile(r'\\(["\\/bfnrt])')
_JSON_SIMPLE_CHARS = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}


def _decodings(text: str) -> Iterator[str]:
    """`text` as sent, then percent-decoded up to twice (with `+` as a space and without)."""
    yield text
    for _ in range(2):
        if "%" not in text and "+" not in text:
            return
        yield unquote_plus(text)
        text = unquote(text)
        yield text


def _json_unescaped(text: str) -> str:
    """JSON's string escapes (`\\u0041`, `\\/`, `\\"`) undone, wherever they appear."""
    text = _JSON_UNICODE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return _JSON_SIMPLE.sub(lambda m: _JSON_SIMPLE_CHARS[m.group(1)], text)


def _base64_texts(data: bytes, shortest: int) -> Iterator[str]:
    """Each base64-looking run of at least `shortest` characters decoded from each of its four
    alignments: a key encoded inside a longer run (`Basic dXNlcjprZXk=`) starts at one of them."""
    for run in _BASE64_RUN.findall(data):
        run = run.rstrip(b"=")
        if len(run) < shortest:
            continue
        for start in range(4):
            chunk = run[start:]
            if len(chunk) % 4 == 1:  # one character past a whole group is no byte at all
                chunk = chunk[:-1]
            chunk += b"=" * (-len(chunk) % 4)
            for decode in (base64.b64decode, base64.urlsafe_b64decode):
                try:
                    yield decode(chunk).decode("latin-1")
                except (binascii.Error, ValueError):
                    continue


def reveals(data: bytes, keys: Collection[str]) -> bool:
    """Whether any key can be read out of `data`: as sent, percent-, JSON- or base64-encoded."""
    if not keys:
        return False
    text = data.decode("utf-8", "replace")
    if any(key in text for key in keys):
        return True
    texts = list(_decodings(text))
    if "\\" in text:
        texts.extend([_json_unescaped(candidate) for candidate in texts])
    # n bytes take 4n/3 base64 characters: shorter runs cannot hold a whole key
    texts.extend(_base64_texts(data, 4 * min(len(key) for key in keys) // 3))
    return any(key in candidate for key in keys for candidate in texts)


@functools.lru_cache(maxsize=256)
def _headers_reveal(headers: bytes, keys: tuple[str, ...]) -> bool:
    """`reveals` for the headers a request carries besides its key: a client sends the same
    ones again and again, so the answer is remembered."""
    return reveals(headers, keys)


def redact(data: bytes, keys: Collection[str]) -> bytes:
    """`data` with every key replaced by `[redacted]`; whole when a key hides in an encoding."""
    for key in keys:
        data = data.replace(key.encode("latin-1"), _REDACTED_BYTES)
    return _REDACTED_BYTES if reveals(data, keys) else data


def _redact_text(text: str, keys: Collection[str]) -> str:
    """A decoded text (the path) with each key replaced; whole when a key hides in it encoded."""
    if not keys:
        return text
    for key in keys:
        text = text.replace(key, REDACTED)
    return REDACTED if reveals(text.encode("utf-8", "replace"), keys) else text


def _redact_headers(
    headers: list[tuple[bytes, bytes]], keys: Collection[str]
) -> list[tuple[bytes, bytes]]:
    """`x-api-key` always redacted; any other header whose name or value holds a key, whole."""
    kept = b"\n".join(
        name + b":" + value for name, value in headers if name.lower() != b"x-api-key"
    )
    if not keys or not _headers_reveal(kept, tuple(keys)):
        return [(n, _REDACTED_BYTES if n.lower() == b"x-api-key" else v) for n, v in headers]
    return [
        (
            _REDACTED_BYTES if reveals(name, keys) else name,
            _REDACTED_BYTES
            if name.lower() == b"x-api-key" or reveals(name + b":" + value, keys)
            else value,
        )
        for name, value in headers
    ]


def _redact_query(query: bytes, keys: Collection[str]) -> str:
    """The query string as sent (latin-1), each name or value that holds a key redacted."""
    text = query.decode("latin-1")
    if not query or not keys or not reveals(query, keys):
        return text
    parts = []
    for part in text.split("&"):
        name, eq, value = part.partition("=")
        name, value = (
            _REDACTED_QUERY if reveals(piece.encode("latin-1"), keys) else piece
            for piece in (name, value)
        )
        parts.append(f"{name}{eq}{value}")
    redacted = "&".join(parts)  # a key with "&" or "=" in it may span pieces: then all of it
    return _REDACTED_QUERY if reveals(redacted.encode("latin-1"), keys) else redacted


class RecordedRequest:
    """One request: `method`, decoded `path` (`/v1/subscriber/ana@example.com`), `query` (as
    sent, `a=1&b=2`) and `params` (parsed), `json` (the decoded body, or None), `headers`
    (lower-case names), `status` (of the answer), `operation` (operationId, None for unknown
    routes), `account` (whose log it is in). Every API key is already redacted.

    Headers and body are kept raw and decoded when read, so that recording costs the mock's
    request path little.
    """

    __slots__ = (
        "_body",
        "_headers",
        "account",
        "method",
        "operation",
        "path",
        "query",
        "seq",
        "size",
        "status",
    )

    def __init__(
        self,
        *,
        method: str,
        path: str,
        query: bytes = b"",
        raw_headers: list[tuple[bytes, bytes]],
        raw_body: bytes | None,
        status: int,
        operation: str | None,
        account: str | None,
        keys: Collection[str] = (),
    ) -> None:
        self.method = method
        line = path.encode("utf-8", "replace") + b"?" + query
        if keys and reveals(line, keys):  # one look at the request line, the parts if needed
            self.path, self.query = _redact_text(path, keys), _redact_query(query, keys)
        else:
            self.path, self.query = path, query.decode("latin-1")
        self._headers = _redact_headers(raw_headers, keys)
        self._body = raw_body if raw_body is None or not keys else redact(raw_body, keys)
        self.status = status
        self.operation = operation
        self.account = account
        self.seq = 0
        self.size = (
            ENTRY_OVERHEAD
            + len(method)
            + len(self.path)
            + len(self.query)
            + sum(len(name) + len(value) for name, value in self._headers)
            + len(self._body or b"")
        )

    @property
    def headers(self) -> dict[str, str]:
        """Lower-case names; repeated headers joined with `, `; keys redacted."""
        headers: dict[str, str] = {}
        for name_bytes, value_bytes in self._headers:
            name = name_bytes.decode("latin-1").lower()
            value = value_bytes.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return headers

    @property
    def params(self) -> httpx.QueryParams:
        """The query string parsed (`r.params["page"]`, `r.params.get_list("id")`)."""
        return httpx.QueryParams(self.query)

    @property
    def json(self) -> Any:
        """The body decoded as JSON; None when there was none or it was not JSON."""
        if not self._body or not self._body.strip():
            return None
        try:
            return json.loads(self._body)
        except (ValueError, RecursionError):
            return None

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape `GET /_mock/requests` answers with."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "json": self.json,
            "headers": self.headers,
            "status": self.status,
            "operation": self.operation,
        }

    def _shrink(self) -> None:
        """Forget body and headers (an entry larger than a whole log keeps its request line)."""
        self.size -= len(self._body or b"") + sum(len(n) + len(v) for n, v in self._headers)
        self._body = None
        self._headers = []

    def __repr__(self) -> str:
        return f"RecordedRequest({self.method} {self.path} -> {self.status})"


class _Log:
    def __init__(self) -> None:
        self.entries: deque[RecordedRequest] = deque()
        self.size = 0


class Recorder:
    """Every tenant's request log, each capped at `limit_bytes`, and the answers sent by status
    (per tenant, and for requests without a valid key); thread-safe."""

    def __init__(self, limit_bytes: int = MAX_LOG_BYTES) -> None:
        if isinstance(limit_bytes, bool) or not isinstance(limit_bytes, int):
            raise ValueError("the request log's limit must be a whole number of bytes")
        if limit_bytes < ENTRY_OVERHEAD:
            raise ValueError(f"the request log's limit must be at least {ENTRY_OVERHEAD} bytes")
        self.limit_bytes = limit_bytes
        self._logs: dict[str, _Log] = {}
        self._counts: dict[str | None, dict[int, int]] = {}
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def count(self, account: str | None, status: int) -> None:
        """Count an answer (None: a request without a valid key, counted but never logged)."""
        with self._lock:
            counts = self._counts.setdefault(account, {})
            counts[status] = counts.get(status, 0) + 1

    def counts(self, account: str | None = None, *, every: bool = False) -> dict[int, int]:
        """Answers by status: one tenant's, or `every=True` for all (keyless ones too)."""
        with self._lock:
            if not every:
                return dict(self._counts.get(account, {}))
            total: dict[int, int] = {}
            for counts in self._counts.values():
                for status, n in counts.items():
                    total[status] = total.get(status, 0) + n
            return total

    def add(self, entry: RecordedRequest) -> None:
        """Count it and append it to its tenant's log, oldest entries going first."""
        self.count(entry.account, entry.status)
        if entry.account is None:
            return
        if entry.size > self.limit_bytes:
            entry._shrink()
            if entry.size > self.limit_bytes:
                return
        with self._lock:
            log = self._logs.setdefault(entry.account, _Log())
            while log.entries and log.size + entry.size > self.limit_bytes:
                log.size -= log.entries.popleft().size
            entry.seq = next(self._seq)
            log.entries.append(entry)
            log.size += entry.size

    def entries(self, account: str | None = None) -> list[RecordedRequest]:
        """One tenant's requests, oldest first; None: every tenant's, in arrival order."""
        with self._lock:
            if account is not None:
                log = self._logs.get(account)
                return [] if log is None else list(log.entries)
            every = [entry for log in self._logs.values() for entry in log.entries]
        return sorted(every, key=lambda entry: entry.seq)

    def size(self, account: str | None = None) -> int:
        """Bytes held for one tenant (None: for all), as counted against the cap."""
        with self._lock:
            if account is not None:
                log = self._logs.get(account)
                return 0 if log is None else log.size
            return sum(log.size for log in self._logs.values())

    def clear(self, account: str | None = None) -> None:
        """Forget one tenant's log and counts, or (None) everything."""
        with self._lock:
            if account is None:
                self._logs.clear()
                self._counts.clear()
            else:
                self._logs.pop(account, None)
                self._counts.pop(account, None)
