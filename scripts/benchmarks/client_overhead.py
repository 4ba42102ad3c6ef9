"""Per-call cost of pingback_ext against the bare generated call and raw httpx.

All three send GET /subscriber/{email} through the same in-process httpx.MockTransport that
returns a fixed, spec-valid body, so the figures are the clients' own overhead. They run
interleaved, several rounds, and the best round of each is compared (noise only adds time).
Goal: pingback_ext <= 1.15x the bare generated call.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx

from pingback_ext import Pingback
from pingback_ext._generated import AuthenticatedClient
from pingback_ext._generated.api.subscribers import get_subscriber

BASE_URL = "https://connect.pingback.com/v1"
BODY = json.dumps(
    {
        "data": {
            "id": "sub-1",
            "email": "ana@example.com",
            "name": "Ana",
            "phone": "+5511999999999",
            "status": "free_subscriber",
            "customFields": [{"id": "cf-1", "label": "age", "value": "25"}],
            "segmentationLists": ["list-1"],
            "createdAt": "2026-11-26T04:43:44.123Z",
            "updatedAt": "2026-11-26T04:43:44.123Z",
        },
        "requestId": "ff37b0a8-de19-4f72-a7ed-0bd1cb73f29f",
    }
).encode()
CALLS = 2000
ROUNDS = 7


def handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=BODY, headers={"content-type": "application/json"})


def per_call(fn: Callable[[], object]) -> float:
    for _ in range(50):
        fn()
    start = time.perf_counter()
    for _ in range(CALLS):
        fn()
    return (time.perf_counter() - start) / CALLS


def main() -> None:
    transport = httpx.MockTransport(handler)
    raw = httpx.Client(transport=transport, base_url=BASE_URL, timeout=30)
    generated = AuthenticatedClient(
        base_url=BASE_URL, token="key", prefix="", auth_header_name="x-api-key"
    )
    generated.set_httpx_client(
        httpx.Client(
            transport=transport, base_url=BASE_URL, headers={"x-api-key": "key"}, timeout=30
        )
    )
    ext = Pingback(
        api_key="key",
        http_client=httpx.Client(transport=transport),
        max_retries=0,
        rate_limit=None,  # pacing is measured in rate_limit_throughput; here it would only wait
    )

    candidates: dict[str, Callable[[], object]] = {
        "raw httpx (get + json)": lambda: raw.get("/subscriber/ana%40example.com").json(),
        "generated sync_detailed": lambda: get_subscriber.sync_detailed(
            "ana@example.com", client=generated
        ),
        "pingback_ext get": lambda: ext.subscribers.get("ana@example.com"),
    }
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(ROUNDS):
        for name, fn in candidates.items():
            best[name] = min(best[name], per_call(fn))
    base = best["generated sync_detailed"]
    for name, seconds in best.items():
        print(f"{name:28s} {seconds * 1e6:8.1f} us/call   {seconds / base:5.2f}x generated")
    ratio = best["pingback_ext get"] / base
    verdict = "meets" if ratio <= 1.15 else "misses"
    print(f"pingback_ext / generated: {ratio:.2f}x ({verdict} the goal of <= 1.15x)")


if __name__ == "__main__":
    main()
