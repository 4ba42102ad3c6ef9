"""Subscribers from a CSV export: read, check every row, and say which lines are bad.

The header names the columns. `email` is required; `name`, `phone`, `status` and
`segmentation_lists` (ids separated by `;` or `|`) are the subscriber's fields; every other
column is a custom field (empty cells are skipped). Rows are checked here, before anything is
sent, with the same rules as the spec: email syntax (email-validator), the E.164 pattern the
derived spec declares for phone, the status enum, and no email twice in one file.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email

from pingback_ext import bodies, spec
from pingback_ext.errors import InvalidRequestError

STANDARD = {"email", "name", "phone", "status"}
LIST_COLUMNS = {"segmentation_lists", "segmentationlists", "segmentation_list", "lists"}
LIST_SEPARATOR = re.compile(r"[;|]")


class CSVFormatError(InvalidRequestError):
    """The file cannot be read as a subscriber CSV at all (no header, no email column, …)."""


@dataclass(frozen=True)
class Row:
    """One good row: its line in the file, its cells, and the record to upsert."""

    line: int
    cells: dict[str, str]
    record: dict[str, Any]


@dataclass(frozen=True)
class BadRow:
    line: int
    cells: dict[str, str]
    problem: str


@dataclass
class CSVRecords:
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


def _phone_pattern() -> re.Pattern[str]:
    phone = spec.derived_spec()["components"]["schemas"]["SubscriberCreate"]["properties"]["phone"]
    # The spec's pattern is ECMA-262: \d means ASCII digits, and $ does not accept a newline.
    return re.compile(phone["pattern"].replace(r"\d", "[0-9]").removesuffix("$") + r"\Z")


def _column(name: str) -> str:
    """Standard columns match in any case; custom field labels keep theirs."""
    name = name.strip()
    return name.lower() if name.lower() in STANDARD | LIST_COLUMNS else name


def _record(cells: dict[str, str], lists: Sequence[str]) -> dict[str, Any]:
    record: dict[str, Any] = {"email": cells.get("email", "").strip()}
    custom: dict[str, str] = {}
    row_lists: list[str] = []
    for column, value in cells.items():
        value = value.strip()
        if column == "email" or not value:
            continue
        if column in STANDARD:
            record[column] = value
        elif column in LIST_COLUMNS:
            row_lists += [item.strip() for item in LIST_SEPARATOR.split(value) if item.strip()]
        else:
            custom[column] = value
    if custom:
        record["custom_fields"] = custom
    all_lists = list(dict.fromkeys([*row_lists, *lists]))
    if all_lists:
        record["segmentation_lists"] = all_lists
    return record


def _problem(record: dict[str, Any], phone: re.Pattern[str]) -> str | None:
    email = record["email"]
    if not email:
        return "email is empty"
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        return f"email {email!r} is not valid: {exc}"
    if "phone" in record and not phone.match(record["phone"]):
        return f"phone {record['phone']!r} is not E.164 (like +5511999999999)"
    try:
        bodies.create_body(email, {k: v for k, v in record.items() if k != "email"})
    except InvalidRequestError as exc:
        return str(exc)
    return None


def read(path: Path, segmentation_lists: Sequence[str] = ()) -> CSVRecords:
    """Every row of the file, sorted into good rows and bad rows (with line numbers)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CSVFormatError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise CSVFormatError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    reader = csv.reader(text.splitlines(keepends=True))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise CSVFormatError(f"{path}: empty file; the first line must name the columns")
    columns = [_column(cell) for cell in header]
    if "email" not in columns:
        raise CSVFormatError(f"{path}: no 'email' column in the header {columns}")
    if len(set(c.lower() for c in columns)) != len(columns):
        raise CSVFormatError(f"{path}: a column name appears twice in the header {columns}")
    phone = _phone_pattern()
    result = CSVRecords(columns)
    seen: dict[str, int] = {}
    for values in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in values):
            continue  # blank line
        cells = {_column(c): v for c, v in zip(columns, values, strict=False)}
        if len(values) != len(columns):
            problem = f"has {len(values)} cells where the header has {len(columns)}"
            result.bad.append(BadRow(line, cells, problem))
            continue
        record = _record(cells, segmentation_lists)
        found = _problem(record, phone)
        key = record["email"].lower()
        if found is None and key in seen:
            found = f"email {record['email']!r} is already on line {seen[key]}"
        if found is not None:
            result.bad.append(BadRow(line, cells, found))
            continue
        seen[key] = line
        result.rows.append(Row(line, cells, record))
    return result
