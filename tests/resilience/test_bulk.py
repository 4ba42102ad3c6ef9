"""bulk_upsert: outcomes, records of every shape, the journal, and kill -9 then resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pingback_client.models import SubscriberCreate

from pingback_ext import AsyncPingback, Pingback
from pingback_ext.bulk import BulkReport, RecordOutcome
from pingback_ext.errors import ConfigurationError, Forbidden, InvalidRequestError
from pingback_ext.mock import RunningMock, serve_mock

ROOT = Path(__file__).resolve().parents[2]


def client(mock: RunningMock, **options: Any) -> Pingback:
    return Pingback(api_key=mock.api_key, base_url=mock.base_url, rate_limit=None, **options)


def test_created_updated_unchanged_failed(open_mock: RunningMock) -> None:
    with client(open_mock) as pb:
        pb.subscribers.create("same@example.com", name="Same", segmentation_lists=["list-a"])
        pb.subscribers.create("old@example.com", name="Old")
        seen: list[tuple[str, int]] = []
        report = pb.subscribers.bulk_upsert(
            [
                {"email": "new@example.com", "name": "New"},
                {"email": "same@example.com", "name": "Same"},
                {"email": "old@example.com", "name": "Renamed", "status": "paid_subscriber"},
                {"email": "not-an-email"},
                {"email": "nolist@example.com", "segmentation_lists": ["no-such-list"]},
                {"name": "no email"},
                {"email": "x@example.com", "colour": "blue"},
                42,
            ],
            on_progress=lambda outcome, rep: seen.append((outcome.action, rep.total)),
        )
        old = pb.subscribers.get("old@example.com")
    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    assert [o.action for o in report.outcomes[:3]] == ["created", "unchanged", "updated"]
    assert (old.name, old.status.value) == ("Renamed", "paid_subscriber")  # type: ignore[union-attr]
    failed = {o.index: o for o in report.failed}
    assert sorted(failed) == [3, 4, 5, 6, 7]
    assert failed[3].error_code == "INVALID_INPUT" and failed[3].request_id
    assert failed[4].error_code == "SEGMENTATION_LIST_NOT_FOUND" and failed[4].status_code == 404
    assert "email" in (failed[5].reason or "") and "colour" in (failed[6].reason or "")
    assert "mapping" in (failed[7].reason or "")
    assert all(o.request_id for o in report.outcomes if o.action != "failed")
    assert [total for _, total in seen] == list(range(1, 9))
    assert str(report).startswith("8 records: 1 created, 1 updated, 1 unchanged, 5 failed")


def test_lists_models_and_camel_case_records(open_mock: RunningMock) -> None:
    with client(open_mock) as pb:
        pb.subscribers.create("member@example.com", segmentation_lists=["list-a"])
        exported = pb.subscribers.get("member@example.com")  # a result model, read-only fields
        report = pb.subscribers.bulk_upsert(
            [
                SubscriberCreate(email="model@example.com", name="Model"),
                exported,
                {"email": "camel@example.com", "customFields": [{"label": "age", "value": "3"}]},
            ],
            segmentation_lists=["list-b"],
        )
        assert not report.failed, report.failed
        assert (report.created, report.updated) == (2, 1)
        for email in ("model@example.com", "member@example.com", "camel@example.com"):
            lists = pb.subscribers.get(email).segmentation_lists
            assert isinstance(lists, list) and "list-b" in lists
        camel = pb.subscribers.get("camel@example.com")
        assert [(f.label, f.value) for f in camel.custom_fields] == [("age", "3")]  # type: ignore[union-attr]
        # Custom fields cannot change on an existing subscriber: said, not silently dropped.
        again = pb.subscribers.bulk_upsert(
            [{"email": "camel@example.com", "customFields": {"age": 4}}]
        )
    assert again.unchanged == 1 and "age" in (again.outcomes[0].reason or "")


def test_bad_arguments_are_refused_before_anything_is_sent(open_mock: RunningMock) -> None:
    with client(open_mock) as pb:
        with pytest.raises(InvalidRequestError, match="iterable of records"):
            pb.subscribers.bulk_upsert({"email": "a@example.com"})
        with pytest.raises(InvalidRequestError, match="max_retries"):
            pb.subscribers.bulk_upsert([], max_retries=-1)
        with pytest.raises(InvalidRequestError, match="segmentation list"):
            pb.subscribers.bulk_upsert([], segmentation_lists=[""])
    assert open_mock.request_counts() == {}


def test_a_wrong_key_stops_the_run_instead_of_failing_every_record(
    open_mock: RunningMock, tmp_path: Path
) -> None:
    journal = tmp_path / "sync.journal"
    with (
        Pingback(api_key="wrong", base_url=open_mock.base_url, rate_limit=None) as pb,
        pytest.raises(Forbidden),
    ):
        pb.subscribers.bulk_upsert(
            ({"email": f"f{i}@example.com"} for i in range(100)), journal=journal
        )
    assert sum(open_mock.request_counts().values()) == 1


def test_journal_skips_done_records_and_retries_failed_ones(
    open_mock: RunningMock, tmp_path: Path
) -> None:
    journal = tmp_path / "sync.journal"
    wanted = [{"email": f"j{i}@example.com", "segmentationLists": ["list-c"]} for i in range(5)]
    with client(open_mock) as pb:
        first = pb.subscribers.bulk_upsert(wanted, journal=journal)
        assert len(first.failed) == 5  # list-c does not exist yet
        open_mock.add_segmentation_list("list-c")
        before = sum(open_mock.request_counts().values())
        second = pb.subscribers.bulk_upsert(wanted, journal=journal)
        assert second.created == 5 and second.resumed == 0
        assert sum(open_mock.request_counts().values()) - before == 5
        third = pb.subscribers.bulk_upsert(wanted, journal=journal)
        assert third.resumed == 5 and third.created == 5  # counted from the journal, not resent
        assert sum(open_mock.request_counts().values()) - before == 5
    text = journal.read_text()
    assert open_mock.api_key not in text
    header = json.loads(text.splitlines()[0])
    assert header["format"] == "pingback-bulk-upsert/1" and "account" in header


def test_duplicate_emails_in_the_input_are_two_records(open_mock: RunningMock) -> None:
    with client(open_mock) as pb:
        report = pb.subscribers.bulk_upsert(
            [
                {"email": "twice@example.com", "name": "A"},
                {"email": "twice@example.com", "name": "B"},
            ]
        )
        assert [o.action for o in report.outcomes] == ["created", "updated"]
        assert pb.subscribers.get("twice@example.com").name == "B"


def test_a_torn_last_line_is_dropped_and_a_foreign_journal_refused(
    open_mock: RunningMock, tmp_path: Path
) -> None:
    journal = tmp_path / "sync.journal"
    with client(open_mock) as pb:
        pb.subscribers.bulk_upsert([{"email": "t0@example.com"}], journal=journal)
    with journal.open("a") as handle:
        handle.write('{"email":"t1@example.com","n":0,"act')  # killed mid-write
    with client(open_mock) as pb:
        report = pb.subscribers.bulk_upsert(
            [{"email": "t0@example.com"}, {"email": "t1@example.com"}], journal=journal
        )
    assert (report.resumed, report.created) == (1, 2)
    assert journal.read_text().endswith("\n") and len(journal.read_text().splitlines()) == 3
    with (
        serve_mock(api_keys=("another",), rate_limit=0) as other,
        Pingback(api_key="another", base_url=other.base_url, rate_limit=None) as pb,
        pytest.raises(ConfigurationError, match="another account"),
    ):
        pb.subscribers.bulk_upsert([], journal=journal)
    (tmp_path / "junk").write_text("hello\n")
    with client(open_mock) as pb, pytest.raises(ConfigurationError, match="not a bulk upsert"):
        pb.subscribers.bulk_upsert([], journal=tmp_path / "junk")


async def test_async_bulk_matches_sync_outcomes(open_mock: RunningMock, tmp_path: Path) -> None:
    progress: list[RecordOutcome] = []

    def on_progress(outcome: RecordOutcome, report: BulkReport) -> None:
        progress.append(outcome)

    wanted = [{"email": f"a{i}@example.com", "name": str(i)} for i in range(12)]
    async with AsyncPingback(
        api_key=open_mock.api_key, base_url=open_mock.base_url, rate_limit=None
    ) as pb:
        report = await pb.subscribers.bulk_upsert(
            wanted, journal=tmp_path / "j", on_progress=on_progress
        )
        again = await pb.subscribers.bulk_upsert([*wanted, {"email": "a0@example.com"}])
    assert report.created == 12 and len(progress) == 12
    assert [o.index for o in report.outcomes] == list(range(12))
    assert (again.unchanged, again.total) == (13, 13)


def test_kill_9_midway_then_resume_finds_every_record_exactly_once(tmp_path: Path) -> None:
    """SIGKILL a 200-record bulk run in a subprocess, rerun it, account for every record."""
    count, journal, report_path = 200, tmp_path / "sync.journal", tmp_path / "report.json"
    db = tmp_path / "mock.sqlite"
    with serve_mock(rate_limit=0, segmentation_lists=("list-a",), db_path=str(db)) as mock:
        command = [sys.executable, "-m", "tests.resilience.bulk_worker", mock.base_url,
                   mock.api_key, str(journal), str(count), str(report_path)]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        assert worker.stdout is not None
        finished = 0
        for line in worker.stdout:
            finished = int(line.split()[0])
            if finished >= 70:
                break
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
        assert worker.returncode == -signal.SIGKILL and not report_path.exists()
        journaled = len(journal.read_text().splitlines()) - 1
        assert 70 <= journaled < count

        rerun = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=120)  # fmt: skip
        assert rerun.returncode == 0, rerun.stderr
        report = json.loads(report_path.read_text())

        assert mock.app.store.count_subscribers() == count
        with Pingback(api_key=mock.api_key, base_url=mock.base_url, rate_limit=None) as pb:
            for i in range(count):
                sub = pb.subscribers.get(f"resume{i}@example.com")
                assert sub.segmentation_lists == ["list-a"]
    assert report["total"] == count and report["failed"] == 0
    assert report["emails"] == [f"resume{i}@example.com" for i in range(count)]
    assert report["resumed"] == journaled
    # Records done before the kill come from the journal; the one in flight, if it had
    # landed, is found unchanged; the rest are created by the rerun.
    assert report["created"] + report["unchanged"] == count
    assert report["unchanged"] <= 1
    entries = [json.loads(line) for line in journal.read_text().splitlines()[1:]]
    assert sorted(e["email"] for e in entries) == sorted(
        f"resume{i}@example.com" for i in range(count)
    )
