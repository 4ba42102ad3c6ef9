"""The `pingback` command line: one Typer app, one module per subcommand group."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="pingback",
    help="Pingback API toolkit: talk to the API, run the mock, check the contract.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Pingback API toolkit: talk to the API, run the mock, check the contract."""


def _register() -> None:
    """Import subcommand modules so they attach themselves to `app`."""
    from pingback_ext.cli import mock  # noqa: F401


def main() -> None:
    """Console-script entry point."""
    _register()
    app()
