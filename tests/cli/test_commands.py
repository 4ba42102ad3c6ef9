"""Which commands `pingback` has, what `--debug` shows, and what a missing extra says."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest
from typer.testing import CliRunner

import pingback_ext
from pingback_ext import extras
from pingback_ext.cli import COMMANDS
from pingback_ext.cli.app import app
from tests.cli.conftest import KEY, PINGBACK

EXPECTED = {
    "subscriber": ["get", "create", "update", "upsert", "unsubscribe"],
    "segment": ["add", "remove"],
    "import": [],
    "mock": [],
    "contract": [],
}


def test_the_command_table_is_exactly_the_expected_commands() -> None:
    assert [command.name for command in COMMANDS] == list(EXPECTED)


@pytest.mark.parametrize(("name", "subcommands"), EXPECTED.items())
def test_every_command_is_there_with_its_help(name: str, subcommands: list[str]) -> None:
    listed = CliRunner().invoke(app, ["--help"])
    assert listed.exit_code == 0 and f" {name} " in listed.stdout
    shown = CliRunner().invoke(app, [name, "--help"])
    assert shown.exit_code == 0, shown.stdout + shown.stderr
    assert f"Usage: pingback {name}" in shown.stdout
    assert "Needs the" not in listed.stdout  # a real command, not a stand-in for a missing extra
    for sub in subcommands:
        assert f" {sub} " in shown.stdout
        assert CliRunner().invoke(app, [name, sub, "--help"]).exit_code == 0


@pytest.mark.parametrize(
    "argv",
    [[], *([name] for name in EXPECTED), *([n, s] for n, subs in EXPECTED.items() for s in subs)],
)
def test_flags_show_no_type_metavar(argv: list[str]) -> None:
    """`--json / --no-json`, not `--json <bool>` or `BOOLEAN`: a flag takes no value (some
    Typer and click pairs printed one; scripts/resolutions runs this at both ends)."""
    shown = CliRunner().invoke(app, [*argv, "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.stdout
    for metavar in ("<bool>", "BOOLEAN", "[true|false]"):
        assert metavar not in shown.stdout, (argv, metavar)


def test_version_loads_no_command_module() -> None:
    probe = textwrap.dedent(
        """
        import sys
        from pingback_ext.cli.app import app
        try:
            app(["--version"])
        except SystemExit:
            pass
        modules = [c.module for c in __import__("pingback_ext.cli").cli.COMMANDS]
        print(sorted(m for m in modules if m in sys.modules))
        """
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().endswith("[]"), done.stdout + done.stderr
    assert done.stdout.startswith("pingback ")


def test_debug_shows_the_traceback_and_without_it_one_line(cli_process: Any) -> None:
    plain = cli_process("subscriber", "get", "nobody@example.com")
    assert plain.exit_code == 1 and "Traceback" not in plain.stderr
    assert plain.stderr.count("\n") == 1 and "SUBSCRIBER_NOT_FOUND" in plain.stderr
    debug = cli_process("--debug", "subscriber", "get", "nobody@example.com")
    assert debug.exit_code == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert "SubscriberNotFound" in debug.stderr
    assert KEY not in debug.stdout + debug.stderr


def test_a_command_whose_extra_is_missing_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(extras.EXTRAS, "mock", ("uvicorn", "pingback_no_such_module"))
    done = CliRunner().invoke(app, ["mock", "--port", "0"])
    assert done.exit_code == 1
    assert done.stderr.strip() == (
        "pingback mock: needs the mock extra (pingback_no_such_module not installed): "
        "pip install 'pingback-toolkit[mock]'"
    )
    assert "Needs the mock" in CliRunner().invoke(app, ["--help"]).stdout


@pytest.mark.parametrize(
    ("argv", "extra"),
    [
        (["mock", "--port", "0"], "mock"),
        (["contract"], "contract"),
        (["--json", "subscriber"], "cli"),
    ],
)
def test_without_the_cli_extra_the_entry_point_names_the_extra(argv: list[str], extra: str) -> None:
    probe = (
        "import sys; sys.modules['typer'] = None; sys.argv = ['pingback', *sys.argv[1:]];"
        " from pingback_ext.cli import main; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *argv], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (
        f"pingback: the command line needs the {extra} extra: "
        f"pip install 'pingback-toolkit[{extra}]'\n"
    )


@pytest.mark.parametrize("typer_installed", [True, False])
def test_version_alone_is_answered_before_typer_loads(typer_installed: bool) -> None:
    probe = textwrap.dedent(
        f"""
        import sys
        if not {typer_installed!r}:
            sys.modules["typer"] = None  # as if not installed: importing it fails
        sys.argv = ["pingback", "--version"]
        from pingback_ext.cli import main
        main()
        print(sorted(m for m in ("typer", "pingback_ext.cli.app") if sys.modules.get(m)))
        """
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"pingback {pingback_ext.__version__}\n[]\n"
    # the same line as the root's eager option prints (with other arguments, as in --json --version)
    eager = CliRunner().invoke(app, ["--json", "--version"])
    assert eager.exit_code == 0 and eager.stdout == f"pingback {pingback_ext.__version__}\n"


def test_the_console_script_runs() -> None:
    done = subprocess.run([PINGBACK, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("pingback ")


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["subscrber"], "Did you mean 'subscriber'?"),
        (["improt", "x.csv"], "Did you mean 'import'?"),
        (["subscriber", "gte", "a@example.com"], "Did you mean 'get'?"),
        (["zzz"], None),
    ],
)
def test_a_mistyped_command_names_the_closest_one(argv: list[str], suggestion: str | None) -> None:
    result = CliRunner().invoke(app, ["--no-json", *argv])
    assert result.exit_code == 2
    assert "No such command" in result.stderr
    if suggestion is None:
        assert "Did you mean" not in result.stderr
    else:
        assert suggestion in result.stderr
