"""`pingback contract`: does a Pingback server still honour the contract? Exit 0 only if so.

Runs the pytest suite in contract_tests/server (found beside the package in a checkout, or
via $PINGBACK_CONTRACT_SUITE) in this process, hands it the target through a plugin object,
and prints the ledger's summary: cases and failed checks per operation, then a reproduction
(API key redacted) and the requestId of every failure. The target comes only from this
command's options and PINGBACK_CONTRACT_* variables, never from PINGBACK_BASE_URL, so a
shell set up for production cannot turn a local check into live traffic by accident.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pingback_ext.cli.failures import usage_error
from pingback_ext.contract_report import Ledger
from pingback_ext.contract_target import DEFAULT_MAX_EXAMPLES, ContractTarget, suite_path
from pingback_ext.errors import ConfigurationError

DEFAULT_REPORT_DIR = Path("reports/contract")


class ContractPlugin:
    """Found by its `name`; the suite's conftest reads `target` and sets `ledger`."""

    name = "pingback-contract"

    def __init__(self, target: ContractTarget) -> None:
        self.target = target
        self.ledger: Ledger | None = None


def _redact_file(path: Path, ledger: Ledger) -> None:
    """JUnit holds schemathesis's failure text, which can quote a leaked key: redact it."""
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        path.write_text(ledger.redact(text), encoding="utf-8")


def contract(
    ctx: typer.Context,
    base_url: Annotated[
        str | None,
        typer.Option(
            envvar="PINGBACK_CONTRACT_BASE_URL",
            help="Server to test. Default: the embedded mock on 127.0.0.1.",
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="PINGBACK_CONTRACT_API_KEY",
            help="API key for --base-url (prefer the variable: arguments show in `ps`).",
        ),
    ] = None,
    segmentation_list: Annotated[
        list[str] | None,
        typer.Option(
            "--segmentation-list",
            help="A segmentation list id that exists on the target (repeatable).",
        ),
    ] = None,
    developer_mode: Annotated[
        bool | None,
        typer.Option(
            "--developer-mode/--no-developer-mode",
            envvar="PINGBACK_CONTRACT_DEVELOPER_MODE",
            help="Send x-developer-mode: true. Always on for live targets (cannot be turned off).",
        ),
    ] = None,
    max_examples: Annotated[
        int, typer.Option(help="Generated cases per operation.")
    ] = DEFAULT_MAX_EXAMPLES,
    stateful: Annotated[
        bool | None,
        typer.Option(
            "--stateful/--no-stateful",
            help="Stateful and read-after-write checks. Default: on for loopback, off for live.",
        ),
    ] = None,
    rate_limit: Annotated[
        str | None,
        typer.Option(
            help="Pace requests, e.g. '5/s'. Default: 5/s for live targets, none on loopback."
        ),
    ] = None,
    burst: Annotated[
        int | None, typer.Option(help="Burst for --rate-limit (default 2 live, 1 local).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for generated data.")] = 0,
    junit: Annotated[
        Path | None,
        typer.Option(help="JUnit XML report path. Default: REPORT_DIR/junit.xml."),
    ] = None,
    report_dir: Annotated[
        Path,
        typer.Option(help="Where summary.json and one reproduction file per failure go."),
    ] = DEFAULT_REPORT_DIR,
) -> None:
    """Check a Pingback server against the contract (the embedded mock by default).

    Live (non-loopback) targets always get `x-developer-mode: true`. Arguments after `--`
    go to pytest (e.g. `-- -k auth -x`).
    """
    try:
        target = ContractTarget.resolve(
            base_url=base_url,
            api_key=api_key,
            segmentation_lists=segmentation_list or (),
            developer_mode=developer_mode,
            stateful=stateful,
            rate_limit=rate_limit,
            burst=burst,
            max_examples=max_examples,
            seed=seed,
            report_dir=report_dir,
        )
        suite = suite_path()
    except ConfigurationError as error:
        raise usage_error("contract", str(error)) from None

    import pytest

    junit_path = junit or report_dir / "junit.xml"
    args = [
        str(suite),
        f"--rootdir={suite.parents[1]}",
        "-q",
        "--no-header",
        "--tb=no",
        "-rN",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit_path}",
        *ctx.args,
    ]
    plugin = ContractPlugin(target)
    typer.echo(f"pingback contract: {target.describe()[0]}")
    exit_code = pytest.main(args, plugins=[plugin])
    ledger = plugin.ledger
    if ledger is None:
        raise usage_error(
            "contract", f"the contract suite did not start (pytest exit code {int(exit_code)})"
        )
    if int(exit_code) not in (0, 1) and ledger.passed:
        ledger.record_error(f"pytest exited with code {int(exit_code)}")
    _redact_file(junit_path, ledger)
    typer.echo(ledger.summary(header=target.describe()))
    typer.echo(f"reports: {report_dir}/ (JUnit: {junit_path})")
    if int(exit_code) != 0 or not ledger.passed:
        raise typer.Exit(code=1)
