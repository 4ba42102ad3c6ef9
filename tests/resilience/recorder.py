"""A recording proxy in front of the mock: every /v1 request it passes on, with its email.

Requests are counted where the server sees them (not where the client thinks it sent them),
which is what the sync acceptance figures are about.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pingback_ext.mock import RunningMock, create_app
from pingback_ext.mock.server import base_url_for, bind_socket, uvicorn_server


@dataclass
class Seen:
    at: float  # time.monotonic() when the request arrived
    method: str
    path: str
    email: str | None = None
    status: int | None = None


class Recorder:
    """ASGI app that logs each /v1 request, then hands it to the mock unchanged."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.log: list[Seen] = []
        self._lock = threading.Lock()

    def count(self, method: str | None = None) -> int:
        with self._lock:
            return sum(1 for seen in self.log if method in (None, seen.method))

    def emails(self, since: int = 0) -> list[str | None]:
        with self._lock:
            return [seen.email for seen in self.log[since:]]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        seen = Seen(time.monotonic(), scope["method"], scope["path"])
        with self._lock:
            self.log.append(seen)
        body: list[bytes] = []

        async def tapped_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                body.append(message.get("body", b""))
            return message

        async def tapped_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                seen.status = message["status"]
            await send(message)

        if seen.method == "POST" and seen.path == "/v1/subscriber":
            # Read the whole body first, so the email is known even if the request then fails.
            messages = [await tapped_receive()]
            while messages[-1]["type"] == "http.request" and messages[-1].get("more_body"):
                messages.append(await tapped_receive())
            try:
                seen.email = json.loads(b"".join(body)).get("email")
            except (ValueError, AttributeError):
                seen.email = None

            async def replay() -> Any:
                return messages.pop(0) if messages else await receive()

            await self.app(scope, replay, tapped_send)
            return
        seen.email = scope["path"].rsplit("/", 1)[-1]
        await self.app(scope, tapped_receive, tapped_send)


@contextmanager
def serve_recorded_mock(**options: Any) -> Iterator[tuple[RunningMock, Recorder]]:
    """Like `serve_mock`, with a Recorder in front; yields (mock, recorder)."""
    app = create_app(**options)
    recorder = Recorder(app)
    sock = bind_socket("127.0.0.1", 0)
    server = uvicorn_server(recorder)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("recorded mock failed to start")
            thread.join(0.01)
        yield RunningMock(app, base_url_for(sock)), recorder
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
        app.close()
