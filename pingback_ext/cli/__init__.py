"""The `pingback` command line: one Typer app, one module per subcommand group.

Global options (before the subcommand) say which API to talk to and how to print:
`pingback --developer-mode --json subscriber get ana@example.com`.
"""

from __future__ import annotations

import importlib
from importlib import metadata
from typing import Annotated

import typer

from pingback_ext.cli.context import GlobalOptions

app = typer.Typer(
    name="pingback",
    help="Pingback API toolkit: talk to the API, run the mock, check the contract.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pingback {metadata.version('pingback-toolkit')}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    api_key: Annotated[
        str | None,
        typer.Option(envvar="PINGBACK_API_KEY", help="API key.", show_envvar=True),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(envvar="PINGBACK_BASE_URL", help="API base URL.", show_envvar=True),
    ] = None,
    developer_mode: Annotated[
        bool | None,
        typer.Option(
            "--developer-mode/--production",
            envvar="PINGBACK_DEVELOPER_MODE",
            help="Use Pingback's developer-mode sandbox (fake data).",
            show_envvar=True,
        ),
    ] = None,
    rate_limit: Annotated[
        float,
        typer.Option(
            envvar="PINGBACK_RATE_LIMIT",
            help="Requests per second to pace to (Pingback allows 5); 0 turns pacing off.",
            show_envvar=True,
            min=0,
        ),
    ] = 5.0,
    json_output: Annotated[
        bool | None,
        typer.Option(
            "--json/--no-json", help="Print JSON (the default when stdout is not a terminal)."
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Log HTTP calls and show tracebacks.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Pingback API toolkit: talk to the API, run the mock, check the contract."""
    ctx.obj = GlobalOptions(
        api_key=api_key,
        base_url=base_url,
        developer_mode=developer_mode,
        rate_limit=rate_limit,
        json_output=json_output,
        debug=debug,
    )


SUBCOMMAND_MODULES = ("subscriber", "segment", "importer", "mock", "contract")


def _register() -> None:
    """Import subcommand modules so they attach themselves to `app`."""
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(f"pingback_ext.cli.{name}")


def main() -> None:
    """Console-script entry point."""
    _register()
    app()
