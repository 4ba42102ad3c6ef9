"""Fixtures: a fake clock for pacers and retries, a mock over loopback, a real redis-server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pingback_ext import AsyncPingback, Pingback
from pingback_ext.mock import RunningMock, serve_mock

LISTS = ("list-a", "list-b")


class FakeClock:
    """Time that moves only when someone sleeps; records every sleep."""

    #: No test here needs more; time that only moves when slept would otherwise spin forever.
    MAX_SLEEPS = 10_000

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if len(self.sleeps) >= self.MAX_SLEEPS:  # a pacer that never admits: fail, do not spin
            raise AssertionError(f"still waiting after {self.MAX_SLEEPS} sleeps")
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The clients' retry waits recorded instead of slept (pacers still keep real time)."""
    slept: list[float] = []

    async def async_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(Pingback, "_sleep", staticmethod(slept.append))
    monkeypatch.setattr(AsyncPingback, "_sleep", staticmethod(async_sleep))
    return slept


@pytest.fixture
def open_mock() -> Iterator[RunningMock]:
    """A mock on loopback with rate limiting off (for faults and bulk logic, not pacing)."""
    with serve_mock(rate_limit=0, segmentation_lists=LISTS) as mock:
        yield mock


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """Linux: the server ends with the test process even when that is killed (a mutmut timeout)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the fixture's own teardown still stops it
        pass


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A redis-server of our own on 127.0.0.1 (a free port, a temp dir), stopped afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(
            "redis-server is not installed: scripts/install installs Debian's redis-server "
            "when run as root; the shared (Redis) limiter tests need it"
        )
    pytest.importorskip("redis", reason="the redis package is missing: scripts/install")
    import redis

    workdir: Path = tmp_path_factory.mktemp("redis")
    for _ in range(3):
        port = free_port()
        proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(workdir),
             "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,
        )  # fmt: skip
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                client.ping()
                break
            except redis.RedisError:
                time.sleep(0.05)
        client.close()
        if proc.poll() is None and time.monotonic() < deadline:
            try:
                yield url
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            return
        proc.kill()
        proc.wait()
    pytest.fail("redis-server did not start on 127.0.0.1 after 3 tries")
