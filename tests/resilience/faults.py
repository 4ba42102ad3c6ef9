"""An httpx transport that injects faults between a client and the real mock, on a seeded RNG.

Faults, per request: a connection refused before anything is sent; a reset after the server
handled the request (it landed, the answer is lost); a 500 or 502 from a "gateway" that never
forwarded it; a 500 after the server handled it; a 429 with Retry-After in seconds or as an
HTTP date. Every fault is counted so tests can check that each kind really happened.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections import Counter

import httpx

KINDS = ("refused", "reset_after", "gateway_500", "landed_500", "throttled", "throttled_date")


class FaultPlan:
    """Which fault (or none) each request meets: `rate` of requests fail, kinds chosen evenly."""

    def __init__(self, seed: int, rate: float, kinds: tuple[str, ...] = KINDS) -> None:
        self.rng = random.Random(seed)
        self.rate = rate
        self.kinds = kinds
        self.seen: Counter[str] = Counter()

    def next(self) -> str | None:
        if self.rng.random() >= self.rate:
            return None
        kind = self.rng.choice(self.kinds)
        self.seen[kind] += 1
        return kind


def _error(request: httpx.Request, status: int, code: str, **headers: str) -> httpx.Response:
    body = {"error": "injected fault", "errorCode": code, "requestId": "injected"}
    return httpx.Response(status, json=body, headers=headers, request=request)


def _before(kind: str | None, request: httpx.Request) -> httpx.Response | None:
    if kind == "refused":
        raise httpx.ConnectError("injected: connection refused", request=request)
    if kind == "gateway_500":
        return _error(request, 502, "BAD_GATEWAY")
    if kind == "throttled":
        return _error(request, 429, "TOO_MANY_REQUESTS", **{"retry-after": "0.02"})
    if kind == "throttled_date":
        when = email.utils.formatdate(time.time(), usegmt=True)  # "now": wait 0 s
        return _error(request, 429, "TOO_MANY_REQUESTS", **{"retry-after": when})
    return None


def _after(kind: str | None, request: httpx.Request, response: httpx.Response) -> httpx.Response:
    if kind == "reset_after":
        raise httpx.ReadError("injected: connection reset after sending", request=request)
    if kind == "landed_500":
        return _error(request, 500, "INTERNAL_SERVER_ERROR")
    return response


class FaultyTransport(httpx.BaseTransport):
    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        kind = self.plan.next()
        early = _before(kind, request)
        if early is not None:
            return early
        response = self.inner.handle_request(request)
        response.read()
        return _after(kind, request, response)

    def close(self) -> None:
        self.inner.close()


class AsyncFaultyTransport(httpx.AsyncBaseTransport):
    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self.inner = httpx.AsyncHTTPTransport()
        self.in_flight = 0
        self.most_in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            kind = self.plan.next()
            early = _before(kind, request)
            if early is not None:
                return early
            response = await self.inner.handle_async_request(request)
            await response.aread()
            return _after(kind, request, response)
        finally:
            self.in_flight -= 1

    async def aclose(self) -> None:
        await self.inner.aclose()
