"""The root `pingback` command: global options, the commands of `cli.COMMANDS`, error handling.

`Commands` is the root group. It lists exactly `COMMANDS` and builds a command from its module
when the command runs or help is shown, so `pingback --version` imports none of them. A command
whose extra is missing becomes a stand-in that prints which one to install. Every failure ends
here: one line and an exit code (a command's error, or a usage error that echoes an argument,
both printed literally), after the full traceback of a command's error with `--debug` (also
printed literally).
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from pingback_ext import extras
from pingback_ext.cli import COMMANDS, Command, version_line
from pingback_ext.cli.context import GlobalOptions, options


def _stand_in(command: Command, missing: list[str]) -> Any:
    """A command that only says which extra to install (any arguments accepted)."""
    hint = extras.install_hint(command.extra)
    single = typer.Typer(add_completion=False)

    @single.command(
        command.name,
        help=f"Needs the {command.extra} extra: {hint}",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
        add_help_option=False,
    )
    def needs_extra() -> None:
        from pingback_ext.cli.output import stderr

        stderr.print(
            f"pingback {command.name}: needs the {command.extra} extra "
            f"({', '.join(missing)} not installed): {hint}"
        )
        raise typer.Exit(1)

    return typer.main.get_command(single)


def load(command: Command) -> Any:
    """The click command for one entry of COMMANDS (its module is imported here)."""
    missing = extras.missing_modules(command.extra)
    if missing:
        return _stand_in(command, missing)
    target = getattr(importlib.import_module(command.module), command.attribute)
    if isinstance(target, typer.Typer):
        group = typer.main.get_group(target)
        group.name = command.name
        return group
    single = typer.Typer(add_completion=False)
    single.command(command.name, context_settings=command.context_settings)(target)
    return typer.main.get_command(single)


#: click's ClickException, from whichever click Typer runs on (it bundles its own since 0.2x).
_ClickException: type[Exception] = next(
    cls for cls in typer.BadParameter.__mro__ if cls.__name__ == "ClickException"
)


def _wants_json(error: Any, args: Sequence[str]) -> bool:
    """Whether `--json` was asked for (or is the default), even when parsing failed early."""
    ctx = getattr(error, "ctx", None)
    found = ctx.find_root().obj if ctx is not None else None
    if isinstance(found, GlobalOptions):
        return found.as_json
    names = {command.name for command in COMMANDS}
    flags: list[str] = []
    for arg in args:  # the root's own options come before the command's name
        if arg in names:
            break
        if arg in ("--json", "--no-json"):
            flags.append(arg)
    if flags:
        return flags[-1] == "--json"
    return GlobalOptions().as_json


def _usage_error(error: Any, args: Sequence[str]) -> int:
    """A usage error as one line (help stays help), and as JSON with `--json`; its exit code."""
    from pingback_ext.cli.output import error_json, print_json, stderr

    if type(error).__name__ == "NoArgsIsHelpError":  # `pingback subscriber`: show its help
        sys.stderr.write(error.format_message() + "\n")
        return int(error.exit_code)
    ctx = getattr(error, "ctx", None)
    where = ctx.command_path if ctx is not None else "pingback"
    stderr.print(f"{where}: error: {error.format_message()} (see {where} --help)")
    if _wants_json(error, args):
        message = f"{where}: {error.format_message()}"
        print_json(error_json(message, exit_code=int(error.exit_code), kind="UsageError"))
    return int(error.exit_code)


class Commands(TyperGroup):
    """The root group: exactly the commands of COMMANDS, loaded on use; failures end here."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [command.name for command in COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        for command in COMMANDS:
            if command.name == cmd_name:
                return load(command)
        return None

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """A mistyped command names the closest one (Typer does so for subcommands only: the
        root's commands load on use, so they are not in its table)."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.6)
            if close:
                ctx.fail(f"No such command {name!r}. Did you mean {close[0]!r}?")
        return super().resolve_command(ctx, args)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        run = (args, prog_name, complete_var, False, windows_expand_args)
        if not standalone_mode:
            return super().main(*run, **extra)
        try:
            code = super().main(*run, **extra)
        except _ClickException as error:
            code = _usage_error(error, sys.argv[1:] if args is None else args)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: Any) -> Any:
        from pingback_ext.errors import PingbackError
        from pingback_ext.extras import MissingExtraError

        try:
            return super().invoke(ctx)
        except (PingbackError, MissingExtraError, OSError, KeyboardInterrupt) as failure:
            from pingback_ext.cli.failures import report

            if options(ctx).debug:
                from pingback_ext.cli.output import show_traceback

                show_traceback(failure)
            raise typer.Exit(report(failure)) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(version_line())
        raise typer.Exit()


app = typer.Typer(
    name="pingback",
    cls=Commands,
    help="Pingback API toolkit: talk to the API, run the mock, check the contract.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    ctx: typer.Context,
    # Options not given fall back to PINGBACK_API_KEY, PINGBACK_BASE_URL, PINGBACK_DEVELOPER_MODE
    # and PINGBACK_RATE_LIMIT in the client (settings.py), the one reader of those variables: no
    # `envvar=` here, so the CLI and `Pingback()` cannot read one variable two ways (click would
    # take `on` as true, or a blank variable as a value).
    api_key: Annotated[str | None, typer.Option(help="API key. Default: PINGBACK_API_KEY.")] = None,
    base_url: Annotated[
        str | None,
        typer.Option(help="API base URL. Default: PINGBACK_BASE_URL, else Pingback's."),
    ] = None,
    developer_mode: Annotated[
        bool | None,
        typer.Option(
            "--developer-mode/--production",
            help="Use Pingback's developer-mode sandbox (fake data). "
            "Default: PINGBACK_DEVELOPER_MODE (true or false), else production.",
        ),
    ] = None,
    rate_limit: Annotated[
        float | None,
        typer.Option(
            help="Requests per second to pace to; 0 turns pacing off. "
            "Default: PINGBACK_RATE_LIMIT, else 5 (Pingback's limit).",
            min=0,
        ),
    ] = None,
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
    from pingback_ext.cli import output

    ctx.obj = GlobalOptions(
        api_key=api_key,
        base_url=base_url,
        developer_mode=developer_mode,
        rate_limit=rate_limit,
        json_output=json_output,
        debug=debug,
    )
    # Everything shown goes through cli.output: errors as JSON too with --json, log records.
    output.mode.json_errors = ctx.obj.as_json
    ctx.call_on_close(lambda: setattr(output.mode, "json_errors", False))
    ctx.call_on_close(output.route_logging(debug=debug))
