"""Concurrent creates: every acknowledged write is readable, duplicates are 409, no 5xx."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import httpx

from pingback_ext.mock import create_app, serve_mock
from tests.mock.conftest import KEY

THREADS = 8
PER_THREAD = 100
SHARED = 10  # each thread also creates these same 10 emails


def _emails(worker: int) -> list[str]:
    unique = [f"w{worker}-{i}@example.com" for i in range(PER_THREAD - SHARED)]
    shared = [f"shared-{i}@example.com" for i in range(SHARED)]
    # Interleave so the shared ones race throughout the run.
    return [e for pair in zip(unique[::9], shared, strict=False) for e in pair] + [
        e for i, e in enumerate(unique) if i % 9
    ]


def _check(results: list[tuple[str, int]], readable: dict[str, int]) -> None:
    statuses = Counter(status for _, status in results)
    assert len(results) == THREADS * PER_THREAD
    assert statuses == {201: THREADS * (PER_THREAD - SHARED) + SHARED, 409: (THREADS - 1) * SHARED}
    created = {email for email, status in results if status == 201}
    assert len(created) == statuses[201]
    assert all(readable[email] == 200 for email in created)


def test_eight_threads_of_creates_over_loopback() -> None:
    with serve_mock(api_keys=(KEY,), rate_limit=0) as mock:
        barrier = threading.Barrier(THREADS)
        results: list[tuple[str, int]] = []
        lock = threading.Lock()

        def worker(n: int) -> None:
            with httpx.Client(base_url=mock.base_url, headers={"x-api-key": KEY}, timeout=30) as c:
                barrier.wait()
                for email in _emails(n):
                    status = c.post("/subscriber", json={"email": email}).status_code
                    with lock:
                        results.append((email, status))

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        with httpx.Client(base_url=mock.base_url, headers={"x-api-key": KEY}) as client:
            readable = {
                email: client.get(f"/subscriber/{email}").status_code
                for email, status in results
                if status == 201
            }
        _check(results, readable)
        assert not any(status >= 500 for status in mock.app.request_counts())


async def test_concurrent_creates_in_process() -> None:
    app = create_app(api_keys=(KEY,), rate_limit=0)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://mock/v1", headers={"x-api-key": KEY}
    ) as client:

        async def worker(n: int) -> list[tuple[str, int]]:
            out = []
            for email in _emails(n):
                out.append(
                    (email, (await client.post("/subscriber", json={"email": email})).status_code)
                )
                await asyncio.sleep(0)
            return out

        batches = await asyncio.gather(*(worker(n) for n in range(THREADS)))
        results = [item for batch in batches for item in batch]
        readable = {
            email: (await client.get(f"/subscriber/{email}")).status_code
            for email, status in results
            if status == 201
        }
    _check(results, readable)
    app.close()
