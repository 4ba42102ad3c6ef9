"""Hostile text through the CLI: markup, terminal escapes, bidi controls, separators, surrogates.

Whatever a server, a CSV file or an argument holds is printed literally (control characters as
visible escapes), JSON output keeps it exactly, no raw control character reaches the terminal,
and a command fails, if it fails, with one line and no traceback.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import pty
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pingback_ext import Pingback
from pingback_ext.cli.output import json_text, printable
from pingback_ext.mock import RunningMock
from tests.cli.conftest import KEY, PINGBACK

PAYLOADS = [
    "[/x] Mallory",
    "[link=https://evil.example]click me[/link]",
    "[red]alarm[/red] [bold]",
    ":thumbs_up: :smile:",
    "\x1b]8;;https://evil.example\x07hidden\x1b]8;;\x07",
    "\x1b[2J\x1b[31mred",
    "\x9b31mC1 CSI",
    "abc\u202edcba\u2066x\u2069",
    "line\u2028sep\u2029para\x85nel\x0bvt\x0cff\x1cfs",
    "tab\there\r\ncrlf\x00nul\x7fdel\x07bel",
    "zero\u200bwidth\ufeffbom",
    "family 👨\u200d👩\u200d👧 José",
    "\\x1b literal backslash",
]
NASTY_CHARS = (
    "[]/=:\\ ax\x1b\x07\x9b\x85\u2028\u2029\u202e\u2066\u200b\ufeff\r\n\t\x00\x7féü😀\u200d"
)
NASTY = st.sampled_from(PAYLOADS) | st.text(alphabet=NASTY_CHARS, min_size=1, max_size=40)
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
_emails = (f"user{n}@example.com" for n in itertools.count())


def assert_terminal_safe(text: str) -> None:
    """Nothing a terminal would act on: every line is already printable."""
    for line in text.split("\n"):
        assert printable(line) == line, repr(line)


def assert_one_line_failure(result: Any) -> None:
    assert result.exit_code in (1, 2), (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert_terminal_safe(result.stdout + result.stderr)


@pytest.fixture
def client(mock: RunningMock) -> Iterator[Pingback]:
    with Pingback(api_key=KEY, base_url=mock.base_url, rate_limit=None) as pb:
        yield pb


@given(text=st.text())
def test_json_output_is_lossless_and_terminal_safe(text: str) -> None:
    rendered = json_text({"name": text})
    assert json.loads(rendered) == {"name": text}
    assert_terminal_safe(rendered)


@given(text=st.text())
def test_printable_leaves_nothing_a_terminal_acts_on(text: str) -> None:
    shown = printable(text)
    assert "\n" not in shown and "\x1b" not in shown
    assert printable(shown) == shown
    if text.isprintable():
        assert shown == text


@EXAMPLES
@given(name=NASTY.filter(lambda s: "\x00" not in s))
def test_subscriber_get_prints_names_literally(cli: Any, client: Pingback, name: str) -> None:
    email = next(_emails)
    client.subscribers.create(email, name=name, custom_fields={name: name})
    shown = cli("--no-json", "subscriber", "get", email)
    assert shown.exit_code == 0, shown.stdout + shown.stderr
    assert_terminal_safe(shown.stdout)
    assert f"name               {printable(name)}\n" in shown.stdout
    assert f"{printable(name)}={printable(name)}" in shown.stdout
    as_json = cli("--json", "subscriber", "get", email)
    assert as_json.json()["data"]["name"] == name
    assert_terminal_safe(as_json.stdout)


@pytest.mark.parametrize("name", ["[/x] Mallory", "[link=https://evil.example]x[/link]", "[red]r"])
def test_the_issue_names_print_literally(cli: Any, client: Pingback, name: str) -> None:
    client.subscribers.create("mallory@example.com", name=name)
    shown = cli("--no-json", "subscriber", "get", "mallory@example.com")
    assert shown.exit_code == 0 and f"  {name}\n" in shown.stdout


@EXAMPLES
@given(list_id=NASTY)
def test_segment_add_with_hostile_list_ids_fails_in_one_line(
    cli: Any, client: Pingback, list_id: str
) -> None:
    email = next(_emails)
    client.subscribers.create(email)
    result = cli("segment", "add", email, list_id)
    assert_one_line_failure(result)
    if result.exit_code == 1:
        assert "SEGMENTATION_LIST_NOT_FOUND" in result.stderr
        assert printable(list_id) in result.stderr


def test_segment_add_markup_list_id(cli: Any, client: Pingback) -> None:
    client.subscribers.create("ana@example.com")
    result = cli("segment", "add", "ana@example.com", "[/x]")
    assert_one_line_failure(result)
    assert "Segmentation list not found: [/x]." in result.stderr


@EXAMPLES
@given(email=NASTY, field=NASTY)
def test_hostile_arguments_never_raise_a_traceback(cli: Any, email: str, field: str) -> None:
    for args in (
        ("subscriber", "get", email),
        ("subscriber", "create", email, "--field", f"{field}={field}", "--name", field),
        ("segment", "remove", field, email),
    ):
        result = cli(*args)
        if result.exit_code == 0:
            assert_terminal_safe(result.stdout)
        else:
            assert_one_line_failure(result)


@EXAMPLES
@given(cells=st.lists(NASTY, min_size=2, max_size=2))
def test_import_with_hostile_cells_reports_them_literally(
    cli: Any, tmp_path_factory: pytest.TempPathFactory, cells: list[str]
) -> None:
    name, bad_email = cells
    path = tmp_path_factory.mktemp("import") / "hostile.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name"])
        writer.writerow([next(_emails), name])
        writer.writerow([f"{bad_email}-not-an-email", name])
    result = cli("--no-json", "import", str(path))
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert_terminal_safe(result.stdout + result.stderr)
    assert " rows: " in result.stdout  # the summary is printed


class _HostileServer(BaseHTTPRequestHandler):
    """Answers every GET with a spec-valid subscriber whose text no CLI should trust."""

    body = json.dumps(
        {
            "data": {
                "id": "\x1b]8;;https://evil.example\x07id",
                "email": "eve@example.com",
                "name": "lone \ud800 surrogate \x1b[2J [/x]",
                "status": "free_subscriber",
                "customFields": [{"id": "f", "label": "[link=x]", "value": "\u202eevil"}],
                "segmentationLists": ["\x9bl"],
                "createdAt": "2026-11-26T04:43:44.123Z",
                "updatedAt": "2026-11-26T04:43:44.123Z",
            },
            "requestId": "\x1b[31mrequest",
        }
    ).encode()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def test_any_server_text_is_shown_literally(cli: Any) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostileServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/v1"
        shown = cli("--no-json", "--base-url", base, "subscriber", "get", "eve@example.com")
        as_json = cli("--json", "--base-url", base, "subscriber", "get", "eve@example.com")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert shown.exit_code == 0, shown.stdout + shown.stderr
    assert_terminal_safe(shown.stdout)
    assert "lone \\ud800 surrogate \\x1b[2J [/x]" in shown.stdout
    assert "[link=x]=\\u202eevil" in shown.stdout and "requestId \\x1b[31mrequest" in shown.stdout
    assert as_json.exit_code == 0 and "\\ud800" in as_json.stdout
    assert as_json.json()["data"]["name"] == "lone \ud800 surrogate \x1b[2J [/x]"
    assert_terminal_safe(as_json.stdout)


def _run_in_a_terminal(argv: list[str], env: dict[str, str]) -> tuple[int, bytes]:
    """Run a command on a pseudo-terminal (so Rich styles its output); its exit code and output."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the command (and never return into pytest)
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks)


def test_on_a_terminal_only_our_own_styles_are_escape_sequences(
    mock: RunningMock, client: Pingback
) -> None:
    name = "".join(PAYLOADS).replace("\x00", "")  # an argv string cannot hold NUL
    client.subscribers.create("eve@example.com", name=name, custom_fields={"[/x]": "\x1b[5m"})
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PINGBACK_")},
        "PINGBACK_API_KEY": KEY,
        "PINGBACK_BASE_URL": mock.base_url,
        "PINGBACK_RATE_LIMIT": "0",
        "TERM": "xterm-256color",
        "COLUMNS": "80",
    }
    env.pop("NO_COLOR", None)
    for args in (
        ["subscriber", "get", "eve@example.com"],
        ["segment", "add", "eve@example.com", name],
    ):
        code, output = _run_in_a_terminal([PINGBACK, *args], env)
        text = output.decode("utf-8")
        assert code in (0, 1), text
        styles = re.findall(r"\x1b\[[0-9;]*m", text)
        if code == 0:
            assert styles, "expected Rich to style a terminal's output"
        rest = re.sub(r"\x1b\[[0-9;]*m", "", text).replace("\r\n", "\n")
        assert_terminal_safe(rest)
        assert printable(name) in rest
