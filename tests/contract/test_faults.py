"""The suite is tested itself: it passes on the faithful mock and fails on each planted fault."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.faults import FAULTS, KEY, LISTS, serve_faulty

MAX_EXAMPLES = "6"


def _target_args(base_url: str) -> list[str]:
    args = ["--base-url", base_url, "--api-key", KEY, "--max-examples", MAX_EXAMPLES]
    for list_id in LISTS:
        args += ["--segmentation-list", list_id]
    return args


def test_faithful_mock_passes(contract_run: Any) -> None:
    with serve_faulty(None) as (base_url, _):
        run = contract_run(*_target_args(base_url))
    assert run.returncode == 0, run.output
    assert "PASS: the server honours the contract" in run.output
    assert run.summary["passed"] is True
    assert set(run.summary["cases"]) == {
        "POST /subscriber",
        "GET /subscriber/{email}",
        "PUT /subscriber/{email}",
        "POST /segmentation/add-subscriber/{email}",
        "DELETE /segmentation/{id}/remove-subscriber/{email}",
    }


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_planted_fault_is_reported(contract_run: Any, name: str) -> None:
    fault = FAULTS[name]
    with serve_faulty(fault) as (base_url, _):
        run = contract_run(*_target_args(base_url))
    assert run.returncode == 1, run.output
    assert "FAIL:" in run.output
    assert run.failed_checks & fault.expected_checks, (
        f"{name}: expected one of {sorted(fault.expected_checks)}, "
        f"got {sorted(run.failed_checks)}\n{run.output}"
    )
    # Every failure comes with a reproduction, and the key is never printed or stored.
    assert all(f["reproduction"] for f in run.summary["failures"])
    assert KEY not in run.output
    assert KEY not in str(run.summary)
