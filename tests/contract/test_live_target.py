"""Against a non-loopback target every request carries developer mode, and pacing holds.

The "live" target is https://pingback.invalid/v1; the `live_routing` plugin records each
request the suite sends and delivers it in-process to a mock on loopback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pingback_ext.mock import serve_mock
from tests.contract.fake_data import FAKE_DATA
from tests.contract.faults import KEY, LISTS, serve_faulty


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_every_live_request_carries_developer_mode(contract_run: Any, tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    with serve_mock(api_keys=(KEY,), segmentation_lists=LISTS, rate_limit=0) as mock:
        run = contract_run(
            "--base-url",
            "https://pingback.invalid/v1",
            "--api-key",
            KEY,
            "--segmentation-list",
            LISTS[0],
            "--max-examples",
            "5",
            "--stateful",  # so every kind of request (sequences, read-after-write) is sent
            "--rate-limit",
            "200/s",  # the real pace is tested below; here only the headers matter
            "--",
            "-p",
            "tests.contract.live_routing",
            env={"LIVE_ROUTE_TO": mock.root_url, "LIVE_ROUTE_LOG": str(log)},
            timeout=180,
        )
        dev_mode_hits = sum(
            count for status, count in mock.app.request_counts().items() if status < 500
        )
    assert "(live)" in run.output
    assert run.returncode == 0, run.output
    records = _records(log)
    assert len(records) > 100, len(records)
    assert dev_mode_hits >= len(records) // 2
    assert {r["url"].split("/v1/")[0] for r in records} == {"https://pingback.invalid"}
    missing = [r for r in records if r["headers"].get("x-developer-mode") != "true"]
    assert not missing, missing[:3]


def test_developer_mode_cannot_be_turned_off_for_live_targets(contract_run: Any) -> None:
    run = contract_run(
        "--base-url", "https://pingback.invalid/v1", "--api-key", KEY, "--no-developer-mode"
    )
    assert run.returncode == 2
    assert "developer mode cannot be turned off for a live target" in run.output
    assert "Traceback" not in run.output


@pytest.mark.slow
def test_suite_passes_against_the_mock_at_its_real_limit(contract_run: Any) -> None:
    """5/s with bursts of 2, as Pingback documents: paced, with 429s retried, no false failures."""
    with serve_mock(api_keys=(KEY,), segmentation_lists=LISTS, rate_limit=5.0, burst=2) as mock:
        run = contract_run(
            "--base-url",
            mock.base_url,
            "--api-key",
            KEY,
            "--segmentation-list",
            LISTS[0],
            "--max-examples",
            "3",
            # Two operations (~280 requests, a minute at 5/s) show the pacing as well as five
            # (~600): the whole run's cost at 5/s is counted, not timed, by the summary.
            "--operation",
            "createSubscriber",
            "--operation",
            "getSubscriber",
            "--rate-limit",
            "5/s",
            "--burst",
            "2",
            timeout=240,
        )
        counts = mock.app.request_counts()
    assert run.returncode == 0, run.output
    assert run.summary["failures"] == [] and run.summary["errors"] == []
    assert sum(counts.values()) > 50
    # Whatever 429s the pacing did not avoid were retried, never reported.
    assert counts.get(429, 0) == run.summary["retried429"]


def _live_run_against_fake_data(contract_run: Any, tmp_path: Path, *extra: str) -> Any:
    log = tmp_path / "fake-requests.jsonl"
    with serve_faulty(FAKE_DATA) as (base_url, _):
        run = contract_run(
            "--base-url",
            "https://pingback.invalid/v1",
            "--api-key",
            KEY,
            "--segmentation-list",
            LISTS[0],
            "--max-examples",
            "5",
            "--rate-limit",
            "200/s",  # the pace is not under test here; the count of requests is
            *extra,
            "--",
            "-p",
            "tests.contract.live_routing",
            env={"LIVE_ROUTE_TO": base_url.rsplit("/v1", 1)[0], "LIVE_ROUTE_LOG": str(log)},
            timeout=240,
        )
    return run, _records(log)


@pytest.mark.slow  # a pingback contract run (or pytest) in a subprocess
def test_a_live_run_against_fake_data_passes(contract_run: Any, tmp_path: Path) -> None:
    """Issue 24: against a server that enforces auth and answers schema-valid fake data (as a
    developer-mode target may), the default live run passes: it runs the checks of shape only
    and says so, with the requests it sent and their time at 5/s."""
    run, records = _live_run_against_fake_data(contract_run, tmp_path)
    assert run.returncode == 0, run.output
    assert "checks assuming only the shape of each answer: ran" in run.output
    assert (
        "checks assuming a consistent record (dates, answers about what was asked): not run"
        in run.output
    )
    assert "checks assuming state across requests" in run.output
    assert run.summary["requestsSent"] == len(records) > 50
    assert f"requests sent: {len(records)}; at 5/s" in run.output
    assert run.summary["secondsAtRateLimit"] == (len(records) - 2) / 5


@pytest.mark.slow  # a pingback contract run (or pytest) in a subprocess
def test_every_check_fake_data_fails_assumes_a_record_or_state(
    contract_run: Any, tmp_path: Path
) -> None:
    """The other side of the classification: with --stateful against the same fake data, what
    fails is exactly what assumes more than shape."""
    from contract_tests.server.checks import ASSUMES

    run, _ = _live_run_against_fake_data(contract_run, tmp_path, "--stateful")
    assert run.returncode == 1, run.output
    failed = run.failed_checks
    assert {"subscriber_dates_consistent", "answer_matches_request"} & failed, run.output
    assert {ASSUMES.get(name, "?") for name in failed} <= {"record", "state"}, failed
