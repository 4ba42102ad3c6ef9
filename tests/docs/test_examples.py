"""Every Python and shell example of README.md and docs/ runs, and shows what the doc says.

Scripts and sessions run against a mock served on 127.0.0.1 with the environment a reader would
have set (`PINGBACK_API_KEY`, `PINGBACK_BASE_URL`); test-file examples run under pytest as a
user's project would run them. Sessions run on a pseudo-terminal, since the CLI prints for
people there (and JSON when its output is piped). See examples.py for the conventions.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.docs.examples import ROOT, Command, Example, examples, matches, session
from tests.resilience.conftest import free_port

KEY = "docs-example-key-0123456789"
LISTS = ("list-1", "list-2", "newsletter")
BIN = Path(sys.executable).parent

ALL = examples()
pyte = pytest.importorskip("pyte")


def _param(example: Example) -> Any:
    marks = [pytest.mark.skip(reason=example.skip_reason)] if example.skip else []
    if example.lang == "console" and not example.skip and example.mark != "commands":
        marks.append(pytest.mark.slow)  # a CLI session: many processes
    if example.lang == "python" and "def test_" in example.body:
        marks.append(pytest.mark.slow)  # pytest inside pytest
    return pytest.param(example, id=example.id, marks=marks)


@pytest.fixture(scope="module")
def mock() -> Iterator[Any]:
    serve_mock = pytest.importorskip("pingback_ext.mock").serve_mock
    with serve_mock(api_keys=[KEY], segmentation_lists=list(LISTS), rate_limit=0) as running:
        yield running


@pytest.fixture
def fresh_mock(mock: Any) -> Any:
    mock.app.tenant(KEY).reset()
    for list_id in LISTS:
        mock.app.add_segmentation_list(list_id)
    return mock


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINGBACK_", "PYTEST_"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def _mock_environment(mock: Any) -> dict[str, str]:
    return _environment(
        PINGBACK_API_KEY=KEY, PINGBACK_BASE_URL=mock.base_url, PINGBACK_RATE_LIMIT="0"
    )


def test_the_docs_have_examples_of_each_kind() -> None:
    kinds = {(e.lang, "test" if "def test_" in e.body else "run") for e in ALL if not e.skip}
    assert kinds >= {("python", "test"), ("python", "run"), ("console", "run")}


@pytest.mark.parametrize("example", [_param(e) for e in ALL if e.lang == "python"])
def test_python_example(example: Example, fresh_mock: Any, tmp_path: Path) -> None:
    if "def test_" in example.body:
        if "httpx_mock" in example.body:
            pytest.importorskip("pytest_httpx")
        (tmp_path / "test_example.py").write_text(example.body, encoding="utf-8")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"]
        done = subprocess.run(
            [*command, "test_example.py"],
            cwd=tmp_path,
            env=_environment(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    else:
        if example.mark == "with-certs":
            _write_example_certs(tmp_path / "certs")
        done = subprocess.run(
            [sys.executable, "-c", example.body],
            cwd=tmp_path,
            env=_mock_environment(fresh_mock),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, f"{example.id} failed:\n{done.stdout}\n{done.stderr}"


def _write_example_certs(folder: Path) -> None:
    """The files a `with-certs` example names: a private CA and a client certificate, made by
    the TLS test kit and named as the example names them."""
    from tests.tls_kit import write_certs

    certs = write_certs(folder / "kit")
    shutil.copyfile(certs.ca, folder / "staging-ca.pem")
    shutil.copyfile(certs.client, folder / "client.pem")


class Terminal:
    """Runs commands on a pseudo-terminal 1000 columns wide (no line of the docs wraps); returns
    what a reader would see.

    pyte (a VT100 emulator) plays the bytes, so a progress bar that redraws itself and clears
    at the end shows as it does on a screen: not at all.
    """

    COLUMNS, LINES = 1000, 400

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = {**env, "TERM": "xterm", "NO_COLOR": "1"}
        self.cwd = cwd
        self.background: list[tuple[subprocess.Popen[bytes], int]] = []
        self.last_status = 0

    def _spawn(self, line: str) -> tuple[subprocess.Popen[bytes], int]:
        master, slave = pty.openpty()
        size = struct.pack("HHHH", self.LINES, self.COLUMNS, 0, 0)
        fcntl.ioctl(slave, termios.TIOCSWINSZ, size)
        process = subprocess.Popen(
            ["bash", "-c", line],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        return process, master

    @staticmethod
    def _read(master: int, until: float, *, settled: float | None = None) -> bytes:
        """Output until the other side closes (or, with `settled`, is quiet that long)."""
        chunks = b""
        while time.monotonic() < until:
            ready, _, _ = select.select([master], [], [], settled or 0.1)
            if not ready:
                if settled is not None and chunks:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the other side closed
                break
            if not chunk:
                break
            chunks += chunk
        return chunks

    def _screen(self, output: bytes) -> list[str]:
        screen = pyte.Screen(self.COLUMNS, self.LINES)
        pyte.ByteStream(screen).feed(output)
        shown = [line.rstrip() for line in screen.display]
        while shown and not shown[-1]:
            shown.pop()
        return shown

    def run(self, line: str, timeout: float = 180) -> list[str]:
        line = line.replace("$?", str(self.last_status))
        if line.endswith("&"):  # a server: what it prints on start; it runs until close()
            process, master = self._spawn(line[:-1].strip())
            self.background.append((process, master))
            return self._screen(self._read(master, time.monotonic() + 30, settled=1.0))
        process, master = self._spawn(line)
        try:
            output = self._read(master, time.monotonic() + timeout)
            self.last_status = process.wait(timeout=10)
        finally:
            os.close(master)
        return self._screen(output)

    def close(self) -> None:
        for process, master in self.background:
            os.close(master)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def _export(terminal: Terminal, command: Command) -> bool:
    if not command.line.startswith("export "):
        return False
    for assignment in command.line.removeprefix("export ").split():
        name, _, value = assignment.partition("=")
        terminal.env[name] = value
    return True


def _cat_creates(terminal: Terminal, command: Command) -> None:
    """`$ cat FILE` shows a file the reader has: make it from the lines the doc shows."""
    words = command.line.split()
    if len(words) == 2 and words[0] == "cat" and not (terminal.cwd / words[1]).exists():
        (terminal.cwd / words[1]).write_text("\n".join(command.expected) + "\n", "utf-8")


@pytest.mark.parametrize("example", [_param(e) for e in ALL if e.lang == "console"])
def test_console_example(example: Example, fresh_mock: Any, tmp_path: Path) -> None:
    if shutil.which("pingback", path=str(BIN)) is None:
        pytest.skip("the pingback command is not installed in this environment")
    body = example.body.replace("8787", str(free_port()))
    if example.mark in ("commands", "against-mock"):
        terminal = Terminal(_mock_environment(fresh_mock), tmp_path)
    elif example.mark == "in-checkout":  # its paths are the repository's
        terminal = Terminal(_environment(), ROOT)
    else:
        terminal = Terminal(_environment(), tmp_path)
    try:
        for command in session(body):
            if _export(terminal, command):
                continue
            _cat_creates(terminal, command)
            shown = terminal.run(command.line)
            where = f"{example.id}: $ {command.line}"
            if example.mark == "commands":
                assert terminal.last_status == 0, f"{where} exited {terminal.last_status}:\n" + (
                    "\n".join(shown)
                )
                continue
            assert len(shown) == len(command.expected) and all(
                matches(want, got) for want, got in zip(command.expected, shown, strict=True)
            ), (
                f"{where}\n--- the doc shows\n"
                + "\n".join(command.expected)
                + ("\n--- it printed\n" + "\n".join(shown))
            )
    finally:
        terminal.close()
