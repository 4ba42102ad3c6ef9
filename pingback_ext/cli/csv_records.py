"""Subscribers from a CSV export, streamed: every row checked, bad rows named by line.

The header names the columns. `email` is required; `name`, `phone`, `status` and
`segmentation_lists` (ids separated by `;` or `|`) are the subscriber's fields; every other
column is a custom field (empty cells are skipped). Each row is checked as it is read, with the
same rules as the spec: the one email rule (pingback_ext.emails, through the client's own
`bodies.create_body`; the mock uses it too), the E.164 pattern the derived spec declares for
phone, the status enum, and no email twice in one file (the later row is bad). An email is one
subscriber exactly as written: the check compares exact strings, as the API, the sync state and
`bulk_upsert` do.

`check()` reads the whole file once before anything is sent (the importer always calls it):
bytes that are not UTF-8 and CSV errors stop the import before its first request, named by the
line of the file where they are (the line as a CSV reader counts them: CR LF, CR or LF).

The file is read with `open(..., newline="")` handed to `csv.reader`, the one way that keeps
quoted line breaks and characters such as U+2028, form feed or NEL inside a cell, and it is never
held whole: `rows()` streams, and the emails seen (for the duplicate check) go to a temporary
SQLite file, so memory stays flat whatever the length of the file.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import re
import sqlite3
import stat
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TextIO

from pingback_ext import bodies, spec
from pingback_ext.errors import InvalidRequestError, PingbackError

STANDARD = {"email", "name", "phone", "status"}
LIST_COLUMNS = {"segmentation_lists", "segmentationlists", "segmentation_list", "lists"}
LIST_SEPARATOR = re.compile(r"[;|]")


class CSVFormatError(InvalidRequestError):
    """The file cannot be read as a subscriber CSV (no header, no email column, not UTF-8, …)."""


class CSVReadError(PingbackError):
    """The machine would not let us read the file (permissions, I/O): a run failure."""


@dataclass(frozen=True)
class Row:
    """One good row: its first line in the file, its cells, and the record to upsert."""

    line: int
    cells: dict[str, str]
    record: dict[str, Any]


@dataclass(frozen=True)
class BadRow:
    line: int
    cells: dict[str, str]
    problem: str


@cache
def _phone_pattern() -> re.Pattern[str]:
    phone = spec.derived_spec()["components"]["schemas"]["SubscriberCreate"]["properties"]["phone"]
    # The spec's pattern is ECMA-262: \d means ASCII digits, and $ does not accept a newline.
    return re.compile(phone["pattern"].replace(r"\d", "[0-9]").removesuffix("$") + r"\Z")


def _column(name: str) -> str:
    """Standard columns match in any case; custom field labels keep theirs."""
    name = name.strip()
    return name.lower() if name.lower() in STANDARD | LIST_COLUMNS else name


def _trim(value: str) -> str:
    """Spaces and tabs around a cell go (spreadsheets add them); every other character is data.

    `str.strip()` would also eat U+2028, form feed, NEL and the like at either end of a name.
    """
    return value.strip(" \t")


def _record(cells: dict[str, str], lists: Sequence[str]) -> dict[str, Any]:
    record: dict[str, Any] = {"email": _trim(cells.get("email", ""))}
    custom: dict[str, str] = {}
    row_lists: list[str] = []
    for column, value in cells.items():
        value = _trim(value)
        if column == "email" or not value:
            continue
        if column in STANDARD:
            record[column] = value
        elif column in LIST_COLUMNS:
            row_lists += [_trim(item) for item in LIST_SEPARATOR.split(value) if _trim(item)]
        else:
            custom[column] = value
    if custom:
        record["custom_fields"] = custom
    all_lists = list(dict.fromkeys([*row_lists, *lists]))
    if all_lists:
        record["segmentation_lists"] = all_lists
    return record


def _problem(record: dict[str, Any]) -> str | None:
    email = record["email"]
    if not email:
        return "email is empty"
    try:  # the client's own checks, the email rule first
        bodies.create_body(email, {k: v for k, v in record.items() if k != "email"})
    except InvalidRequestError as exc:
        return str(exc)
    if "phone" in record and not _phone_pattern().match(record["phone"]):
        return f"phone {record['phone']!r} is not E.164 (like +5511999999999)"
    return None


def _line_breaks(raw: bytes) -> int:
    """Line ends as a CSV reader counts them: CR LF, a lone CR, or LF."""
    return raw.count(b"\n") + raw.count(b"\r") - raw.count(b"\r\n")


class _SeenEmails:
    """Emails already read, with their lines, in a private temporary SQLite file.

    A dict would grow ~120 bytes a row (24 MB for 200,000 rows); this stays flat.
    """

    def __init__(self) -> None:
        # "": a temporary on-disk database, gone when closed. Any thread may close it: a
        # generator abandoned mid-file is finalized wherever the garbage collector runs.
        self._db = sqlite3.connect("", check_same_thread=False)
        self._db.execute("PRAGMA cache_size=-2000")  # at most ~2 MB of pages in memory
        self._db.execute("CREATE TABLE seen (email TEXT PRIMARY KEY, line INTEGER NOT NULL)")

    def first_line(self, email: str, line: int) -> int | None:
        """The line where `email` (exactly) was first seen, or None (and remember `line`)."""
        found = self._db.execute("SELECT line FROM seen WHERE email = ?", (email,)).fetchone()
        if found is not None:
            return int(found[0])
        self._db.execute("INSERT INTO seen VALUES (?, ?)", (email, line))
        return None

    def close(self) -> None:
        self._db.close()


class CSVFile:
    """A subscriber CSV: the header is checked when it is opened, the rows when they stream."""

    def __init__(self, path: Path, segmentation_lists: Sequence[str] = ()) -> None:
        self.path = path
        self.lists = list(segmentation_lists)
        with contextlib.suppress(OSError):  # a missing file is reported by _open
            kind = path.stat().st_mode
            if not stat.S_ISREG(kind) and not stat.S_ISDIR(kind):
                raise CSVFormatError(
                    f"{path}: not a regular file (a pipe or a device); the import reads the "
                    "file more than once (a check, then the rows): save it to a file first"
                )  # opening a FIFO would wait for a writer; a pipe read twice loses rows
        with self._open() as handle:
            header = self._next(csv.reader(handle))
        if not header or not any(cell.strip() for cell in header):
            raise CSVFormatError(f"{path}: empty file; the first line must name the columns")
        self.columns = [_column(cell) for cell in header]
        if "email" not in self.columns:
            raise CSVFormatError(f"{path}: no 'email' column in the header {self.columns}")
        if len(set(self.columns)) != len(self.columns):  # labels are exact, as the API's
            raise CSVFormatError(
                f"{path}: a column name appears twice in the header {self.columns}"
            )

    def _open(self) -> TextIO:
        try:
            return self.path.open(encoding="utf-8-sig", newline="")
        except FileNotFoundError:
            raise CSVFormatError(f"{self.path}: no such file") from None
        except IsADirectoryError:
            raise CSVFormatError(f"{self.path}: is a directory, not a CSV file") from None
        except OSError as exc:
            raise CSVReadError(f"{self.path}: cannot read: {exc.strerror or exc}") from None

    def _next(self, reader: Any) -> list[str] | None:
        """The reader's next row; decoding and CSV errors become CSVFormatError with the line."""
        start = reader.line_num + 1  # where the row starts (a quoted cell may span lines)
        try:
            row: list[str] | None = next(reader, None)
        except UnicodeDecodeError:
            line, reason = self._undecodable()
            raise CSVFormatError(f"{self.path}:{line}: not UTF-8 text ({reason})") from None
        except csv.Error as exc:
            raise CSVFormatError(f"{self.path}:{start}: {exc}") from None
        except OSError as exc:
            raise CSVReadError(f"{self.path}: cannot read: {exc.strerror or exc}") from None
        return row

    def _undecodable(self) -> tuple[int, str]:
        """The line of the first byte that is not UTF-8, and why.

        The text reader decodes ahead in blocks, so its line count says nothing about where the
        byte is: read the bytes again, a line at a time (no UTF-8 sequence holds a newline byte).
        """
        line = 1
        try:
            with self.path.open("rb") as handle:
                for number, raw in enumerate(handle):
                    if number == 0:
                        raw = raw.removeprefix(codecs.BOM_UTF8)
                    try:
                        raw.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        return line + _line_breaks(raw[: exc.start]), str(exc.reason)
                    line += _line_breaks(raw)
        except OSError as exc:
            raise CSVReadError(f"{self.path}: cannot read: {exc.strerror or exc}") from None
        return line, "the file changed while it was read"

    def check(self) -> int:
        """Read the whole file; raise on bytes that are not UTF-8 and on CSV errors (with the
        file's line). Returns the data rows (blank lines aside). Rows are checked by `rows()`."""
        rows = 0
        with self._open() as handle:
            reader = csv.reader(handle)
            self._next(reader)
            while (values := self._next(reader)) is not None:
                rows += any(_trim(cell) for cell in values)
        return rows

    def rows(self) -> Generator[Row | BadRow, None, None]:
        """Every data row in file order, good or bad (with the line where it starts)."""
        columns = self.columns
        with self._open() as handle, contextlib.closing(_SeenEmails()) as seen:
            reader = csv.reader(handle)
            self._next(reader)
            while True:
                line = reader.line_num + 1
                values = self._next(reader)
                if values is None:
                    return
                if not any(_trim(cell) for cell in values):
                    continue  # blank line
                cells = {c: v for c, v in zip(columns, values, strict=False)}
                if len(values) != len(columns):
                    problem = f"has {len(values)} cells where the header has {len(columns)}"
                    yield BadRow(line, cells, problem)
                    continue
                record = _record(cells, self.lists)
                found = _problem(record)
                if found is None:
                    first = seen.first_line(record["email"], line)
                    if first is not None:
                        found = f"email {record['email']!r} is already on line {first}"
                if found is not None:
                    yield BadRow(line, cells, found)
                    continue
                yield Row(line, cells, record)
