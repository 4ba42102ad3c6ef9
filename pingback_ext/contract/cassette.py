"""Every exchange of a contract run, written to and read from a HAR 1.2 cassette.

HAR is the format browsers, proxies and HTTP tools already read and write. `--record PATH`
writes one entry per request the suite sent (probes and 429 retries included) with the API key
filtered from every field in every encoding; `--replay PATH` reads it back and re-runs the
checks over the recorded answers, with no network. Pingback-specific facts a replay needs ride
in HAR's custom fields (names starting with `_`, which HAR reserves for extensions):
`_operation` (e.g. "POST /subscriber"), `_generation` ("positive"/"negative", for generated
cases), `_credential` ("valid", "missing" or "wrong": what the key sent was, since the key
itself is filtered) and, on the log, `_baseUrl`.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pingback_ext.contract.redaction import (
    REDACTED,
    Secret,
    present,
    redact_all,
    redact_bytes_all,
    replace_spellings,
)
from pingback_ext.errors import ConfigurationError

API_KEY_HEADER = "x-api-key"
CREATOR = "pingback contract"


@dataclass
class Exchange:
    """One request and its response, as sent and received."""

    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: bytes | None
    status: int
    response_headers: list[tuple[str, str]]
    response_body: bytes
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    elapsed_ms: float = 0.0
    credential: str = "valid"
    operation: str | None = None
    generation: str | None = None
    #: Position in the cassette, 1-based; set when read back.
    number: int = 0

    def header(self, name: str, *, response: bool = True) -> str | None:
        headers = self.response_headers if response else self.request_headers
        return next((v for k, v in headers if k.lower() == name.lower()), None)

    def describe(self) -> str:
        """How a replay names this exchange: its position, request line and status."""
        return f"#{self.number} {self.method} {self.url} -> {self.status}"


def classify_credential(sent: str | None, key: str, *others: str) -> str:
    """ "valid" for a key the target accepts (the run's, or the near-miss check's second key),
    "missing" or "wrong" otherwise: what a replay expects of the answer."""
    if sent is None:
        return "missing"
    return "valid" if sent in (key, *others) else "wrong"


class Recorder:
    """Collects exchanges from every thread of a run, labelled with what the suite was doing
    when it sent them (`labelled`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self.exchanges: list[Exchange] = []

    def add(self, exchange: Exchange) -> None:
        labels: dict[str, str | None] = getattr(self._local, "labels", {})
        exchange.operation = exchange.operation or labels.get("operation")
        exchange.generation = exchange.generation or labels.get("generation")
        with self._lock:
            self.exchanges.append(exchange)

    @contextmanager
    def labelled(self, operation: str | None, generation: str | None = None) -> Iterator[None]:
        """Exchanges sent by this thread inside the block carry these labels."""
        previous = getattr(self._local, "labels", {})
        self._local.labels = {"operation": operation, "generation": generation}
        try:
            yield
        finally:
            self._local.labels = previous

    def since(self, mark: int) -> list[Exchange]:
        """Exchanges recorded after `mark` (a former `len(recorder)`)."""
        with self._lock:
            return self.exchanges[mark:]

    def __len__(self) -> int:
        return len(self.exchanges)


def _text(data: bytes | None, secrets: tuple[Secret, ...]) -> dict[str, str]:
    """A body as HAR stores it: text when it is UTF-8, else base64. The key is cut from the
    bytes first, in every codec a reader might decode them with: base64 hides it from any
    later search of the text, and a UTF-8 body can still spell it in UTF-16."""
    if data is None:
        return {}
    data = redact_bytes_all(secrets, data)
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"text": base64.b64encode(data).decode("ascii"), "encoding": "base64"}


def _strings(value: Any) -> Iterator[str]:
    """Every string of a decoded JSON document (keys included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _redact_strings(value: Any, secrets: tuple[Secret, ...]) -> Any:
    """Every string of a HAR structure redacted where it stands (a line replaced inside a
    string keeps the document valid JSON); one decoding pass per string finds which need it."""
    if isinstance(value, str):
        found = present(secrets, value)
        return redact_all(found, value) if found else value
    if isinstance(value, dict):
        return {k: _redact_strings(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_strings(v, secrets) for v in value]
    return value


def _holds_a_key(text: str, secrets: tuple[Secret, ...]) -> bool:
    """Does the cassette, decoded the ways the file itself encodes (JSON, then base64 for
    bodies that are not UTF-8), still hold a key in any encoding?"""
    if any(s._matches(text) for s in secrets):
        return True
    document = json.loads(text)
    if any(present(secrets, string) for string in _strings(document)):
        return True
    for entry in document["log"]["entries"]:
        for content in (entry["request"].get("postData"), entry["response"].get("content")):
            binary = content and content.get("encoding") == "base64"
            if binary and present(secrets, _body(content) or b""):
                return True
    return False


def _headers(headers: list[tuple[str, str]]) -> list[dict[str, str]]:
    out = []
    for name, value in headers:
        if name.lower() == API_KEY_HEADER:
            value = REDACTED
        out.append({"name": name, "value": value})
    return out


def to_har(
    exchanges: list[Exchange], base_url: str, secrets: tuple[Secret, ...], *, stateful: bool
) -> str:
    """The cassette's text; every string and every body in it has been through redaction,
    and the result is checked once more as a reader would decode it."""
    entries = []
    for exchange in exchanges:
        mime = exchange.header("content-type") or ""
        request: dict[str, Any] = {
            "method": exchange.method,
            "url": exchange.url,
            "httpVersion": "HTTP/1.1",
            "headers": _headers(exchange.request_headers),
            "queryString": [],
            "cookies": [],
            "headersSize": -1,
            "bodySize": len(exchange.request_body or b""),
        }
        if exchange.request_body is not None:
            request["postData"] = {
                "mimeType": exchange.header("content-type", response=False) or "",
                **_text(exchange.request_body, secrets),
            }
        entries.append(
            {
                "startedDateTime": exchange.started,
                "time": round(exchange.elapsed_ms, 3),
                "request": request,
                "response": {
                    "status": exchange.status,
                    "statusText": "",
                    "httpVersion": "HTTP/1.1",
                    "headers": _headers(exchange.response_headers),
                    "cookies": [],
                    "content": {
                        "size": len(exchange.response_body),
                        "mimeType": mime,
                        **_text(exchange.response_body, secrets),
                    },
                    "redirectURL": exchange.header("location") or "",
                    "headersSize": -1,
                    "bodySize": len(exchange.response_body),
                },
                "cache": {},
                "timings": {"send": 0, "wait": round(exchange.elapsed_ms, 3), "receive": 0},
                "_credential": exchange.credential,
                "_operation": exchange.operation,
                "_generation": exchange.generation,
            }
        )
    har = {
        "log": {
            "version": "1.2",
            "creator": {"name": CREATOR, "version": "1"},
            "_baseUrl": base_url,
            "_stateful": stateful,
            "entries": entries,
        }
    }
    text = replace_spellings(
        secrets, json.dumps(_redact_strings(har, secrets), indent=1, ensure_ascii=False)
    )
    if _holds_a_key(text, secrets):  # a bug in redaction: never write such a file
        raise ConfigurationError("refusing to write a cassette that would hold the API key")
    return text


def write_har(
    path: Path,
    exchanges: list[Exchange],
    base_url: str,
    secrets: tuple[Secret, ...],
    *,
    stateful: bool,
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = to_har(exchanges, base_url, secrets, stateful=stateful)
    path.write_text(text + "\n", encoding="utf-8")


@dataclass
class Cassette:
    """A cassette read back: where it was recorded, whether stateful checks applied there."""

    base_url: str
    stateful: bool
    exchanges: list[Exchange]


def _body(content: dict[str, Any] | None) -> bytes | None:
    if not content or "text" not in content:
        return None
    text = content["text"]
    if content.get("encoding") == "base64":
        return base64.b64decode(text)
    return str(text).encode("utf-8")


def read_har(path: Path) -> Cassette:
    """A cassette's exchanges; ConfigurationError when the file is not one."""
    try:
        log = json.loads(path.read_text(encoding="utf-8"))["log"]
        base_url = str(log.get("_baseUrl") or "")
        stateful = log.get("_stateful") is True
        exchanges = []
        for number, entry in enumerate(log["entries"], 1):
            request, response = entry["request"], entry["response"]
            exchanges.append(
                Exchange(
                    method=str(request["method"]).upper(),
                    url=str(request["url"]),
                    request_headers=[(h["name"], h["value"]) for h in request.get("headers", [])],
                    request_body=_body(request.get("postData")),
                    status=int(response["status"]),
                    response_headers=[(h["name"], h["value"]) for h in response.get("headers", [])],
                    response_body=_body(response.get("content")) or b"",
                    started=str(entry.get("startedDateTime", "")),
                    elapsed_ms=float(entry.get("time") or 0),
                    credential=str(entry.get("_credential") or "valid"),
                    operation=entry.get("_operation"),
                    generation=entry.get("_generation"),
                    number=number,
                )
            )
    except OSError as exc:
        raise ConfigurationError(f"cannot read the cassette {path}: {exc.strerror}") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigurationError(
            f"{path} is not a HAR cassette written by pingback contract ({type(exc).__name__})"
        ) from None
    return Cassette(base_url, stateful, exchanges)
