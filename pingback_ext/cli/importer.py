"""`pingback import FILE.csv`: check every row, then upsert at the rate limit, resumably.

Bad rows are reported with their line numbers before anything is sent; the good rows are then
upserted through `Subscribers.bulk_upsert` with a journal beside the file, so an interrupted
import continues with `--resume`. Rows that were bad or failed go to a failures CSV.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from pingback_ext import csv_records
from pingback_ext.bulk import BulkReport, RecordOutcome
from pingback_ext.cli.context import options
from pingback_ext.cli.failures import EXIT_FAILED, EXIT_USAGE
from pingback_ext.cli.output import print_json, stderr, stdout


def _failures_csv(
    path: Path,
    records: csv_records.CSVRecords,
    failed: list[tuple[csv_records.Row, RecordOutcome]],
) -> None:
    extra = ["line", "problem", "error_code", "request_id"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*extra, *records.columns])
        writer.writeheader()
        for bad in records.bad:
            writer.writerow({"line": bad.line, "problem": bad.problem, **bad.cells})
        for row, outcome in failed:
            writer.writerow(
                {
                    "line": row.line,
                    "problem": outcome.reason,
                    "error_code": outcome.error_code or "",
                    "request_id": outcome.request_id or "",
                    **row.cells,
                }
            )


def _progress() -> Progress:
    return Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=stderr,
        disable=not stderr.is_terminal,
    )


def import_csv(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV with a header row and an email column.")],
    segmentation_list: Annotated[
        list[str] | None,
        typer.Option("--segmentation-list", help="Add every row to this list (repeatable)."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted import from its journal.")
    ] = False,
    journal: Annotated[
        Path | None, typer.Option(help="Journal file (default: FILE.journal).")
    ] = None,
    failures: Annotated[
        Path | None, typer.Option(help="Where to write rows that failed (FILE.failures.csv).")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Send nothing if any row is bad.")
    ] = False,
) -> None:
    """Import subscribers from a CSV file (create or update each row)."""
    opts = options(ctx)
    journal_path = journal or file.with_name(file.name + ".journal")
    failures_path = failures or file.with_name(file.stem + ".failures.csv")
    if journal_path.exists() and not resume:
        stderr.print(
            f"error: {journal_path} exists from an earlier import; pass --resume to continue it "
            "(or delete it to start over)"
        )
        raise typer.Exit(EXIT_USAGE)
    records = csv_records.read(file, segmentation_list or [])
    for bad in records.bad:
        stderr.print(f"{file}:{bad.line}: {bad.problem}")
    if records.bad:
        stderr.print(f"{len(records.bad)} bad row(s) of {len(records.bad) + len(records.rows)}")
        if strict:
            raise typer.Exit(EXIT_FAILED)
    report: BulkReport
    with opts.client() as pb, _progress() as progress:
        task = progress.add_task("import", total=len(records.rows))
        try:
            report = pb.subscribers.bulk_upsert(
                (row.record for row in records.rows),
                journal=journal_path,
                on_progress=lambda _outcome, _report: progress.advance(task),
            )
        except KeyboardInterrupt:
            stderr.print(f"interrupted; run again with --resume to continue ({journal_path})")
            raise typer.Exit(130) from None
    failed = [(records.rows[o.index], o) for o in report.failed]
    if failed or records.bad:
        _failures_csv(failures_path, records, failed)
    else:
        journal_path.unlink(missing_ok=True)  # done: a later import of this file starts afresh
    summary = {
        "rows": len(records.rows) + len(records.bad),
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "failed": len(failed),
        "bad": len(records.bad),
        "resumed": report.resumed,
        "failures": str(failures_path) if failed or records.bad else None,
    }
    if opts.as_json:
        print_json(summary)
    else:
        for row, outcome in failed:
            stderr.print(f"{file}:{row.line}: {outcome.reason}")
        stdout.print(
            f"{summary['rows']} rows: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {len(failed)} failed, {len(records.bad)} bad"
            + (f" ({report.resumed} done by an earlier run)" if report.resumed else "")
        )
        if summary["failures"]:
            stdout.print(f"rows to fix: {failures_path}")
    if failed or records.bad:
        raise typer.Exit(EXIT_FAILED)
