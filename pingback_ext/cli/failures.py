"""Errors become one clear line and a non-zero exit; tracebacks only with --debug."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import click
import typer
from rich.console import Console

from pingback_ext.cli.context import GlobalOptions
from pingback_ext.errors import (
    APIError,
    ConfigurationError,
    InvalidRequestError,
    PingbackError,
    ResponseValidationError,
)

P = ParamSpec("P")
R = TypeVar("R")

#: Exit codes: 1 the API or network said no; 2 the command line or settings are wrong.
EXIT_FAILED = 1
EXIT_USAGE = 2

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def usage_error(command: str, message: str) -> typer.Exit:
    """Print `pingback COMMAND: error: MESSAGE` and give the exit to raise (code 2)."""
    typer.echo(f"pingback {command}: error: {message}", err=True)
    return typer.Exit(code=EXIT_USAGE)


def describe(error: BaseException) -> str:
    if isinstance(error, APIError):
        return str(error)
    if isinstance(error, ResponseValidationError):
        return f"the server's answer breaks the spec: {error}"
    return str(error) or type(error).__name__


def _debugging() -> bool:
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return isinstance(obj, GlobalOptions) and obj.debug


def handle_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Decorator for commands: print PingbackErrors as `error: …` and exit non-zero."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except PingbackError as error:
            if _debugging():
                raise
            stderr.print(f"[red]error:[/red] {describe(error)}", markup=True)
            usage = isinstance(error, ConfigurationError | InvalidRequestError)
            raise typer.Exit(EXIT_USAGE if usage else EXIT_FAILED) from None
        except KeyboardInterrupt:
            stderr.print("interrupted")
            raise typer.Exit(130) from None

    return wrapper
