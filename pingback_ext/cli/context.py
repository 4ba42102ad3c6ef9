"""What the global options say, and the client and printer they imply."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import typer

from pingback_ext.client import Pingback
from pingback_ext.settings import NOT_GIVEN


@dataclass(frozen=True)
class GlobalOptions:
    api_key: str | None = None
    base_url: str | None = None
    developer_mode: bool | None = None
    rate_limit: float | None = None  # None: not given (the client reads PINGBACK_RATE_LIMIT)
    json_output: bool | None = None
    debug: bool = False

    @property
    def as_json(self) -> bool:
        return self.json_output if self.json_output is not None else not sys.stdout.isatty()

    def client(self) -> Pingback:
        # --debug's log records are shown by the root command (cli.output.route_logging).
        return Pingback(
            api_key=self.api_key,
            base_url=self.base_url,
            developer_mode=self.developer_mode,
            rate_limit=NOT_GIVEN if self.rate_limit is None else self.rate_limit,
        )


def options(ctx: typer.Context) -> GlobalOptions:
    found = ctx.find_root().obj
    return found if isinstance(found, GlobalOptions) else GlobalOptions()
