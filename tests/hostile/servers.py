"""Raw-socket HTTP/1.1 servers on loopback that answer exactly as scripted.

A server answers its N-th request with the N-th item of its script (the last item repeats), and
records every request it read. Items:

- `Reply(status, headers, body)`: a whole answer, sent as given (no header is added).
  `Reply.json(...)`, `Reply.html(...)`, `Reply.redirect(...)`, `Reply.rate_limited(...)` build
  common ones.
- `Drip(reply, interval)`: the reply's head, then its body one byte every `interval` seconds.
- `Reset(reply, after)`: the reply's head and the first `after` bytes of its body, then a
  TCP reset (SO_LINGER 0), never the rest.
- `Hang()`: read the request, answer nothing until the server stops.
- `Echo(build)`: a reply built from the request it answers; `echo_key(how)` echoes the API key
  it received in one of `KEY_ECHOES` (raw JSON, a non-UTF-8 body, base64, hex, UTF-16, a
  header, percent-encoded), as a careless server or debug proxy does.

Servers bind 127.0.0.1 on an ephemeral port and stop (closing every connection, joining every
thread) when their `with` block ends.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import struct
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

from tests.hostile.text import ESCAPES

REASONS = {
    200: "OK", 201: "Created", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request", 403: "Forbidden",
    404: "Not Found", 409: "Conflict", 422: "Unprocessable Entity", 429: "Too Many Requests",
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
}  # fmt: skip
REQUEST_ID = "5e1f3a52-9a0b-4b8e-9d7e-2f1c0c0ffee0"


@dataclass(frozen=True)
class Request:
    """One request as it reached the server (header names lower-cased)."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Reply:
    """A whole answer, sent as given (Content-Length is added only if absent)."""

    status: int
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""

    @classmethod
    def json(cls, status: int, body: Any, *headers: tuple[str, str]) -> Reply:
        return cls(status, [("content-type", "application/json"), *headers],
                   json.dumps(body).encode())  # fmt: skip

    @classmethod
    def html(cls, status: int, text: str = "") -> Reply:
        page = text or (
            f"<html><head><title>{status} {REASONS.get(status, '')}</title></head>"
            f"<body><center><h1>{status} {REASONS.get(status, '')}</h1></center>"
            "<hr><center>nginx</center></body></html>"
        )
        return cls(status, [("content-type", "text/html; charset=utf-8")], page.encode())

    @classmethod
    def redirect(cls, status: int, location: str) -> Reply:
        return cls(status, [("location", location)], b"")

    @classmethod
    def rate_limited(cls, retry_after: str | None) -> Reply:
        headers = [("retry-after", retry_after)] if retry_after is not None else []
        body = {"error": "Too many requests.", "errorCode": "TOO_MANY_REQUESTS",
                "requestId": REQUEST_ID}  # fmt: skip
        return cls.json(429, body, *headers)

    def head(self) -> bytes:
        lines = [f"HTTP/1.1 {self.status} {REASONS.get(self.status, 'Status')}"]
        names = {name.lower() for name, _ in self.headers}
        lines += [f"{name}: {value}" for name, value in self.headers]
        if "content-length" not in names:
            lines.append(f"content-length: {len(self.body)}")
        if "connection" not in names:
            lines.append("connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")


@dataclass(frozen=True)
class Drip:
    """`reply`'s head at once, then its body one byte every `interval` seconds (with
    `head=True`, the status line and headers drip too)."""

    reply: Reply
    interval: float = 0.5
    head: bool = False


@dataclass(frozen=True)
class Reset:
    """`reply`'s head and `after` bytes of its body, then a TCP reset."""

    reply: Reply
    after: int = 10


@dataclass(frozen=True)
class Hang:
    """Read the request and never answer (until the server stops)."""


@dataclass(frozen=True)
class Echo:
    """A reply built from the request it answers."""

    build: Callable[[Request], Reply]


def _refusal(body: bytes, *headers: tuple[str, str]) -> Reply:
    return Reply(403, [("content-type", "application/json"), *headers], body)


def _json_refusal(detail: str) -> bytes:
    return json.dumps(
        {"error": f"Forbidden: {detail}", "errorCode": "FORBIDDEN", "requestId": REQUEST_ID}
    ).encode()


#: The ways a server can echo a key it received, each as a 403 refusal. The first two are
#: issue 21's (the key in a JSON body; in a body that is not UTF-8, which a cassette stores as
#: base64); the others are encodings a text search of a stored file does not see.
KEY_ECHOES: dict[str, Callable[[str], Reply]] = {
    "json": lambda key: _refusal(_json_refusal(f"unknown key {key}")),
    "non_utf8_body": lambda key: _refusal(b"\xff\xfeunknown key " + key.encode("latin-1")),
    "base64_in_json": lambda key: _refusal(
        _json_refusal("trace " + base64.b64encode(b"key=" + key.encode("latin-1")).decode())
    ),
    "hex_in_json": lambda key: _refusal(_json_refusal("trace " + key.encode("latin-1").hex())),
    "utf16_body": lambda key: _refusal(("unknown key " + key).encode("utf-16")),
    "header": lambda key: _refusal(_json_refusal("see header"), ("x-debug-key", key)),
    "percent_in_header": lambda key: _refusal(
        _json_refusal("see header"), ("x-debug", "key=" + quote(key, safe=""))
    ),
}


def echo_key(how: str, header: str = "x-api-key") -> Echo:
    """A 403 that echoes the `header` it received (the API key) the way `how` names."""
    return Echo(lambda request: KEY_ECHOES[how](request.headers.get(header, "")))


def echo_key_rotating(header: str = "x-api-key") -> Echo:
    """Each request gets the next way of `KEY_ECHOES`, in turn (every way, in one run)."""
    ways = list(KEY_ECHOES)
    count = [0]
    lock = threading.Lock()

    def build(request: Request) -> Reply:
        with lock:
            how = ways[count[0] % len(ways)]
            count[0] += 1
        return KEY_ECHOES[how](request.headers.get(header, ""))

    return Echo(build)


Step = Reply | Drip | Reset | Hang | Echo


def subscriber_data(email: str = "ana@example.com", **fields: Any) -> dict[str, Any]:
    """A spec-valid subscriber object (the `data` of a subscriber answer)."""
    return {
        "id": "sub-1", "email": email, "name": "Ana", "phone": "+5511999999999",
        "status": "free_subscriber", "customFields": [], "segmentationLists": [],
        "createdAt": "2026-11-26T04:43:44.123Z", "updatedAt": "2026-11-26T04:43:44.123Z",
        **fields,
    }  # fmt: skip


def subscriber_reply(email: str = "ana@example.com", status: int = 200, **fields: Any) -> Reply:
    """A spec-valid subscriber answer."""
    return Reply.json(status, {"data": subscriber_data(email, **fields), "requestId": REQUEST_ID})


def terminal_hostile_error(status: int = 404) -> Reply:
    """An error answer whose every text field holds terminal controls (OSC title, screen clear,
    C1 CSI, bidi override, BEL): what a CLI must show literally, on stderr and in JSON."""
    return Reply.json(status, {
        "error": "no " + "".join(ESCAPES) + " \u202eevil",
        "errorCode": "CODE\x1b[2J\u202e",
        "requestId": "r\x07id\x9b31m",
    })  # fmt: skip


def _read_request(conn: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Request(method, target, headers, rest[:length])


class HostileServer:
    """A scripted HTTP/1.1 server on 127.0.0.1 (see the module docstring)."""

    def __init__(self, *script: Step) -> None:
        if not script:
            raise ValueError("a HostileServer needs at least one step")
        self.script = list(script)
        self.requests: list[Request] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._conns: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)
        self._started = False

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """Where a client's base_url should point (the API's /v1 prefix)."""
        return f"{self.origin}/v1"

    def url(self, path: str = "/") -> str:
        return self.origin + path

    def start(self) -> Self:
        if not self._started:
            self._started = True
            self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):  # wakes accept() at once on Linux (else: its 0.1 s poll)
            self._listener.shutdown(socket.SHUT_RDWR)
        if self._started:
            self._acceptor.join(5)
        self._listener.close()
        with self._lock:
            conns, threads = list(self._conns), list(self._threads)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        for thread in threads:
            thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(0.2)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:
                self._conns.append(conn)
                self._threads.append(thread)
            thread.start()

    def _next_step(self, request: Request) -> Step:
        with self._lock:
            index = len(self.requests)
            self.requests.append(request)
        return self.script[min(index, len(self.script) - 1)]

    def _serve(self, conn: socket.socket) -> None:
        try:
            request = self._read(conn)
            if request is None:
                return
            self._answer(conn, self._next_step(request), request)
        except OSError:
            pass
        finally:
            conn.close()

    def _read(self, conn: socket.socket) -> Request | None:
        while not self._stop.is_set():
            try:
                return _read_request(conn)
            except TimeoutError:
                continue
        return None

    def _answer(self, conn: socket.socket, step: Step, request: Request) -> None:
        if isinstance(step, Echo):
            reply = step.build(request)
            conn.sendall(reply.head() + reply.body)
        elif isinstance(step, Hang):
            self._stop.wait()
        elif isinstance(step, Reply):
            conn.sendall(step.head() + step.body)
        elif isinstance(step, Drip):
            dripped = step.reply.head() + step.reply.body if step.head else step.reply.body
            if not step.head:
                conn.sendall(step.reply.head())
            for byte in dripped:
                if self._stop.wait(step.interval):
                    return
                conn.sendall(bytes([byte]))
        else:
            conn.sendall(step.reply.head() + step.reply.body[: step.after])
            # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
