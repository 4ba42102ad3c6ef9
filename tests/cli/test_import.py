"""`pingback import`: bad rows reported first, the rest upserted, interrupted and resumed."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from pingback_ext.mock import RunningMock
from tests.cli.conftest import KEY, PINGBACK

BAD_LINES = {12: "not-an-email", 25: "+12ab", 40: "vip", 61: "duplicate", 88: "short row"}


def write_csv(path: Path, rows: int = 100) -> dict[int, str]:
    """100 rows (line 2 to 101); five of them bad in different ways. Returns line -> email."""
    emails = {}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "phone", "status", "plan", "segmentation_lists"])
        for n in range(rows):
            line = n + 2
            email = f"user{n:03d}@example.com"
            row = [email, f"User {n}", f"+551199{n:07d}", "free_subscriber", "gold", "list-1"]
            match BAD_LINES.get(line):
                case "not-an-email":
                    row[0] = email = "user-at-example.com"
                case "+12ab":
                    row[2] = "+12ab"
                case "vip":
                    row[3] = "vip"
                case "duplicate":
                    row[0] = email = "user000@example.com"
                case "short row":
                    row = row[:2]
            writer.writerow(row)
            emails[line] = email
    return emails


def test_import_reports_bad_rows_then_upserts_the_rest(cli: Any, tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    emails = write_csv(source)
    result = cli("--json", "import", str(source), "--segmentation-list", "list-2")
    assert result.exit_code == 1  # some rows were bad
    for line in BAD_LINES:
        assert f"export.csv:{line}:" in result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary == {**summary, "rows": 100, "created": 95, "failed": 0, "bad": 5}
    with (tmp_path / "export.failures.csv").open(encoding="utf-8") as handle:
        failures = list(csv.DictReader(handle))
    assert sorted(int(row["line"]) for row in failures) == sorted(BAD_LINES)
    good = [email for line, email in emails.items() if line not in BAD_LINES]
    shown = cli("subscriber", "get", good[0]).json()["data"]
    assert shown["segmentationLists"] == ["list-1", "list-2"]
    assert shown["customFields"][0] == {
        **shown["customFields"][0],
        "label": "plan",
        "value": "gold",
    }


def test_strict_sends_nothing_when_a_row_is_bad(
    cli: Any, tmp_path: Path, mock: RunningMock
) -> None:
    source = tmp_path / "export.csv"
    write_csv(source, rows=20)
    result = cli("import", str(source), "--strict")
    assert result.exit_code == 1
    assert mock.request_counts() == {}


def test_clean_import_exits_0_and_removes_its_journal(cli: Any, tmp_path: Path) -> None:
    source = tmp_path / "clean.csv"
    source.write_text("email,name\nana@example.com,Ana\nbea@example.com,Bea\n", encoding="utf-8")
    result = cli("--no-json", "import", str(source))
    assert result.exit_code == 0, result.stderr
    assert "2 rows: 2 created" in result.stdout
    assert not (tmp_path / "clean.csv.journal").exists()
    again = cli("--json", "import", str(source))
    assert json.loads(again.stdout)["unchanged"] == 2


def test_unreadable_files_are_usage_errors(cli: Any, tmp_path: Path) -> None:
    (tmp_path / "no-email.csv").write_text("name\nAna\n", encoding="utf-8")
    (tmp_path / "latin1.csv").write_bytes("email,name\nana@example.com,Jos\xe9\n".encode("latin-1"))
    for name, message in [("missing.csv", "no such file"), ("no-email.csv", "no 'email' column"),
                          ("latin1.csv", "not UTF-8")]:  # fmt: skip
        result = cli("import", str(tmp_path / name))
        assert result.exit_code == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def _journal_lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def test_interrupted_import_resumes_without_redoing_or_losing_rows(
    mock: RunningMock, tmp_path: Path
) -> None:
    source = tmp_path / "export.csv"
    emails = write_csv(source)
    journal = tmp_path / "export.csv.journal"
    env = {**os.environ, "PINGBACK_API_KEY": KEY, "PINGBACK_BASE_URL": mock.base_url,
           "PINGBACK_RATE_LIMIT": "40"}  # fmt: skip
    first = subprocess.Popen(
        [PINGBACK, "--json", "import", str(source)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A runner that starts us in the background passes SIGINT on as ignored, and Python
        # then never raises KeyboardInterrupt: give the child Ctrl-C back, as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while _journal_lines(journal) < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGINT)
    out, err = first.communicate(timeout=30)
    assert first.returncode == 130, (out, err)
    assert "--resume" in err and "Traceback" not in err
    done_before = _journal_lines(journal) - 1  # the header line
    assert 0 < done_before < 95

    second = subprocess.run(
        [PINGBACK, "--json", "import", str(source), "--resume"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    summary = json.loads(second.stdout.strip().splitlines()[-1])
    assert summary["resumed"] == done_before
    assert summary["created"] + summary["unchanged"] == 95 and summary["failed"] == 0
    # Every good row exists exactly once: 95 creates acknowledged in all, none twice.
    assert mock.request_counts().get(201) == 95
    good = [email for line, email in emails.items() if line not in BAD_LINES]
    assert len(set(good)) == 95
