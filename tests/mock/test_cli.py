"""`pingback mock`: starts, prints what to use, serves on the printed port, rejects bad options."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import typer
from typer.testing import CliRunner

from pingback_ext.cli.mock import mock as mock_command

URL = re.compile(r"listening on (http://127\.0\.0\.1:(\d+)/v1)")


@contextmanager
def running(*args: str) -> Iterator[tuple[str, str]]:
    """Run the command in a subprocess; yield (base URL, everything printed until ready)."""
    cmd = [sys.executable, "-m", "pingback_ext.cli.mock", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        banner = "".join(lines)
        found = URL.search(banner)
        assert found, banner + (proc.stderr.read() if proc.stderr else "")
        yield found.group(1), banner
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _wait_ready(url: str, key: str) -> httpx.Response:
    for _ in range(100):
        try:
            return httpx.get(f"{url}/subscriber/x", headers={"x-api-key": key})
        except httpx.ConnectError:
            time.sleep(0.05)
    raise AssertionError("mock never answered")


def test_subprocess_serves_on_the_printed_port_with_printed_keys_and_lists() -> None:
    with running(
        "--port",
        "0",
        "--api-key",
        "k1",
        "--api-key",
        "k2",
        "--segmentation-list",
        "L1",
        "--segmentation-list",
        "L2",
        "--rate-limit",
        "0",
    ) as (url, banner):
        assert not url.endswith(":0/v1")
        assert "api keys: the 2 given with --api-key" in banner
        assert "k1" not in banner and "k2" not in banner  # chosen keys are not echoed
        assert "segmentation list: L1" in banner and "segmentation list: L2" in banner
        assert "rate limit: off" in banner
        assert _wait_ready(url, "k1").status_code == 404
        created = httpx.post(
            f"{url}/subscriber",
            json={"email": "c@example.com", "segmentationLists": ["L2"]},
            headers={"x-api-key": "k2"},
        )
        assert created.status_code == 201
        assert httpx.get(f"{url}/subscriber/x", headers={"x-api-key": "nope"}).status_code == 403


def test_default_key_is_generated_and_printed_and_rate_limit_applies() -> None:
    with running("--port", "0", "--burst", "1", "--rate-limit", "0.5") as (url, banner):
        key = re.search(r"api key: (\S+)", banner)
        assert key and len(key.group(1)) >= 16
        assert _wait_ready(url, key.group(1)).status_code == 404
        limited = httpx.get(f"{url}/subscriber/x", headers={"x-api-key": key.group(1)})
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


@pytest.mark.slow
def test_db_file_survives_a_restart(tmp_path: os.PathLike[str]) -> None:
    db = os.path.join(tmp_path, "m.db")
    args = ("--port", "0", "--api-key", "k", "--rate-limit", "0", "--db", db)
    with running(*args) as (url, _):
        _wait_ready(url, "k")
        assert (
            httpx.post(
                f"{url}/subscriber", json={"email": "d@example.com"}, headers={"x-api-key": "k"}
            ).status_code
            == 201
        )
    with running(*args) as (url, _):
        _wait_ready(url, "k")
        assert (
            httpx.get(f"{url}/subscriber/d@example.com", headers={"x-api-key": "k"}).status_code
            == 200
        )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "--port must be between 0 and 65535"),
        (["--rate-limit", "-1"], "--rate-limit must be >= 0"),
        (["--rate-limit", "nan"], "--rate-limit must be >= 0 and finite, got nan"),
        (["--rate-limit", "inf"], "--rate-limit must be >= 0 and finite, got inf"),
        (["--burst", "0"], "--burst must be >= 1"),
        (["--api-key", ""], "--api-key must not be empty"),
        (["--segmentation-list", " "], "--segmentation-list must not be empty"),
        (["--log-level", "loud"], "unknown --log-level"),
        (["--db", "/no/such/dir/x.db"], "directory for --db does not exist"),
        (["--host", "256.0.0.1", "--port", "0"], "cannot listen on 256.0.0.1:0"),
    ],
)
def test_bad_options_fail_cleanly(args: list[str], message: str) -> None:
    single = typer.Typer()
    single.command()(mock_command)
    result = CliRunner().invoke(single, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_console_script_help() -> None:
    pingback = os.path.join(os.path.dirname(sys.executable), "pingback")
    out = subprocess.run([pingback, "mock", "--help"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "--segmentation-list" in out.stdout
