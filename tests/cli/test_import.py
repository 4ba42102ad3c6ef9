"""`pingback import`: bad rows, the sync state (counted at a recording proxy), hostile CSV
text, interruptions of every kind: Ctrl-C, kill -9, a server that dies."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pingback_ext import Pingback
from pingback_ext.cli.app import app
from pingback_ext.cli.csv_records import CSVFile, Row
from pingback_ext.mock import RunningMock
from tests.cli.conftest import KEY, PINGBACK, Result
from tests.resilience.conftest import free_port
from tests.resilience.recorder import Recorder

BAD_LINES = {12: "not-an-email", 25: "+12ab", 40: "vip", 61: "duplicate", 88: "short row"}
HEADER = ["email", "name", "phone", "status", "plan", "segmentation_lists"]


def summary(result: Result) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return parsed


def write_rows(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def good_rows(count: int, prefix: str = "user") -> list[list[str]]:
    return [
        [f"{prefix}{n:03d}@example.com", f"User {n}", f"+551199{n:07d}", "free_subscriber",
         "gold", "list-1"]
        for n in range(count)
    ]  # fmt: skip


def write_csv(path: Path, rows: int = 100) -> dict[int, str]:
    """100 rows (line 2 to 101); five of them bad in different ways. Returns line -> email."""
    emails = {}
    data = []
    for n, row in enumerate(good_rows(rows)):
        line = n + 2
        match BAD_LINES.get(line):
            case "not-an-email":
                row[0] = "user-at-example.com"
            case "+12ab":
                row[2] = "+12ab"
            case "vip":
                row[3] = "vip"
            case "duplicate":
                row[0] = "user000@example.com"
            case "short row":
                row = row[:2]
        data.append(row)
        emails[line] = row[0]
    write_rows(path, data)
    return emails


def test_import_reports_bad_rows_then_upserts_the_rest(
    run: Any, tmp_path: Path, recorded: tuple[RunningMock, Recorder]
) -> None:
    source = tmp_path / "export.csv"
    emails = write_csv(source)
    result = run("--json", "import", str(source), "--segmentation-list", "list-2")
    assert result.exit_code == 1  # some rows were bad
    for line in BAD_LINES:
        assert f"export.csv:{line}:" in result.stderr
    assert summary(result) == {
        **summary(result), "rows": 100, "created": 95, "failed": 0, "bad": 5, "requests": 95,
    }  # fmt: skip
    with (tmp_path / "export.failures.csv").open(encoding="utf-8") as handle:
        failures = list(csv.DictReader(handle))
    assert sorted(int(row["line"]) for row in failures) == sorted(BAD_LINES)
    good = [email for line, email in emails.items() if line not in BAD_LINES]
    shown = run("subscriber", "get", good[0]).json()["data"]
    assert shown["segmentationLists"] == ["list-1", "list-2"]
    assert shown["customFields"][0] == {
        **shown["customFields"][0],
        "label": "plan",
        "value": "gold",
    }


def test_strict_sends_nothing_when_a_row_is_bad(
    run: Any, tmp_path: Path, recorded: tuple[RunningMock, Recorder]
) -> None:
    source = tmp_path / "export.csv"
    write_csv(source, rows=20)
    result = run("import", str(source), "--strict")
    assert result.exit_code == 1 and "nothing was sent" in result.stderr
    assert recorded[1].count() == 0


def test_clean_import_exits_0_and_a_rerun_costs_nothing(
    run: Any, tmp_path: Path, recorded: tuple[RunningMock, Recorder]
) -> None:
    source = tmp_path / "clean.csv"
    source.write_text("email,name\nana@example.com,Ana\nbea@example.com,Bea\n", encoding="utf-8")
    (tmp_path / "clean.failures.csv").write_text("from an earlier run\n", encoding="utf-8")
    result = run("--no-json", "import", str(source))
    assert result.exit_code == 0, result.stderr
    assert "2 rows: 2 created" in result.stdout and "(2 requests)" in result.stdout
    assert not (tmp_path / "clean.failures.csv").exists()  # nothing left to fix
    again = run("--json", "import", str(source), "--resume")  # --resume: accepted, no effect
    assert (summary(again)["unchanged"], summary(again)["requests"]) == (2, 0)
    assert recorded[1].count() == 2


def test_unreadable_files_are_usage_errors(run: Any, tmp_path: Path) -> None:
    (tmp_path / "no-email.csv").write_text("name\nAna\n", encoding="utf-8")
    (tmp_path / "latin1.csv").write_bytes("email,name\nana@example.com,Jos\xe9\n".encode("latin-1"))
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    for name, message in [("missing.csv", "no such file"), ("no-email.csv", "no 'email' column"),
                          ("latin1.csv", "not UTF-8"), ("empty.csv", "empty file"),
                          (".", "directory")]:  # fmt: skip
        result = run("import", str(tmp_path / name))
        assert result.exit_code == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


# ----------------------------------------------------------------------------- acceptance counts


def test_sync_costs_counted_at_the_proxy(
    run: Any, tmp_path: Path, recorded: tuple[RunningMock, Recorder]
) -> None:
    mock, recorder = recorded
    rows = good_rows(300)
    today, tomorrow = tmp_path / "export-today.csv", tmp_path / "export-tomorrow.csv"
    write_rows(today, rows)

    first = run("--json", "import", str(today))
    assert first.exit_code == 0, first.stderr
    assert recorder.count() <= 315 and summary(first)["created"] == 300
    assert recorder.count() == 300  # one create per row, lists included

    counted = recorder.count()
    assert run("--json", "import", str(today)).exit_code == 0
    assert recorder.count() - counted <= 3  # the same command again: 0 in fact
    write_rows(tomorrow, rows)
    counted = recorder.count()
    again = run("--json", "import", str(tomorrow))
    assert recorder.count() - counted <= 3 and summary(again)["unchanged"] == 300

    for n in (3, 50, 120, 200, 299):
        rows[n][1] = f"Renamed {n}"
    rows[7][3] = "paid_subscriber"
    write_rows(tomorrow, rows)
    counted = recorder.count()
    changed = run("--json", "import", str(tomorrow))
    assert recorder.count() - counted <= 12
    assert (summary(changed)["updated"], summary(changed)["unchanged"]) == (6, 294)
    with Pingback(api_key=KEY, base_url=mock.base_url, rate_limit=None) as pb:
        for n in (3, 50, 120, 200, 299):
            assert pb.subscribers.get(f"user{n:03d}@example.com").name == f"Renamed {n}"
        assert str(pb.subscribers.get("user007@example.com").status) == "paid_subscriber"


def test_a_bad_row_fixed_and_another_row_edited_both_land(
    run: Any, tmp_path: Path, recorded: tuple[RunningMock, Recorder]
) -> None:
    mock, recorder = recorded
    source = tmp_path / "export.csv"
    rows = good_rows(20)
    rows[5][0] = "broken-at-example.com"
    write_rows(source, rows)
    first = run("--json", "import", str(source))
    assert first.exit_code == 1 and summary(first)["bad"] == 1
    rows[5][0] = "user005@example.com"  # fixed
    rows[9][1] = "Edited"  # and another row edited
    write_rows(source, rows)
    counted = recorder.count()
    second = run("--json", "import", str(source))
    assert second.exit_code == 0, second.stderr
    assert (summary(second)["created"], summary(second)["updated"]) == (1, 1)
    assert recorder.count() - counted == 2
    with Pingback(api_key=KEY, base_url=mock.base_url, rate_limit=None) as pb:
        assert pb.subscribers.get("user005@example.com").name == "User 5"
        assert pb.subscribers.get("user009@example.com").name == "Edited"


def test_full_compares_with_pingback_and_repairs_changes_made_by_hand(
    run: Any, tmp_path: Path, recorded: tuple[RunningMock, Recorder]
) -> None:
    mock, recorder = recorded
    source = tmp_path / "export.csv"
    write_rows(source, good_rows(10))
    state = tmp_path / "chosen.sqlite"
    assert run("--json", "import", str(source), "--state", str(state)).exit_code == 0
    assert state.exists() and not any((tmp_path / "xdg-state").glob("pingback/sync-*"))
    with Pingback(api_key=KEY, base_url=mock.base_url, rate_limit=None) as pb:
        pb.subscribers.update("user004@example.com", name="Changed by hand")
    counted = recorder.count()
    trusting = run("--json", "import", str(source), "--state", str(state))
    assert summary(trusting)["requests"] == 0  # the state says nothing changed
    full = run("--json", "import", str(source), "--state", str(state), "--full")
    assert (summary(full)["updated"], summary(full)["unchanged"]) == (1, 9)
    assert recorder.count() - counted == 11  # ten reads, one update
    with Pingback(api_key=KEY, base_url=mock.base_url, rate_limit=None) as pb:
        assert pb.subscribers.get("user004@example.com").name == "User 4"


def test_the_default_state_is_one_private_file_per_target(
    run: Any, tmp_path: Path, state_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "export.csv"
    write_rows(source, good_rows(3))
    first = run("--json", "import", str(source))
    states = sorted((state_home / "pingback").glob("sync-*.sqlite"))
    assert [str(p) for p in states] == [summary(first)["state"]]
    assert oct(states[0].stat().st_mode & 0o777) == "0o600"
    assert oct((state_home / "pingback").stat().st_mode & 0o777) == "0o700"
    leaked = [KEY.encode(), hashlib.sha256(KEY.encode()).hexdigest()[:16].encode()]
    for path in (state_home / "pingback").iterdir():
        assert not any(secret in path.read_bytes() or secret.decode() in path.name
                       for secret in leaked)  # fmt: skip
    monkeypatch.setenv("PINGBACK_DEVELOPER_MODE", "true")  # another target: another state
    other = run("--json", "import", str(source))
    assert summary(other)["state"] != summary(first)["state"]
    assert len(list((state_home / "pingback").glob("sync-*.sqlite"))) == 2


def test_custom_fields_that_cannot_change_are_reported_per_row(
    run: Any, tmp_path: Path, recorded: tuple[RunningMock, Recorder]
) -> None:
    source = tmp_path / "export.csv"
    rows = good_rows(3)
    write_rows(source, rows)
    run("--json", "import", str(source))
    rows[1][4] = "platinum"
    write_rows(source, rows)
    counted = recorded[1].count()
    result = run("--json", "import", str(source))
    assert "export.csv:3: the API cannot change custom fields" in result.stderr
    assert "not applied: plan" in result.stderr
    assert recorded[1].count() == counted and summary(result)["unchanged"] == 3


# ----------------------------------------------------------------------------- hostile text


def test_csv_written_by_csv_writer_reads_back_exactly(
    run: Any, tmp_path: Path, recorded: tuple[RunningMock, Recorder]
) -> None:
    """Issue 11 finding 6: line separators inside cells are data, not line breaks."""
    mock, _ = recorded
    names = ["Ana\u2028Bea", "Form\x0cfeed", "Next\x85line", "Two\r\nlines",
             "Para\u2029graph", "Vert\x0btab", "Group\x1dsep", "[/x] Mallory",
             "[link=http://evil]x[/link]"]  # fmt: skip
    rows = [[f"h{n}@example.com", name, "", "", "", ""] for n, name in enumerate(names)]
    rows.insert(4, ["not-an-email [/x]", "Bad", "", "", "", ""])  # a bad row after a CRLF cell
    rows.append(["h0@example.com", "Again", "", "", "", ""])  # a duplicate, after them all
    source = tmp_path / "hostile.csv"
    write_rows(source, rows)
    result = run("--json", "import", str(source))
    assert "Traceback" not in result.stderr
    # Lines: header 1, three one-line rows 2-4, "Two\r\nlines" 5-6, the bad row 7, five more
    # rows 8-12 (U+2029, VT and GS are no line breaks in a CSV), the duplicate 13.
    assert "hostile.csv:7: email 'not-an-email [/x]' is not valid" in result.stderr
    assert "hostile.csv:13: email 'h0@example.com' is already on line 2" in result.stderr
    assert (summary(result)["created"], summary(result)["bad"]) == (len(names), 2)
    with Pingback(api_key=KEY, base_url=mock.base_url, rate_limit=None) as pb:
        for n, name in enumerate(names):
            assert pb.subscribers.get(f"h{n}@example.com").name == name


def test_markup_and_escapes_in_bad_rows_are_printed_literally(run: Any, tmp_path: Path) -> None:
    source = tmp_path / "marks.csv"
    write_rows(source, [["[red]x\x1b[31m@[/x]", "n", "", "", "", ""]])
    result = run("--no-json", "import", str(source))
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "[red]x\\x1b[31m@[/x]" in result.stderr and "\x1b" not in result.stderr


# ----------------------------------------------------------------------------- interruptions


def _env(base_url: str, state_home: Path, rate: str) -> dict[str, str]:
    env = {**os.environ, "PINGBACK_API_KEY": KEY, "PINGBACK_BASE_URL": base_url,
           "PINGBACK_RATE_LIMIT": rate, "XDG_STATE_HOME": str(state_home)}  # fmt: skip
    env.pop("PINGBACK_DEVELOPER_MODE", None)
    return env


def _accepted(state: Path) -> set[str]:
    try:
        with sqlite3.connect(f"file:{state}?mode=ro", uri=True) as db:
            return {row[0] for row in db.execute("SELECT email FROM accepted")}
    except sqlite3.Error:
        return set()


def _wait_for(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


@pytest.mark.slow
def test_ctrl_c_then_the_same_command_continues(
    recorded: tuple[RunningMock, Recorder], tmp_path: Path, state_home: Path
) -> None:
    mock, recorder = recorded
    source, state = tmp_path / "export.csv", tmp_path / "s.sqlite"
    write_csv(source)
    command = [PINGBACK, "--json", "import", str(source), "--state", str(state)]
    first = subprocess.Popen(
        command, env=_env(mock.base_url, state_home, "40"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A runner that starts us in the background passes SIGINT on as ignored, and Python
        # then never raises KeyboardInterrupt: give the child Ctrl-C back, as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    _wait_for(lambda: len(_accepted(state)) >= 30, 30)
    first.send_signal(signal.SIGINT)
    out, err = first.communicate(timeout=30)
    assert first.returncode == 130, (out, err)
    assert "run the same command to continue" in err and "Traceback" not in err
    accepted = _accepted(state)
    before = len(recorder.log)
    second = subprocess.run(command, env=_env(mock.base_url, state_home, "0"),
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert set(recorder.emails(before)) & accepted == set()
    assert summary(Result(second.returncode, second.stdout, second.stderr))["failed"] == 0
    assert mock.app.store.count_subscribers() == 95
    assert sum(1 for s in recorder.log if s.status == 201) == 95


@pytest.mark.slow
def test_kill_9_at_random_points_loses_nothing_and_resends_nothing(
    recorded: tuple[RunningMock, Recorder], tmp_path: Path, state_home: Path
) -> None:
    mock, recorder = recorded
    count, source = 150, tmp_path / "export.csv"
    write_rows(source, good_rows(count))
    command = [PINGBACK, "--json", "import", str(source)]
    env = _env(mock.base_url, state_home, "60")
    rng = random.Random(1326)
    state: Path | None = None
    kills = 0
    while kills < 5:
        before = len(recorder.log)
        accepted = _accepted(state) if state else set()
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)  # fmt: skip
        # A random point once it sends (~60 rows/s), or in its start-up (state opening).
        started = time.monotonic()
        while len(recorder.log) == before and child.poll() is None:
            if time.monotonic() - started > 30:
                break
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.5))
        child.send_signal(signal.SIGKILL)
        child.wait(30)
        kills += 1
        if state is None:
            state = next((state_home / "pingback").glob("sync-*.sqlite"), None)
        assert set(recorder.emails(before)) & accepted == set()  # accepted: never sent again
    assert state is not None and len(_accepted(state)) < count  # the kills did interrupt
    accepted = _accepted(state)
    before = len(recorder.log)
    final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    assert set(recorder.emails(before)) & accepted == set()
    assert mock.app.store.count_subscribers() == count
    assert sum(1 for s in recorder.log if s.status == 201) == count  # each created exactly once
    assert _accepted(state) == {f"user{n:03d}@example.com" for n in range(count)}


def _start_mock(port: int, db: Path) -> subprocess.Popen[str]:
    mock = subprocess.Popen(
        [PINGBACK, "mock", "--port", str(port), "--api-key", KEY, "--segmentation-list",
         "list-1", "--db", str(db), "--rate-limit", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert mock.stdout is not None
    assert "listening" in mock.stdout.readline()
    return mock


@pytest.mark.slow
def test_a_dead_server_stops_the_import_within_a_minute_and_the_same_command_finishes(
    tmp_path: Path, state_home: Path
) -> None:
    """At the real limit (5/s): kill -9 the server mid-import, restart it, run again."""
    port, db, count = free_port(), tmp_path / "mock.sqlite", 40
    source, state = tmp_path / "export.csv", tmp_path / "s.sqlite"
    write_rows(source, good_rows(count))
    base_url = f"http://127.0.0.1:{port}/v1"
    command = [PINGBACK, "--json", "import", str(source), "--state", str(state)]
    server = _start_mock(port, db)
    try:
        child = subprocess.Popen(
            command, env=_env(base_url, state_home, "5"), stderr=subprocess.PIPE, text=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        _wait_for(lambda: len(_accepted(state)) >= 10, 30)
        server.kill()
        server.wait(10)
        killed_at = time.monotonic()
        _, err = child.communicate(timeout=90)
        took = time.monotonic() - killed_at
        assert child.returncode == 1 and took < 60, (took, err)
        last = err.strip().splitlines()[-1]
        assert "gave no answer" in last and "run the same command to continue" in last
        assert "Traceback" not in err
        server = _start_mock(port, db)
        again = subprocess.run(command, env=_env(base_url, state_home, "5"),
                               capture_output=True, text=True, timeout=120)  # fmt: skip
        assert again.returncode == 0, again.stderr
    finally:
        server.kill()
        server.wait(10)
    with sqlite3.connect(db) as conn:
        emails = [row[0] for row in conn.execute("SELECT email FROM subscribers")]
    assert sorted(emails) == [f"user{n:03d}@example.com" for n in range(count)]


def test_a_refused_key_stops_at_once_with_one_line(
    recorded: tuple[RunningMock, Recorder], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mock, recorder = recorded
    source = tmp_path / "export.csv"
    write_rows(source, good_rows(50))
    monkeypatch.setenv("PINGBACK_API_KEY", "not-the-key")
    monkeypatch.setenv("PINGBACK_BASE_URL", mock.base_url)
    monkeypatch.setenv("PINGBACK_RATE_LIMIT", "0")
    outcome = CliRunner().invoke(app, ["--json", "import", str(source)])
    # Stopped at the first answer: only the rows in flight with it (2, unpaced) were sent.
    assert outcome.exit_code == 1 and 1 <= recorder.count() <= 2
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and "403" in lines[0] and "run the same command" in lines[0]
    assert "not-the-key" not in outcome.stderr


# ----------------------------------------------------------------------------- properties

NASTY = st.one_of(
    st.characters(blacklist_categories=("Cs",)),
    st.sampled_from(["\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\r\n",
                     "\r", "\n", '"', ",", ";", "[/x]", "[link=x]", "\x1b[31m", "\ufeff", "\x00"]),
)  # fmt: skip
CELLS = st.lists(NASTY, max_size=12).map("".join).filter(lambda v: v == v.strip(" \t"))


@settings(max_examples=150, deadline=None)
@given(cells=st.lists(st.tuples(CELLS, CELLS), min_size=1, max_size=8))
def test_every_cell_csv_writer_writes_reads_back_unchanged_at_its_line(
    cells: list[tuple[str, str]],
) -> None:
    """Issue 11 finding 6, as a property: names and custom fields of any text survive."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["email", "name", "plan"])
    starts, line = [], 2
    for n, (name, plan) in enumerate(cells):
        row = io.StringIO(newline="")
        csv.writer(row).writerow([f"p{n}@example.com", name, plan])
        starts.append(line)
        line += len(re.findall(r"\r\n|\r|\n", row.getvalue()))
        text.write(row.getvalue())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "nasty.csv"
        path.write_text(text.getvalue(), encoding="utf-8", newline="")
        rows = list(CSVFile(path).rows())
    assert [r.line for r in rows] == starts
    for row, (name, plan) in zip(rows, cells, strict=True):
        assert isinstance(row, Row), row
        assert row.record.get("name", "") == name
        assert row.record.get("custom_fields", {}).get("plan", "") == plan


def test_subscriber_upsert_and_import_treat_a_row_alike(
    run: Any, tmp_path: Path, recorded: tuple[RunningMock, Recorder]
) -> None:
    """One upsert: the command says what happened, truthfully, and sends only what differs."""
    _, recorder = recorded
    assert run("--no-json", "subscriber", "upsert", "ana@example.com", "--name", "Ana",
               "--segmentation-list", "list-1").stdout.startswith("created")  # fmt: skip
    assert recorder.count() == 1
    same = run("--no-json", "subscriber", "upsert", "ana@example.com", "--name", "Ana")
    assert same.stdout.startswith("unchanged") and recorder.count() == 3  # create 409, read
    renamed = run("--no-json", "subscriber", "upsert", "ana@example.com", "--name", "Bea",
                  "--field", "age=3")  # fmt: skip
    assert renamed.stdout.startswith("updated") and recorder.count() == 6  # + update
    assert "not applied: age" in renamed.stderr
    source = tmp_path / "one.csv"
    source.write_text("email,name\nana@example.com,Bea\n", encoding="utf-8")
    imported = run("--json", "import", str(source))  # no state yet: create 409, read
    assert (summary(imported)["unchanged"], summary(imported)["requests"]) == (1, 2)


def test_a_state_that_is_not_one_is_a_usage_error(run: Any, tmp_path: Path) -> None:
    source, junk = tmp_path / "export.csv", tmp_path / "junk.sqlite"
    write_rows(source, good_rows(2))
    junk.write_text("hello, I am not SQLite\n" * 100, encoding="utf-8")
    result = run("import", str(source), "--state", str(junk))
    assert result.exit_code == 2 and "is not a sync state" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
