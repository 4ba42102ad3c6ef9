#!/usr/bin/env python3
"""The rate limit at any round trip: bulk throughput through a delay proxy, as a ratio of 5/s.

Loopback answers in a millisecond; a real Pingback is 100-800 ms away, and one request at a time
then reaches only 1/RTT. This starts `pingback mock` at Pingback's real limit (5 requests/s,
burst 2) in its own process and, for each delay, a delay proxy in front of it (asyncio, on
127.0.0.1, its own process): every byte waits half the delay each way, so each exchange costs
the delay, and a new connection costs one more (its handshake). Through it, each mode syncs
`--rows` new subscribers (one create each):

  import      `pingback import FILE.csv` as its own process (default pacing and state)
  sync-bulk   `Pingback.subscribers.bulk_upsert(records)`
  async-bulk  `AsyncPingback.subscribers.bulk_upsert(records)`

The proxy notes when each request reaches the mock (h11 parses what it forwards). From a full
bucket, N requests need (N - burst) / rate seconds between the first arrival and the last; the
ratio is that over the time measured (1.0: the limit reached). Goals: >= 0.95 at every delay up
to 300 ms with no 429; above that, >= 0.95 of what the in-flight cap allows (cap / delay
requests/s, if less than the limit). 429s are counted by the mock. Everything it starts, it stops.

A bulk run starts with its first record alone and one pacer slot unused after it (see
pingback_ext.bulk._warm_up): about one round trip and 0.2 s once per run, which a long import
never notices but which weighs 0.03-0.08 on 40 rows; the default is 100 rows (`--rows 40`
shows the start).

Usage: .venv/bin/python scripts/benchmarks/latency.py [--delays 0,100,300,800] [--rows 100]
       [--modes import,sync-bulk,async-bulk] [--max-in-flight N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rate_limit_throughput import BURST, GOAL, RATE, Mock

from pingback_ext import AsyncPingback, Pingback, bulk

PINGBACK = str(Path(sys.executable).with_name("pingback"))
#: Up to this delay the limit itself must be reached; beyond, what the in-flight cap allows.
FULL_RATE_UP_TO_MS = 300


# ----------------------------------------------------------------------------- the delay proxy


async def _pump(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    delay: float,
    not_before: float,
    on_forward: Callable[[bytes], None] | None,
) -> None:
    """Copy one direction, each chunk held `delay` seconds (and none before `not_before`)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        while True:
            data = await reader.read(65536)
            await queue.put((max(loop.time() + delay, not_before), data))
            if not data:
                return

    async def write() -> None:
        while True:
            due, data = await queue.get()
            await asyncio.sleep(max(0.0, due - loop.time()))
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            if on_forward is not None:
                on_forward(data)
            writer.write(data)
            await writer.drain()

    reading = asyncio.create_task(read())
    try:
        await write()
    finally:
        reading.cancel()


class _RequestClock:
    """Prints the time each HTTP request's head reaches the server (h11 parses the bytes)."""

    def __init__(self) -> None:
        import h11

        self._h11 = h11
        self._conn = h11.Connection(our_role=h11.SERVER)

    def feed(self, data: bytes) -> None:
        h11 = self._h11
        self._conn.receive_data(data)
        while True:
            try:
                event = self._conn.next_event()
            except h11.RemoteProtocolError:
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                if event is h11.PAUSED:  # one request done: parse the next on a fresh state
                    left, _ = self._conn.trailing_data
                    self._conn = h11.Connection(our_role=h11.SERVER)
                    self._conn.receive_data(bytes(left))
                    continue
                return
            if isinstance(event, h11.Request):
                print(f"request {time.monotonic():.6f}", flush=True)
            elif isinstance(event, h11.ConnectionClosed):
                return


async def serve_proxy(target_port: int, delay: float) -> None:
    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        handshake_done = loop.time() + delay  # a new connection costs one round trip first
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            client_w.close()
            return
        clock = _RequestClock()
        half = delay / 2
        try:
            await asyncio.gather(
                _pump(client_r, server_w, half, handshake_done + half, clock.feed),
                _pump(server_r, client_w, half, 0.0, None),
            )
        except (ConnectionError, OSError):
            pass
        finally:
            for writer in (server_w, client_w):
                writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on {port}", flush=True)
    async with server:
        await server.serve_forever()


class Proxy:
    """The delay proxy in its own process; `arrivals` are the mock's request arrival times."""

    def __init__(self, target_port: int, delay: float) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-proxy", str(target_port), str(delay)],
            stdout=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        found = re.match(r"listening on (\d+)", first)
        if not found:
            raise RuntimeError(f"the delay proxy did not start: {first!r}")
        self.port = int(found.group(1))
        self.arrivals: list[float] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("request "):
                self.arrivals.append(float(line.split()[1]))

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)


# ----------------------------------------------------------------------------- the modes


def emails(tag: str, rows: int) -> list[str]:
    return [f"lat-{tag}-{i}@example.com" for i in range(rows)]


def run_import(key: str, base_url: str, tag: str, rows: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "export.csv"
        source.write_text("email,name\n" + "".join(f"{e},N\n" for e in emails(tag, rows)))
        env = {**os.environ, "PINGBACK_API_KEY": key, "PINGBACK_BASE_URL": base_url,
               "XDG_STATE_HOME": folder}  # fmt: skip
        for name in ("PINGBACK_DEVELOPER_MODE", "PINGBACK_RATE_LIMIT"):
            env.pop(name, None)
        done = subprocess.run([PINGBACK, "--json", "import", str(source)], env=env,
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        if done.returncode != 0:
            print(f"  (import failed: {done.stderr.strip()[-500:]})")


#: `--max-in-flight` for the bulk modes (None: the default).
MAX_IN_FLIGHT: int | None = None


def run_sync(key: str, base_url: str, tag: str, rows: int) -> None:
    records = ({"email": e} for e in emails(tag, rows))
    with Pingback(api_key=key, base_url=base_url) as pb:
        if MAX_IN_FLIGHT is None:
            report = pb.subscribers.bulk_upsert(records)
        else:
            report = pb.subscribers.bulk_upsert(records, max_in_flight=MAX_IN_FLIGHT)
    if report.created != rows:
        print(f"  (sync bulk upsert: {report})")


def run_async(key: str, base_url: str, tag: str, rows: int) -> None:
    async def run() -> None:
        records = ({"email": e} for e in emails(tag, rows))
        async with AsyncPingback(api_key=key, base_url=base_url) as pb:
            if MAX_IN_FLIGHT is None:
                report = await pb.subscribers.bulk_upsert(records)
            else:
                report = await pb.subscribers.bulk_upsert(records, max_in_flight=MAX_IN_FLIGHT)
        if report.created != rows:
            print(f"  (async bulk upsert: {report})")

    asyncio.run(run())


MODES: dict[str, Callable[[str, str, str, int], None]] = {
    "import": run_import,
    "sync-bulk": run_sync,
    "async-bulk": run_async,
}


def in_flight_cap(mode: str) -> int:
    """How many requests the mode may keep in flight (what the code under test says)."""
    if MAX_IN_FLIGHT is not None and mode != "import":
        return MAX_IN_FLIGHT
    cap = getattr(bulk, "DEFAULT_MAX_IN_FLIGHT", None)
    if isinstance(cap, int):
        return cap
    return 2 if mode == "async-bulk" else 1  # before the in-flight setting existed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delays", default="0,100,300,800", help="milliseconds per exchange")
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument(
        "--max-in-flight", type=int, help="bulk_upsert's max_in_flight (default: its default)"
    )
    args = parser.parse_args()
    global MAX_IN_FLIGHT
    MAX_IN_FLIGHT = args.max_in_flight
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        parser.error(f"unknown mode(s): {', '.join(unknown)}; choose from {', '.join(MODES)}")
    if args.rows <= BURST:
        parser.error("--rows must be greater than the burst")
    delays = [int(d) for d in args.delays.split(",") if d.strip()]

    ceiling = (args.rows - BURST) / RATE
    mock = Mock()
    port = int(mock.base_url.rsplit(":", 1)[1].split("/")[0])
    failed = False
    print(f"limit {RATE:g}/s burst {BURST}; {args.rows} new rows per mode (one create each); "
          f"ceiling {ceiling:.2f} s from first to last arrival; goal ratio >= {GOAL}")  # fmt: skip
    print(f"  {'delay':>6}  {'mode':<11}{'cap':>4}{'seconds':>9}{'ratio':>7}{'of cap':>8}"
          f"{'429s':>6}  verdict")  # fmt: skip
    try:
        for delay_ms in delays:
            proxy = Proxy(port, delay_ms / 1000)
            base_url = f"http://127.0.0.1:{proxy.port}/v1"
            try:
                for mode in modes:
                    mock.reset()
                    proxy.arrivals.clear()
                    started = time.monotonic()
                    MODES[mode](mock.api_key, base_url, f"{delay_ms}-{mode}", args.rows)
                    wall = time.monotonic() - started
                    time.sleep(0.2)  # the proxy's last lines
                    arrivals = sorted(proxy.arrivals)
                    seen_429 = mock.statuses().get("429", 0)
                    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else float("inf")
                    requests = len(arrivals)
                    ratio = ((requests - BURST) / RATE) / span
                    cap = in_flight_cap(mode)
                    allowed = RATE if delay_ms == 0 else min(RATE, cap / (delay_ms / 1000))
                    of_cap = ratio * RATE / allowed
                    if delay_ms <= FULL_RATE_UP_TO_MS:
                        ok = ratio >= GOAL and seen_429 == 0
                    else:
                        ok = of_cap >= GOAL and seen_429 == 0
                    failed |= not ok
                    print(f"  {delay_ms:>4}ms  {mode:<11}{cap:>4}{wall:>9.2f}{ratio:>7.3f}"
                          f"{of_cap:>8.3f}{seen_429:>6}  {'ok' if ok else 'BELOW GOAL'}"
                          f"  ({requests} requests)")  # fmt: skip
            finally:
                proxy.stop()
    finally:
        mock.stop()
    print("OK" if not failed else "BELOW GOAL")
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve-proxy"]:
        asyncio.run(serve_proxy(int(sys.argv[2]), float(sys.argv[3])))
    else:
        sys.exit(main())
