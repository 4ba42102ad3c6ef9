"""httpx transports that lose what the server said after it acted (for retry tests).

`LoseAnswers(inner, ...)` / `AsyncLoseAnswers(inner, ...)` forward each request to `inner` (any
transport: the mock's in-process app, a real connection), read the whole answer, and then, for
the first `times` requests that `match`, throw it away and raise `error` instead: the server
did the work, the client never hears of it (a read timeout, a reset, a proxy hanging up).

    app = create_app(api_keys=["k"], rate_limit=0)
    http = httpx.Client(transport=LoseAnswers(SyncASGITransport(app), match=on("DELETE")))
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

Matcher = Callable[[httpx.Request], bool]
#: What a lost answer looks like to the client (both were sent, both are retried when allowed).
LOSSES: tuple[type[httpx.TransportError], ...] = (httpx.ReadTimeout, httpx.RemoteProtocolError)


def on(method: str, path_part: str = "") -> Matcher:
    """Requests with this method whose path contains `path_part`."""
    return lambda r: r.method == method and path_part in r.url.path


class _Losses:
    def __init__(self, match: Matcher, times: int, error: type[httpx.TransportError]) -> None:
        self.match = match
        self.left = times
        self.error = error
        self.forwarded: list[tuple[str, str, int]] = []  # (method, path, status) that reached it

    def after(self, request: httpx.Request, response: httpx.Response) -> httpx.Response:
        self.forwarded.append((request.method, request.url.path, response.status_code))
        if self.left > 0 and self.match(request):
            self.left -= 1
            raise self.error(
                "injected: the answer was lost after the server acted", request=request
            )
        return response


class LoseAnswers(httpx.BaseTransport):
    def __init__(
        self,
        inner: httpx.BaseTransport,
        *,
        match: Matcher = lambda r: True,
        times: int = 1,
        error: type[httpx.TransportError] = httpx.ReadTimeout,
    ) -> None:
        self.inner = inner
        self.losses = _Losses(match, times, error)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        return self.losses.after(request, response)

    def close(self) -> None:
        self.inner.close()


class AsyncLoseAnswers(httpx.AsyncBaseTransport):
    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        match: Matcher = lambda r: True,
        times: int = 1,
        error: type[httpx.TransportError] = httpx.ReadTimeout,
    ) -> None:
        self.inner = inner
        self.losses = _Losses(match, times, error)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        return self.losses.after(request, response)

    async def aclose(self) -> None:
        await self.inner.aclose()
