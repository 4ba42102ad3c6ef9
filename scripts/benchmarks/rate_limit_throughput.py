#!/usr/bin/env python3
"""Client-side pacing at Pingback's limit: achieved throughput as a ratio of it, and 429s seen.

Starts `pingback mock` (5 requests/s, burst 2, like the real API) on a free 127.0.0.1 port in
a subprocess, then runs N creates with the default client pacing in each mode: one sequential
client; 4 threads sharing the key; the async bulk upsert (2 in flight). The theoretical ceiling
for N requests from a full bucket is (N - burst) / rate seconds; the ratio is ceiling / elapsed
(goal >= 0.95), and the server must answer no 429 at all, with the machine loaded: `--load`
busy-looping processes (default: one per core) run during every measurement, because jitter,
not the average, is what trips a burst of 2. `--rounds` repeats every mode. Everything it
starts, it stops.

Usage: .venv/bin/python scripts/benchmarks/rate_limit_throughput.py [--requests 40]
       [--modes sequential,threads,async-bulk] [--load N] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable

import httpx

from pingback_ext import AsyncPingback, Pingback

RATE, BURST, GOAL = 5.0, 2, 0.95


def _spin() -> None:
    while True:
        pass


class Load:
    """`n` processes that keep a core busy each, for as long as the block runs."""

    def __init__(self, n: int) -> None:
        import multiprocessing

        self.procs = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(n)]

    def __enter__(self) -> Load:
        for proc in self.procs:
            proc.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.join(5)


class Mock:
    """`pingback mock` in its own process group (its own GIL, like a remote server)."""

    def __init__(self) -> None:
        self.api_key = f"bench-{uuid.uuid4().hex}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pingback_ext.cli.mock", "--port", "0",
             "--api-key", self.api_key, "--rate-limit", str(RATE), "--burst", str(BURST)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            found = re.search(r"listening on (http://\S+/v1)", line)
            if found:
                self.base_url = found.group(1)
                break
        else:
            raise RuntimeError(f"pingback mock did not start: {self.proc.stderr.read()}")  # type: ignore[union-attr]

    def statuses(self) -> dict[str, int]:
        body = httpx.get(
            self.base_url.removesuffix("/v1") + "/_mock/stats", headers={"x-api-key": self.api_key}
        ).json()
        return {status: int(n) for status, n in body["data"]["byStatus"].items()}

    def reset(self) -> None:
        httpx.post(
            self.base_url.removesuffix("/v1") + "/_mock/reset", headers={"x-api-key": self.api_key}
        )
        time.sleep(1.0)  # let any client-side burst memory drain too

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def sequential(mock: Mock, n: int, tag: str) -> None:
    with Pingback(api_key=mock.api_key, base_url=mock.base_url, max_retries=0) as pb:
        for i in range(n):
            pb.subscribers.create(f"seq{tag}-{i}@example.com")


def threads(mock: Mock, n: int, tag: str) -> None:
    def worker(t: int) -> None:
        with Pingback(api_key=mock.api_key, base_url=mock.base_url, max_retries=0) as pb:
            for i in range(n // 4):
                pb.subscribers.create(f"thread{tag}-{t}-{i}@example.com")

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


def async_bulk(mock: Mock, n: int, tag: str) -> None:
    async def run() -> None:
        async with AsyncPingback(api_key=mock.api_key, base_url=mock.base_url) as pb:
            records = [{"email": f"bulk{tag}-{i}@example.com"} for i in range(n)]
            report = await pb.subscribers.bulk_upsert(records, max_retries=0)
            if report.created != n:  # the 429s are counted from the server's side
                print(f"  (bulk upsert: {report})")

    asyncio.run(run())


MODES: dict[str, Callable[[Mock, int, str], None]] = {
    "sequential": sequential,
    "threads": threads,
    "async-bulk": async_bulk,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument(
        "--load",
        type=int,
        default=os.cpu_count() or 2,
        help="busy-looping processes during the measurement (default: cores)",
    )
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if args.requests <= BURST or args.requests % 4:
        parser.error("--requests must be a multiple of 4 greater than the burst")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        parser.error(f"unknown mode(s): {', '.join(unknown)}; choose from {', '.join(MODES)}")

    ceiling = (args.requests - BURST) / RATE
    mock = Mock()
    worst = float("inf")
    total_429 = 0
    try:
        print(f"limit {RATE:g}/s burst {BURST}; {args.requests} requests; "
              f"ceiling {ceiling:.2f} s; goal ratio >= {GOAL}; load: {args.load} busy "
              f"process(es) on {os.cpu_count()} core(s)")  # fmt: skip
        for round_ in range(args.rounds):
            for name in modes:
                mock.reset()
                with Load(args.load):
                    started = time.monotonic()
                    MODES[name](mock, args.requests, f"r{round_}")
                    elapsed = time.monotonic() - started
                statuses = mock.statuses()
                seen_429 = statuses.get("429", 0)
                ratio = ceiling / elapsed
                worst, total_429 = min(worst, ratio), total_429 + seen_429
                print(f"  {name:<11} {elapsed:6.3f} s  throughput ratio {ratio:.3f}  "
                      f"429s {seen_429}  statuses {statuses}")  # fmt: skip
    finally:
        mock.stop()
    ok = worst >= GOAL and total_429 == 0
    print(f"worst ratio {worst:.3f} (goal >= {GOAL}); 429s seen {total_429} (goal 0): "
          + ("OK" if ok else "BELOW GOAL"))  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
