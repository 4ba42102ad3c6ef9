"""The `pingback` command line: one Typer app (`cli.app`), one module per command.

Global options (before the command) say which API to talk to and how to print:
`pingback --developer-mode --json subscriber get ana@example.com`.

`COMMANDS` is the one list of commands: `cli.app` registers exactly these, loading a command's
module only when it runs (so `pingback --version` starts fast), and a command whose extra is
not installed says which one to install instead of failing to import. This module imports
nothing beyond the standard library, so the entry point works in a client-only install.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from pingback_ext import extras


@dataclass(frozen=True)
class Command:
    """A top-level command: its name, where it lives and the extra it needs."""

    name: str
    #: `module:attribute`: a `typer.Typer` (a group of commands) or a command function.
    target: str
    extra: str = "cli"
    #: click context settings for a command function.
    context_settings: dict[str, Any] = field(default_factory=dict)

    @property
    def module(self) -> str:
        return self.target.partition(":")[0]

    @property
    def attribute(self) -> str:
        return self.target.partition(":")[2]


COMMANDS: tuple[Command, ...] = (
    Command("subscriber", "pingback_ext.cli.subscriber:subscriber_app"),
    Command("segment", "pingback_ext.cli.segment:segment_app"),
    Command("import", "pingback_ext.cli.importer:import_csv"),
    Command("mock", "pingback_ext.cli.mock:mock", extra="mock"),
    Command(
        "contract",
        "pingback_ext.cli.contract:contract",
        extra="contract",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": False},
    ),
)


def _requested_extra(argv: list[str]) -> str:
    """The extra the command in `argv` needs (the CLI's own when none is named)."""
    by_name = {command.name: command.extra for command in COMMANDS}
    return next((by_name[arg] for arg in argv if arg in by_name), "cli")


def main() -> None:
    """Console-script entry point: run the CLI, or name the extra to install in one line."""
    extra = _requested_extra(sys.argv[1:])
    if extras.missing_modules("cli"):
        hint = extras.install_hint(extra)
        sys.exit(f"pingback: the command line needs the {extra} extra: {hint}")
    from pingback_ext.cli.app import app

    app(prog_name="pingback")
