"""A mock on loopback and a runner for the `pingback` app, with the mock's settings in env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from pingback_ext.cli.app import app
from pingback_ext.mock import RunningMock, serve_mock
from tests.resilience.recorder import Recorder, serve_recorded_mock

KEY = "cli-secret-key-123"
LISTS = ["list-1", "list-2"]
PINGBACK = str(Path(sys.executable).with_name("pingback"))


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`pingback import` keeps its sync state here, never in the real ~/.local/state."""
    home = tmp_path / "xdg-state"
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    return home


@pytest.fixture
def mock() -> Iterator[RunningMock]:
    with serve_mock(api_keys=[KEY], segmentation_lists=LISTS, rate_limit=0) as running:
        yield running


@pytest.fixture
def cli(mock: RunningMock, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run `pingback ARGS…` in-process against the mock."""
    monkeypatch.setenv("PINGBACK_API_KEY", KEY)
    monkeypatch.setenv("PINGBACK_BASE_URL", mock.base_url)
    monkeypatch.delenv("PINGBACK_DEVELOPER_MODE", raising=False)
    monkeypatch.setenv("PINGBACK_RATE_LIMIT", "0")  # the mock's limit is off too
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        outcome = runner.invoke(app, list(args), input=input)
        return Result(outcome.exit_code, outcome.stdout, outcome.stderr)

    return run


@pytest.fixture
def cli_process(mock: RunningMock) -> Any:
    """Run the installed `pingback` console script as a subprocess against the mock."""
    env = {
        **os.environ,
        "PINGBACK_API_KEY": KEY,
        "PINGBACK_BASE_URL": mock.base_url,
        "PINGBACK_RATE_LIMIT": "0",
    }
    env.pop("PINGBACK_DEVELOPER_MODE", None)

    def run(*args: str, timeout: float = 60) -> Result:
        done = subprocess.run(
            [PINGBACK, *args], env=env, capture_output=True, text=True, timeout=timeout
        )
        return Result(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture
def recorded() -> Iterator[tuple[RunningMock, Recorder]]:
    """A mock behind a recorder that counts and keeps every request."""
    with serve_recorded_mock(api_keys=[KEY], segmentation_lists=LISTS, rate_limit=0) as pair:
        yield pair


@pytest.fixture
def run(recorded: tuple[RunningMock, Recorder], monkeypatch: pytest.MonkeyPatch) -> Any:
    """`pingback ARGS…` in-process against the recorded mock."""
    mock, _ = recorded
    monkeypatch.setenv("PINGBACK_API_KEY", KEY)
    monkeypatch.setenv("PINGBACK_BASE_URL", mock.base_url)
    monkeypatch.delenv("PINGBACK_DEVELOPER_MODE", raising=False)
    monkeypatch.setenv("PINGBACK_RATE_LIMIT", "0")
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        outcome = runner.invoke(app, list(args))
        return Result(outcome.exit_code, outcome.stdout, outcome.stderr)

    return invoke
