"""How a failed command ends: one line on stderr and an exit code; tracebacks only with --debug.

The root command group (`cli.app`) catches what a command raises and calls `report`; commands
themselves only raise.
"""

from __future__ import annotations

import typer

from pingback_ext.cli.output import error, error_json, mode, print_json, stderr
from pingback_ext.errors import (
    APIError,
    ConfigurationError,
    InvalidRequestError,
    ResponseValidationError,
)

#: Exit codes: 1 the API, the network or the machine said no; 2 the command line or settings
#: are wrong; 130 interrupted.
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def usage_error(command: str, message: str) -> typer.Exit:
    """Print `pingback COMMAND: error: MESSAGE` (and, with `--json`, its JSON document) and
    give the exit to raise (code 2)."""
    stderr.print(f"pingback {command}: error: {message}")
    if mode.json_errors:
        print_json(error_json(message, exit_code=EXIT_USAGE, kind="UsageError"))
    return typer.Exit(code=EXIT_USAGE)


def describe(failure: BaseException) -> str:
    """The one line a user sees for an error."""
    if isinstance(failure, APIError):
        return str(failure)
    if isinstance(failure, ResponseValidationError):
        return f"the server's answer breaks the spec: {failure}"
    if isinstance(failure, OSError) and failure.strerror:
        where = f": {failure.filename}" if failure.filename is not None else ""
        return f"{failure.strerror}{where}"
    return str(failure) or type(failure).__name__


def report(failure: BaseException) -> int:
    """Print `failure` as one line and return the exit code it deserves."""
    if isinstance(failure, KeyboardInterrupt):
        stderr.print("interrupted")
        if mode.json_errors:
            print_json(error_json("interrupted", failure, exit_code=EXIT_INTERRUPTED))
        return EXIT_INTERRUPTED
    usage = isinstance(failure, ConfigurationError | InvalidRequestError)
    code = EXIT_USAGE if usage else EXIT_FAILED
    error(describe(failure), failure, exit_code=code)
    return code
