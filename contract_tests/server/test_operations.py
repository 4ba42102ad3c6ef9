"""Every operation, with generated positive and negative requests, against every check."""

from __future__ import annotations

import pytest

from . import harness

RUNTIME = harness.runtime()
schema = RUNTIME.schema


@schema.parametrize()
@harness.hypothesis_settings(RUNTIME.target.max_examples)
def test_operation(case, contract: harness.Runtime) -> None:  # type: ignore[no-untyped-def]
    if not contract.checks:
        pytest.skip("no response check is selected (--checks)")
    contract.call_and_check(case)
