"""Running `pingback contract` as a user would: a subprocess with a report directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.fixtures import hostile_server  # noqa: F401  (the kit's scripted servers)

REPO = Path(__file__).resolve().parents[2]
PINGBACK = Path(sys.executable).parent / "pingback"


@dataclass
class ContractRun:
    returncode: int
    output: str
    summary: dict[str, Any]

    @property
    def failed_checks(self) -> set[str]:
        return {failure["check"] for failure in self.summary["failures"]}


def run_contract(
    tmp_path: Path,
    *args: str,
    env: dict[str, str | None] | None = None,
    timeout: float = 240,  # a cold first run on a loaded machine: imports alone take seconds
    cwd: Path = REPO,
) -> ContractRun:
    report_dir = tmp_path / "report"
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("PINGBACK_")}
    for name, value in (env or {}).items():  # None: unset
        if value is None:
            clean_env.pop(name, None)
        else:
            clean_env[name] = value
    done = subprocess.run(
        [str(PINGBACK), "contract", "--report-dir", str(report_dir), "--seed", "1", *args],
        cwd=cwd,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    output = done.stdout + done.stderr
    summary_file = report_dir / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    return ContractRun(done.returncode, output, summary)


@pytest.fixture
def contract_run(tmp_path: Path) -> Any:
    def run(*args: str, **kwargs: Any) -> ContractRun:
        return run_contract(tmp_path, *args, **kwargs)

    return run
