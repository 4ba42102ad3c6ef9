"""`pingback contract` as a command: its help, and a target that does not answer (issue 21
items 17 and 18)."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from typer.testing import CliRunner

from pingback_ext.cli.app import app
from tests.hostile.fixtures import ServerFactory
from tests.hostile.servers import Reset, subscriber_reply


def test_help_shows_the_pyproject_table_name() -> None:
    """Rich markup ate `[tool.pingback.contract]` ("come from `` in pyproject.toml")."""
    result = CliRunner().invoke(app, ["contract", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "[tool.pingback.contract] in pyproject.toml" in result.output
    assert "``" not in result.output and "\\[" not in result.output


def _dead_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow  # a pingback contract run (or pytest) in a subprocess
def test_a_dead_target_is_said_once(contract_run: Any) -> None:
    """Not "0 distinct problem(s), 0 failing case(s), 26 error(s)" and 18 ConnectionError
    lines: one line that says the target is unreachable, and a non-zero exit."""
    run = contract_run(
        "--base-url", f"http://127.0.0.1:{_dead_port()}/v1", "--api-key", "dead-target-key-0001"
    )
    assert run.returncode == 1, run.output
    assert run.output.count("the target is unreachable:") == 1, run.output
    assert "Connection refused" in run.output
    assert "ConnectionError" not in run.output and "Traceback" not in run.output
    assert "FAIL: the target is unreachable" in run.output
    assert run.summary["unreachable"] and run.summary["errors"] == []
    assert run.summary["passed"] is False


@pytest.mark.slow  # a pingback contract run (or pytest) in a subprocess
def test_a_target_that_resets_every_connection_is_unreachable(
    contract_run: Any, hostile_server: ServerFactory
) -> None:
    server = hostile_server(Reset(subscriber_reply(), after=0))
    run = contract_run("--base-url", server.base_url, "--api-key", "reset-target-key-0001")
    assert run.returncode == 1, run.output
    assert run.output.count("the target is unreachable:") == 1, run.output
    assert len(server.requests) <= 3  # the run stopped at the first test that saw it
