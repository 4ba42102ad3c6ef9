"""`pingback import` under attack, second round (issue 21): state files that cannot be used, a
state that forgot what Pingback holds, bad bytes late in the file, one email rule, one identity.
Each failure is one line and an exit code (1: the machine or the server said no, 2: the
command names the wrong thing), and comes before the first request when it can."""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import os
import re
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pingback_ext import bodies, sync_state
from pingback_ext.cli.csv_records import CSVFile, CSVFormatError, Row
from pingback_ext.errors import InvalidRequestError
from pingback_ext.mock import RunningMock
from pingback_ext.mock.validation import is_valid_email as mock_accepts
from tests.cli.test_import import good_rows, summary, write_rows
from tests.hostile.sqlite_files import (
    FlakySQLite,
    damage_page,
    dangling_symlink,
    fingerprint,
    read_only,
    unrelated_database,
)
from tests.hostile.text import EMAIL_EDGES, csv_fields, email_addresses
from tests.resilience.recorder import Recorder

Recorded = tuple[RunningMock, Recorder]


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


# ----------------------------------------------------------------------------- 4: unusable state


def test_a_read_only_state_stops_before_the_first_request(
    run: Any, tmp_path: Path, recorded: Recorded
) -> None:
    source, state = tmp_path / "export.csv", tmp_path / "s.sqlite"
    write_rows(source, good_rows(3))
    assert run("--json", "import", str(source), "--state", str(state)).exit_code == 0
    write_rows(source, good_rows(6))
    sent = recorded[1].count()
    with read_only(state):
        result = run("--json", "import", str(source), "--state", str(state))
    assert result.exit_code == 1 and recorded[1].count() == sent
    line = one_line(result.stderr)
    assert "cannot open the sync state" in line and "nothing was sent" in line


def test_a_state_damaged_past_its_header_stops_before_the_first_request(
    run: Any, tmp_path: Path, recorded: Recorded
) -> None:
    source, state = tmp_path / "export.csv", tmp_path / "s.sqlite"
    rows = good_rows(300)
    write_rows(source, rows)
    assert run("--json", "import", str(source), "--state", str(state)).exit_code == 0
    damage_page(state, -1)
    rows[299][1] = "Renamed"  # the damaged page holds the last rows
    write_rows(source, rows)
    sent = recorded[1].count()
    result = run("--json", "import", str(source), "--state", str(state))
    assert result.exit_code == 1 and recorded[1].count() == sent
    line = one_line(result.stderr)
    assert "is damaged" in line and "move it away" in line and "nothing was sent" in line


def test_a_state_that_fails_mid_run_says_in_one_line_what_was_sent(
    run: Any, tmp_path: Path, recorded: Recorded
) -> None:
    mock, recorder = recorded
    source, state = tmp_path / "export.csv", tmp_path / "s.sqlite"
    write_rows(source, good_rows(8))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sync_state, "sqlite3", FlakySQLite(fail_after=4))  # open + 3 rows
        result = run("--json", "import", str(source), "--state", str(state))
    assert result.exit_code == 1
    line = one_line(result.stderr)
    assert "cannot write the sync state" in line and "disk I/O error" in line
    # Which row finished fourth depends on how many requests are in flight: read it back.
    done = re.search(r"(\d+) row\(s\) done before it \((\d+) created", line)
    named = re.search(r"the row line (\d+), '(user(\d+)@example\.com)', was accepted", line)
    assert done is not None and named is not None, line
    assert int(done[1]) == int(done[2]) and int(named[1]) == int(named[3]) + 2
    with contextlib.closing(sqlite3.connect(state)) as db:
        kept = {row[0] for row in db.execute("SELECT email FROM accepted")}
    assert len(kept) == 3 and named[2] not in kept
    # Rows are reported in input order, and recorded as they land: with two in flight a slow
    # row can be overtaken by several (seen: rows 0, 2 and 3 recorded, row 1 still on its
    # way). "Done before it" counts the reported rows: the recorded prefix of the file.
    prefix = next(i for i in itertools.count() if f"user{i:03d}@example.com" not in kept)
    assert int(done[1]) == prefix
    assert run("--json", "subscriber", "get", named[2]).exit_code == 0  # Pingback has it
    again = run("--json", "import", str(source), "--state", str(state))
    assert again.exit_code == 0 and summary(again)["failed"] == 0
    assert mock.app.store.count_subscribers() == 8
    assert sum(1 for seen in recorder.log if seen.status == 201) == 8  # none created twice


# ----------------------------------------------------------------------------- 7, 8: memory


def test_a_file_without_a_column_does_not_make_the_state_forget_it(
    run: Any, tmp_path: Path, recorded: Recorded
) -> None:
    source = tmp_path / "export.csv"
    write_rows(source, good_rows(3))  # plan=gold, list-1
    run("--json", "import", str(source))
    write_rows(source, [row[:2] for row in good_rows(3)], header=["email", "name"])
    assert summary(run("--json", "import", str(source)))["unchanged"] == 3
    write_rows(source, good_rows(3))
    sent = recorded[1].count()
    for _ in range(2):
        again = run("--json", "import", str(source))
        assert "not applied" not in again.stderr, again.stderr
        assert (summary(again)["unchanged"], summary(again)["requests"]) == (3, 0)
    assert recorded[1].count() == sent


def test_lists_the_file_leaves_out_are_still_known_to_the_state(
    run: Any, tmp_path: Path, recorded: Recorded
) -> None:
    source = tmp_path / "export.csv"
    source.write_text("email,segmentation_lists\nl@example.com,list-1;list-2\n", encoding="utf-8")
    run("--json", "import", str(source))
    source.write_text("email,segmentation_lists\nl@example.com,list-1\n", encoding="utf-8")
    assert summary(run("--json", "import", str(source)))["requests"] == 0
    source.write_text("email,segmentation_lists\nl@example.com,list-1;list-2\n", encoding="utf-8")
    again = run("--json", "import", str(source))
    assert (summary(again)["unchanged"], summary(again)["updated"]) == (1, 0)
    assert summary(again)["requests"] == 0


# ----------------------------------------------------------------------------- 9: the file


def test_a_bad_byte_late_in_the_file_stops_the_import_before_the_first_request(
    run: Any, tmp_path: Path, recorded: Recorded
) -> None:
    """stderr is not a terminal here (as under cron): the file is checked all the same."""
    source = tmp_path / "export.csv"
    write_rows(source, good_rows(2500))
    lines = source.read_bytes().split(b"\r\n")  # csv.writer ends rows with CRLF
    lines[2001] = lines[2001].replace(b"User", b"Jos\xe9", 1)  # line 2002 of the file
    source.write_bytes(b"\r\n".join(lines))
    result = run("--json", "import", str(source))
    assert result.exit_code == 2 and recorded[1].count() == 0
    assert "export.csv:2002: not UTF-8 text" in one_line(result.stderr)


def test_a_csv_the_machine_will_not_let_us_read_is_a_run_failure(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Exit 1 like any file the machine refuses (a missing file or a directory is exit 2)."""
    source = tmp_path / "locked.csv"
    write_rows(source, good_rows(1))
    real_open = Path.open

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == source:  # as root, chmod 000 would not stop us: refuse it here
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    result = run("import", str(source))
    assert result.exit_code == 1 and "cannot read: Permission denied" in one_line(result.stderr)


def test_a_pipe_or_a_device_is_refused_not_waited_on(run: Any, tmp_path: Path) -> None:
    """A FIFO with no writer would block the open forever; a pipe read twice loses rows."""
    fifo = tmp_path / "export.csv"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/null"):
        result = run("import", path)
        assert result.exit_code == 2 and "not a regular file" in one_line(result.stderr)


def test_csv_errors_name_the_line_where_the_row_starts(run: Any, tmp_path: Path) -> None:
    source = tmp_path / "big.csv"
    huge = "x" * (csv.field_size_limit() + 1)
    source.write_text(f"email,name\r\na@example.com,A\r\nb@example.com,{huge}\r\n")
    result = run("import", str(source))
    assert result.exit_code == 2 and "big.csv:3: field larger than field limit" in result.stderr


def _breaks(data: bytes) -> int:
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def _no_surrogates(text: str) -> bool:
    return not any(0xD800 <= ord(char) <= 0xDFFF for char in text)


@settings(max_examples=60, deadline=None)
@given(
    cells=st.lists(csv_fields().filter(_no_surrogates), min_size=1, max_size=8),
    bad=st.integers(min_value=0, max_value=7),
    ending=st.sampled_from(["\r\n", "\n", "\r"]),
)
def test_the_line_of_a_bad_byte_is_the_files_whatever_the_cells_and_line_ends(
    cells: list[str], bad: int, ending: str
) -> None:
    """Quoted line breaks in earlier cells, any line ending: the reported line is exact."""
    bad %= len(cells)
    chunks = []
    for row in [["email", "name"], *([f"u{n}@example.com", c] for n, c in enumerate(cells))]:
        text = io.StringIO(newline="")
        csv.writer(text, lineterminator=ending).writerow(row)
        chunks.append(text.getvalue().encode("utf-8"))
    before = b"".join(chunks[: 1 + bad])  # the header and the rows before the bad one
    expected = 1 + _breaks(before)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.csv"
        path.write_bytes(before + b"\xff" + b"".join(chunks[1 + bad :]))
        with pytest.raises(CSVFormatError) as caught:
            CSVFile(path).check()
    assert f"f.csv:{expected}: not UTF-8" in str(caught.value)


@settings(max_examples=200, deadline=None)
@given(
    body=st.lists(
        st.one_of(
            st.binary(max_size=40),
            st.sampled_from([b"\r", b"\n", b"\r\n", b'"', b",", b"\x00", b"\xef\xbb\xbf",
                             b"\xed\xa0\x80", b"\xc3", b"\xe9", b"\xf4\x90\x80\x80",
                             "é".encode(), "\u2028".encode(), b"a@example.com"]),
        ),
        max_size=30,
    ).map(b"".join)
)  # fmt: skip
def test_any_bytes_after_the_header_give_a_count_or_one_format_error(body: bytes) -> None:
    """The up-front check and the stream agree on any bytes: a count, or CSVFormatError with
    the line of the first bad byte; never another exception."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "f.csv"
        path.write_bytes(b"email,name\n" + body)
        try:
            counted = CSVFile(path).check()
        except CSVFormatError as error:
            assert "changed while it was read" not in str(error)
            with pytest.raises(CSVFormatError):
                list(CSVFile(path).rows())
            return
        rows = list(CSVFile(path).rows())
    assert len(rows) == counted


# ----------------------------------------------------------------------------- 10, 11: emails


def test_the_importer_takes_the_addresses_the_api_takes(
    run: Any, tmp_path: Path, recorded: Recorded
) -> None:
    source = tmp_path / "emails.csv"
    source.write_text("email\nusér@example.com\nuser@foo.test\n", encoding="utf-8")
    result = run("--json", "import", str(source))
    assert "emails.csv:2: email 'usér@example.com' is not valid" in result.stderr
    assert (summary(result)["bad"], summary(result)["created"], summary(result)["failed"]) == (
        1,
        1,
        0,
    )
    assert recorded[1].count() == 1  # the bad row cost nothing, the good one one create


def _importer_accepts(email: str) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "one.csv"
        with path.open("w", newline="", encoding="utf-8", errors="surrogatepass") as handle:
            csv.writer(handle).writerows([["email"], [email]])
        try:
            rows = list(CSVFile(path).rows())
        except CSVFormatError:
            return False
    return len(rows) == 1 and isinstance(rows[0], Row) and rows[0].record["email"] == email


def _client_accepts(email: str) -> bool:
    try:
        bodies.create_body(email, {})
    except InvalidRequestError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(email=email_addresses())
def test_one_email_rule_for_the_importer_the_client_and_the_mock(email: str) -> None:
    mock = mock_accepts(email)
    assert _client_accepts(email) is mock
    if email == email.strip(" \t") and "\x00" not in email:  # cells are trimmed; NUL kept
        assert _importer_accepts(email) is mock


def test_the_edge_addresses_split_as_the_spec_says() -> None:
    accepted = {e for e in EMAIL_EDGES if mock_accepts(e)}
    assert {"user@foo.test", "Dup@Example.com", "user+tag@example.com"} <= accepted
    assert not {"usér@example.com", "user@exämple.com", '"a b"@example.com'} & accepted


def test_emails_that_differ_in_case_are_two_subscribers(
    run: Any, tmp_path: Path, recorded: Recorded
) -> None:
    mock, _ = recorded
    source = tmp_path / "case.csv"
    source.write_text("email,name\nDup@Example.com,A\ndup@example.com,B\n", encoding="utf-8")
    result = run("--json", "import", str(source))
    assert result.exit_code == 0, result.stderr
    assert (summary(result)["created"], summary(result)["bad"]) == (2, 0)
    assert mock.app.store.count_subscribers() == 2


def test_custom_field_labels_that_differ_in_case_are_two_fields(
    run: Any, tmp_path: Path, recorded: Recorded
) -> None:
    """Labels are exact too (standard columns match in any case: `Email` is `email`)."""
    source = tmp_path / "labels.csv"
    source.write_text("Email,Plan,plan\nl@example.com,A,b\n", encoding="utf-8")
    assert run("--json", "import", str(source)).exit_code == 0
    shown = run("subscriber", "get", "l@example.com").json()["data"]["customFields"]
    assert sorted((f["label"], f["value"]) for f in shown) == [("Plan", "A"), ("plan", "b")]
    source.write_text("email,Email\nl@example.com,x\n", encoding="utf-8")
    twice = run("import", str(source))
    assert twice.exit_code == 2 and "appears twice" in twice.stderr


# ----------------------------------------------------------------------------- 12, 15, 16


def test_an_unrelated_database_is_refused_untouched(
    run: Any, tmp_path: Path, recorded: Recorded
) -> None:
    source = tmp_path / "export.csv"
    write_rows(source, good_rows(2))
    theirs = unrelated_database(tmp_path / "app.sqlite")
    before = fingerprint(theirs)
    result = run("import", str(source), "--state", str(theirs))
    assert result.exit_code == 2 and "is not a sync state" in one_line(result.stderr)
    assert fingerprint(theirs) == before and recorded[1].count() == 0


def test_a_state_through_a_dangling_symlink_is_private(run: Any, tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    write_rows(source, good_rows(1))
    target = tmp_path / "elsewhere.sqlite"
    link = dangling_symlink(tmp_path / "link.sqlite", target)
    previous = os.umask(0o022)
    try:
        assert run("--json", "import", str(source), "--state", str(link)).exit_code == 0
    finally:
        os.umask(previous)
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_state_location_failures_exit_2_when_the_path_is_wrong_and_1_when_refused(
    run: Any, tmp_path: Path, state_home: Path, recorded: Recorded
) -> None:
    source = tmp_path / "export.csv"
    write_rows(source, good_rows(1))
    folder = tmp_path / "folder"
    folder.mkdir()
    wrong = run("import", str(source), "--state", str(folder))
    assert wrong.exit_code == 2 and "is a directory" in one_line(wrong.stderr)
    missing = run("import", str(source), "--state", str(tmp_path / "nope" / "s.sqlite"))
    assert missing.exit_code == 2 and "No such file" in one_line(missing.stderr)
    state_home.mkdir()
    with read_only(state_home):
        refused = run("import", str(source))
    assert refused.exit_code == 1
    assert "cannot use the state directory" in one_line(refused.stderr)
    assert recorded[1].count() == 0
