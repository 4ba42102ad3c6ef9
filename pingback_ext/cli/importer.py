"""`pingback import FILE.csv`: stream the rows, upsert what changed since the last sync.

The whole file is read once before the first request (bytes that are not UTF-8 or a CSV error
stop the import before anything is sent, whatever the terminal). Each row is then checked as it
is read (bad ones are reported with their line and go to a failures CSV) and the good ones
stream into `Subscribers.bulk_upsert` with a sync state: by default one SQLite file per target
(base URL, API key, developer mode) in the user's state directory, so tomorrow's export, under
any file name, sends only what changed. The state is also how an interrupted import resumes:
the same command again redoes nothing that Pingback accepted. A state that cannot be used stops
the import before its first request; one that fails later stops it with one line saying what
was sent (exit 1).
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Generator
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from pingback_ext import sync_state
from pingback_ext.bulk import FATAL_STATUSES, BulkReport, RecordOutcome
from pingback_ext.cli.context import options
from pingback_ext.cli.csv_records import BadRow, CSVFile, CSVFormatError, CSVReadError, Row
from pingback_ext.cli.failures import EXIT_FAILED, EXIT_INTERRUPTED, describe
from pingback_ext.cli.output import error, print_json, stderr, stdout
from pingback_ext.errors import APIError, RateLimiterError, SyncStateError, TransportError

CONTINUE = "run the same command to continue"


class FailuresFile:
    """Rows to fix, written as they are found: bad rows and rows Pingback refused."""

    EXTRA = ("line", "problem", "error_code", "request_id")

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.columns = columns
        self.rows = 0
        self._handle: IO[str] | None = None
        self._writer: csv.DictWriter[str] | None = None

    def add(self, line: int, cells: dict[str, str], problem: str, **extra: str) -> None:
        if self._writer is None:
            self._handle = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.DictWriter(self._handle, fieldnames=[*self.EXTRA, *self.columns])
            self._writer.writeheader()
        self._writer.writerow({**cells, "line": line, "problem": problem, **extra})
        self.rows += 1

    def close(self, *, finished: bool) -> None:
        if self._handle is not None:
            self._handle.close()
        elif finished and self.path.exists():
            self.path.unlink()  # an earlier run's rows to fix are fixed now


def _progress(total: int | None) -> tuple[Progress, TaskID]:
    progress = Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=stderr,
        disable=not stderr.is_terminal,
        transient=False,
    )
    return progress, progress.add_task("import", total=total)


class Importer:
    """One import: rows in from the file, records out to bulk_upsert, outcomes back per row."""

    def __init__(
        self, source: CSVFile, failures: FailuresFile, progress: Progress, task: TaskID
    ) -> None:
        self.source = source
        self.failures = failures
        self.progress = progress
        self.task = task
        self.bad = 0
        self.rows = 0
        self.report: BulkReport | None = None  # so far
        self._in_flight: dict[int, Row] = {}

    def records(self) -> Generator[dict[str, Any], None, None]:
        """The good rows' records, in file order; bad rows are reported on the way."""
        index = 0
        with contextlib.closing(self.source.rows()) as rows:  # closed with this generator
            for item in rows:
                self.rows += 1
                if isinstance(item, BadRow):
                    self.bad += 1
                    stderr.print(f"{self.source.path}:{item.line}: {item.problem}")
                    self.failures.add(item.line, item.cells, item.problem)
                    self.progress.advance(self.task)
                    continue
                self._in_flight[index] = item
                index += 1
                yield item.record

    def finished(self, outcome: RecordOutcome, report: BulkReport) -> None:
        row = self._in_flight.pop(outcome.index)
        self.report = report
        self.progress.advance(self.task)
        if outcome.reason:
            stderr.print(f"{self.source.path}:{row.line}: {outcome.reason}")
        if outcome.action == "failed":
            self.failures.add(
                row.line,
                row.cells,
                outcome.reason or "failed",
                error_code=outcome.error_code or "",
                request_id=outcome.request_id or "",
            )

    def done_so_far(self, failure: SyncStateError | None = None) -> str:
        """What was sent before a run stopped, for its one line."""
        report = self.report
        if report is None and (failure is None or failure.email is None):
            return "nothing was sent"
        said = "no row was done"
        if report is not None:
            said = (
                f"{report.total} row(s) done before it ({report.created} created, "
                f"{report.updated} updated, {report.unchanged} unchanged, {report.failures} "
                f"failed; {report.requests} requests)"
            )
        if failure is not None and failure.email is not None:
            line = next((row.line for row in self._in_flight.values()
                         if row.record["email"] == failure.email), None)  # fmt: skip
            where = f"line {line}, " if line is not None else ""
            said += (
                f"; the row {where}{failure.email!r}, was accepted by Pingback but not "
                "recorded in the state (the next run reads it back rather than create it twice)"
            )
        return said


def import_csv(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV with a header row and an email column.")],
    segmentation_list: Annotated[
        list[str] | None,
        typer.Option("--segmentation-list", help="Add every row to this list (repeatable)."),
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            help="Sync state file (default: one per API target in $XDG_STATE_HOME/pingback/)."
        ),
    ] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Compare every row with Pingback (ignore what the state says)."
        ),
    ] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="No effect: every import continues from its state.")
    ] = False,
    failures: Annotated[
        Path | None, typer.Option(help="Where to write rows to fix (FILE.failures.csv).")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Send nothing if any row is bad.")
    ] = False,
) -> None:
    """Import subscribers from a CSV file: create new ones, update what changed."""
    opts = options(ctx)
    source = CSVFile(file, segmentation_list or [])
    total = source.check()  # the whole file, before the first request; also the bar's total
    if strict:
        bad = [row for row in source.rows() if isinstance(row, BadRow)]
        for row in bad:
            stderr.print(f"{file}:{row.line}: {row.problem}")
        if bad:
            stderr.print(f"{len(bad)} bad row(s); --strict: nothing was sent")
            raise typer.Exit(EXIT_FAILED)
    sink = FailuresFile(failures or file.with_name(file.stem + ".failures.csv"), source.columns)
    progress, task = _progress(total)
    with opts.client() as pb, progress:
        state_path = state or sync_state.default_path(pb.settings)
        run = Importer(source, sink, progress, task)
        records = run.records()
        try:
            report = pb.subscribers.bulk_upsert(
                records,
                state=state_path,
                full=full,
                on_progress=run.finished,
                keep_outcomes=False,
            )
        except KeyboardInterrupt:
            sink.close(finished=False)
            progress.stop()
            stderr.print(f"interrupted; every row Pingback accepted is in the state: {CONTINUE}")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except SyncStateError as failure:  # before the first request, or after some rows
            sink.close(finished=False)
            progress.stop()
            error(f"{failure}; {run.done_so_far(failure)}", failure)
            raise typer.Exit(EXIT_FAILED) from None
        except (CSVFormatError, CSVReadError) as failure:  # the file changed after its check
            sink.close(finished=False)
            progress.stop()
            error(f"{failure}; stopped, {run.done_so_far()}: {CONTINUE}", failure)
            raise typer.Exit(EXIT_FAILED) from None
        except (APIError, TransportError, RateLimiterError) as failure:  # the run stopped
            sink.close(finished=False)
            progress.stop()
            refused = isinstance(failure, APIError) and failure.status_code in FATAL_STATUSES
            then = "check the API key, then " if refused else ""
            error(f"{describe(failure)}; stopped, the state keeps every accepted row: "
                  f"{then}{CONTINUE}", failure)  # fmt: skip
            raise typer.Exit(EXIT_FAILED) from None
        finally:
            records.close()  # the file and its duplicate check, here and now, whatever stopped
    sink.close(finished=True)
    summary = {
        "rows": run.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "failed": report.failures,
        "bad": run.bad,
        "requests": report.requests,
        "state": str(state_path),
        "failures": str(sink.path) if sink.rows else None,
    }
    if opts.as_json:
        print_json(summary)
    else:
        stdout.print(
            f"{run.rows} rows: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.failures} failed, {run.bad} bad "
            f"({report.requests} requests)"
        )
        if sink.rows:
            stdout.print(f"rows to fix: {sink.path}")
    if sink.rows:
        raise typer.Exit(EXIT_FAILED)
