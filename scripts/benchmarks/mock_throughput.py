#!/usr/bin/env python3
"""GET throughput of the mock on loopback, side by side with Prism's mock when available.

Starts `pingback mock` (rate limit off) on a free 127.0.0.1 port in a subprocess, seeds
one subscriber, and loads `GET /v1/subscriber/{email}` with `wrk` (or a bounded Python
asyncio/httpx loop when wrk is absent). If Node and `@stoplight/prism-cli` are available
(`npm install --prefix /tmp/prism @stoplight/prism-cli`), runs `prism mock -v silent` on
the upstream spec under the same load. Everything it starts, it stops.

Usage: .venv/bin/python scripts/benchmarks/mock_throughput.py [--duration 10] [--connections 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "pingback.yaml"
API_KEY = "bench-key"
EMAIL = "bench@example.com"
PRISM_CANDIDATES = (
    Path(os.environ.get("PRISM_BIN", "/nonexistent")),
    Path("/tmp/prism/node_modules/.bin/prism"),
    ROOT / "node_modules" / ".bin" / "prism",
)


def free_port() -> int:
    """A currently free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, headers: dict[str, str], timeout: float = 30.0) -> None:
    """Poll until the server answers anything at all."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, headers=headers, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not come up within {timeout:.0f}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process group we started: SIGTERM, then SIGKILL."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def load_wrk(url: str, duration: int, connections: int, threads: int) -> float:
    """Requests/s reported by wrk."""
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "-H",
            f"x-api-key: {API_KEY}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 30,
    ).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        print(f"  warning: {non2xx.group(1)} non-2xx responses", file=sys.stderr)
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not found:
        raise RuntimeError(f"could not parse wrk output:\n{out}")
    return float(found.group(1))


def load_python(url: str, duration: int, connections: int) -> float:
    """Requests/s from a bounded asyncio/httpx loop (slower than wrk; a floor, not a peak)."""

    async def run() -> float:
        done = 0
        deadline = time.monotonic() + duration
        limits = httpx.Limits(max_connections=connections)
        async with httpx.AsyncClient(headers={"x-api-key": API_KEY}, limits=limits) as client:

            async def worker() -> None:
                nonlocal done
                while time.monotonic() < deadline:
                    response = await client.get(url)
                    if response.status_code == 200:
                        done += 1

            start = time.monotonic()
            await asyncio.gather(*(worker() for _ in range(connections)))
            return done / (time.monotonic() - start)

    return asyncio.run(run())


def measure(url: str, args: argparse.Namespace) -> float:
    if shutil.which("wrk"):
        return load_wrk(url, args.duration, args.connections, args.threads)
    return load_python(url, args.duration, args.connections)


def bench_mock(args: argparse.Namespace) -> float:
    port = free_port()
    cmd = [sys.executable, "-m", "pingback_ext.cli.mock", "--port", str(port)]
    cmd += ["--api-key", API_KEY, "--rate-limit", "0", "--log-level", "error"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}/v1"
        wait_http(f"{base}/subscriber/x", {"x-api-key": API_KEY})
        created = httpx.post(
            f"{base}/subscriber",
            json={"email": EMAIL, "name": "Bench"},
            headers={"x-api-key": API_KEY},
        )
        created.raise_for_status()
        url = f"{base}/subscriber/{EMAIL}"
        assert httpx.get(url, headers={"x-api-key": API_KEY}).status_code == 200
        return measure(url, args)
    finally:
        stop(proc)


def find_prism() -> list[str] | None:
    for candidate in PRISM_CANDIDATES:
        if candidate.is_file():
            return [str(candidate)]
    return None


def bench_prism(args: argparse.Namespace) -> float | None:
    prism = find_prism()
    if prism is None:
        print(
            "prism: skipped (not found; `npm install --prefix /tmp/prism @stoplight/prism-cli`"
            " or set PRISM_BIN)"
        )
        return None
    port = free_port()
    cmd = [*prism, "mock", "-p", str(port), "-h", "127.0.0.1", "--errors=false", "-v", "silent"]
    proc = subprocess.Popen(
        [*cmd, str(SPEC)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # Prism serves the spec's paths without the server URL's `/v1` prefix.
        url = f"http://127.0.0.1:{port}/subscriber/{EMAIL}"
        wait_http(url, {"x-api-key": API_KEY}, timeout=60)
        return measure(url, args)
    finally:
        stop(proc)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per server")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--no-prism", action="store_true", help="measure the mock only")
    args = parser.parse_args()
    tool = "wrk" if shutil.which("wrk") else "python httpx loop (install wrk for real figures)"
    print(f"load: {tool}, {args.connections} connections, {args.duration}s per server")
    mock_rps = bench_mock(args)
    print(f"mock GET: {mock_rps:,.0f} req/s")
    prism_rps = None if args.no_prism else bench_prism(args)
    if prism_rps:
        ratio = mock_rps / prism_rps
        print(
            f"mock GET: {mock_rps:,.0f} req/s; prism -v silent: {prism_rps:,.0f} req/s;"
            f" ratio {ratio:.1f}x (goal >= 2x)"
        )
    else:
        print(f"mock GET: {mock_rps:,.0f} req/s; prism: not measured")
    return 0


if __name__ == "__main__":
    sys.exit(main())
