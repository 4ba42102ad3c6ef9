"""Everything the CLI shows goes through cli.output: log records too (issue 21, item 2), and with
`--json` an error is a JSON document on stdout as well (issue 21, item 19).

Before: the library's `logger.warning` lines reached stderr through Python's last-resort
handler, raw (terminal escapes from a server's message or a `--field` label acted on the
terminal), beside the CLI's own escaped line; and `pingback --json subscriber get nobody@…`
printed nothing on stdout.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from typer.testing import CliRunner

from pingback_ext import Pingback
from pingback_ext.cli.app import app
from pingback_ext.cli.output import printable, route_logging
from pingback_ext.mock import RunningMock
from tests.cli.conftest import KEY, PINGBACK
from tests.cli.test_hostile_text import _run_in_a_terminal, assert_terminal_safe
from tests.hostile.servers import HostileServer, terminal_hostile_error
from tests.hostile.text import nasty_text

#: What a server's message or a user's label may hold that a terminal would act on.
HOSTILE = "\x1b]0;pwned\x07 \x1b[2J \u202eabc \x9b31m"
ERROR_KEYS = {"error", "errorCode", "status", "requestId", "type", "exitCode"}


@pytest.fixture
def client(mock: RunningMock) -> Any:
    with Pingback(api_key=KEY, base_url=mock.base_url, rate_limit=None) as pb:
        yield pb


def _env(mock: RunningMock, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGBACK_")}
    return {**env, "PINGBACK_API_KEY": KEY, "PINGBACK_BASE_URL": mock.base_url,
            "PINGBACK_RATE_LIMIT": "0", **extra}  # fmt: skip


# ----------------------------------------------------------------------------- log records


@settings(max_examples=60, deadline=None)
@given(text=nasty_text(min_size=1))
def test_log_records_are_shown_literally_one_line_each(text: str) -> None:
    root, library = logging.getLogger(), logging.getLogger("pingback")
    before = (list(root.handlers), list(library.handlers), library.level, library.propagate)
    shown = io.StringIO()
    with contextlib.redirect_stderr(shown):
        restore = route_logging(debug=False)
        try:
            library.warning("upsert %s: %s", text, "not applied")
            logging.getLogger("elsewhere").error(text)
            library.debug("not shown without --debug: %s", text)
        finally:
            restore()
    out = shown.getvalue()
    assert_terminal_safe(out)
    lines = out.splitlines()
    assert len(lines) == 2, out
    assert lines[0] == f"warning: upsert {printable(text)}: not applied"
    assert lines[1] == f"error (elsewhere): {printable(text)}"
    assert before == (list(root.handlers), list(library.handlers), library.level,
                      library.propagate)  # fmt: skip


def test_a_record_with_a_traceback_shows_it_line_by_line_literally() -> None:
    shown = io.StringIO()
    with contextlib.redirect_stderr(shown):
        restore = route_logging(debug=True)
        try:
            try:
                raise ValueError(HOSTILE)
            except ValueError:
                logging.getLogger("pingback").exception("failed: %s", HOSTILE)
        finally:
            restore()
    out = shown.getvalue()
    assert_terminal_safe(out)
    assert out.startswith(f"error: failed: {printable(HOSTILE)}\n")
    assert f"ValueError: {printable(HOSTILE)}" in out and "Traceback" in out


def test_a_custom_field_not_applied_is_said_once_and_literally(cli: Any, client: Any) -> None:
    label = f"age{HOSTILE}"
    client.subscribers.create("cf@example.com", custom_fields={label: "1"})
    result = cli("--no-json", "subscriber", "upsert", "cf@example.com", "--field", f"{label}=2")
    assert result.exit_code == 0, result.stderr
    assert_terminal_safe(result.stdout + result.stderr)
    said = [line for line in result.stderr.splitlines() if "not applied" in line]
    assert said == [
        f"warning: upsert cf@example.com: the API cannot change custom fields of an existing "
        f"subscriber; not applied: {printable(label)}"
    ]
    as_json = cli("--json", "subscriber", "upsert", "cf@example.com", "--field", f"{label}=2")
    assert as_json.json()["notApplied"] == [label]
    assert as_json.stderr.count("not applied") == 1


def test_on_a_terminal_a_warning_carries_no_escape_but_our_style(
    mock: RunningMock, client: Any
) -> None:
    label = f"plan{HOSTILE}"
    client.subscribers.create("tty@example.com", custom_fields={label: "gold"})
    argv = [PINGBACK, "subscriber", "upsert", "tty@example.com", "--field", f"{label}=silver"]
    code, output = _run_in_a_terminal(argv, {**_env(mock), "TERM": "xterm-256color"})
    text = output.decode("utf-8")
    assert code == 0, text
    rest = re.sub(r"\x1b\[[0-9;]*m", "", text).replace("\r\n", "\n")  # Rich's own styles
    assert_terminal_safe(rest)
    assert rest.count("not applied") == 1 and printable(label) in rest


def test_an_import_reports_a_refused_row_once_and_literally(cli: Any, tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    bad_list = f"list{HOSTILE}"
    source.write_text(
        f'email,segmentation_lists\nok@example.com,list-1\nbad@example.com,"{bad_list}"\n',
        encoding="utf-8",
    )
    result = cli("--no-json", "import", str(source))
    assert result.exit_code == 1, result.stderr
    assert_terminal_safe(result.stdout + result.stderr)
    assert "bulk upsert: record" not in result.stderr  # the library's line is not repeated
    refused = [line for line in result.stderr.splitlines() if "not found" in line.lower()]
    assert len(refused) == 1 and refused[0].startswith(f"{source}:3: "), result.stderr


def test_debug_and_pingback_log_lines_go_through_the_output_path(mock: RunningMock) -> None:
    for args, extra in (
        (["--debug", "subscriber", "get", "nobody@example.com"], {}),
        (["subscriber", "get", "nobody@example.com"], {"PINGBACK_LOG": "debug"}),
    ):
        done = subprocess.run([PINGBACK, *args], env=_env(mock, **extra), capture_output=True,
                              text=True, timeout=60)  # fmt: skip
        lines = done.stderr.splitlines()
        assert any(line.startswith("debug: GET ") and "404" in line for line in lines), lines
        assert not any(line.startswith("[") for line in lines)  # no raw handler's format
        assert_terminal_safe(done.stderr)
    bad = subprocess.run([PINGBACK, "subscriber", "get", "x@example.com"],
                         env=_env(mock, PINGBACK_LOG="loud"), capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "PINGBACK_LOG" in bad.stderr


# ----------------------------------------------------------------------------- --json errors


def test_json_error_for_an_api_error(cli: Any) -> None:
    result = cli("--json", "subscriber", "get", "nobody@example.com")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    body = result.json()
    assert set(body) == ERROR_KEYS
    assert (body["errorCode"], body["status"], body["type"], body["exitCode"]) == (
        "SUBSCRIBER_NOT_FOUND", 404, "SubscriberNotFound", 1)  # fmt: skip
    assert isinstance(body["requestId"], str) and body["requestId"] and body["error"]
    plain = cli("--no-json", "subscriber", "get", "nobody@example.com")
    assert plain.exit_code == 1 and plain.stdout == ""


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--json", "subscriber", "get"], 2),  # a missing argument
        (["--json", "--bogus", "subscriber", "get", "x@example.com"], 2),  # a root option
        (["--json", "subscriber", "create", "x@example.com", "--field", "nolabel"], 2),
        (["--json", "nosuchcommand"], 2),
    ],
)
def test_json_error_for_usage_errors(cli: Any, args: list[str], code: int) -> None:
    result = cli(*args)
    assert result.exit_code == code and result.stderr.count("\n") == 1, result.stderr
    body = result.json()
    assert set(body) == ERROR_KEYS and body["type"] == "UsageError"
    assert (body["exitCode"], body["status"], body["errorCode"]) == (code, None, None)
    assert body["error"]


def test_no_json_usage_error_prints_nothing_on_stdout(cli: Any) -> None:
    result = cli("--no-json", "subscriber", "get")
    assert result.exit_code == 2 and result.stdout == ""


def test_json_error_for_bad_settings(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", "maybe")
    result = cli("--json", "subscriber", "get", "x@example.com")
    body = result.json()
    assert result.exit_code == 2 and (body["type"], body["exitCode"]) == ("ConfigurationError", 2)
    assert "PINGBACK_DEVELOPER_MODE" in body["error"]


def test_json_error_keeps_hostile_server_text_exactly_and_safely(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reply = terminal_hostile_error(404)
    sent = json.loads(reply.body)
    with HostileServer(reply) as server:
        monkeypatch.setenv("PINGBACK_API_KEY", KEY)
        monkeypatch.setenv("PINGBACK_RATE_LIMIT", "0")
        monkeypatch.delenv("PINGBACK_DEVELOPER_MODE", raising=False)
        outcome = CliRunner().invoke(
            app, ["--json", "--base-url", server.base_url, "subscriber", "get", "x@example.com"]
        )
    assert outcome.exit_code == 1, outcome.stderr
    assert_terminal_safe(outcome.stdout + outcome.stderr)
    assert outcome.stderr.count("\n") == 1
    body = json.loads(outcome.stdout)
    assert (body["errorCode"], body["requestId"]) == (sent["errorCode"], sent["requestId"])
    assert sent["error"] in body["error"]  # the line the CLI shows, the server's message within
    assert body["status"] == 404


def test_debug_traceback_is_shown_literally(monkeypatch: pytest.MonkeyPatch) -> None:
    reply = terminal_hostile_error(404)
    with HostileServer(reply) as server:
        monkeypatch.setenv("PINGBACK_API_KEY", KEY)
        monkeypatch.setenv("PINGBACK_RATE_LIMIT", "0")
        monkeypatch.delenv("PINGBACK_DEVELOPER_MODE", raising=False)
        outcome = CliRunner().invoke(
            app, ["--debug", "--no-json", "--base-url", server.base_url, "subscriber", "get",
                  "x@example.com"],
        )  # fmt: skip
    assert outcome.exit_code == 1
    assert_terminal_safe(outcome.stdout + outcome.stderr)
    assert "Traceback (most recent call last)" in outcome.stderr
    assert "NotFound" in outcome.stderr and printable(json.loads(reply.body)["error"]) in (
        outcome.stderr
    )
    assert KEY not in outcome.stdout + outcome.stderr


def test_json_error_when_an_import_stops(
    mock: RunningMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("email\na@example.com\n", encoding="utf-8")
    monkeypatch.setenv("PINGBACK_API_KEY", "not-the-key")
    monkeypatch.setenv("PINGBACK_BASE_URL", mock.base_url)
    monkeypatch.setenv("PINGBACK_RATE_LIMIT", "0")
    outcome = CliRunner().invoke(app, ["--json", "import", str(source)])
    assert outcome.exit_code == 1
    body = json.loads(outcome.stdout)
    assert set(body) == ERROR_KEYS and "403" in body["error"] and body["exitCode"] == 1
    assert (body["status"], body["type"]) == (403, "Forbidden") and body["requestId"]
    assert "not-the-key" not in outcome.stdout + outcome.stderr
