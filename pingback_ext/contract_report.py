"""What a contract run found: cases per operation, failures with reproductions, and the summary.

The suite records into a `Ledger` while it runs; `pingback contract` renders it. Every text
that goes in passes through `Ledger.redact`, so the API key never reaches the terminal, the
JUnit file or the reproduction artifacts.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

REDACTED = "[redacted]"


@dataclass(frozen=True)
class ContractFailure:
    """One distinct way the server broke the contract, with what it takes to see it again."""

    operation: str
    check: str
    title: str
    message: str
    reproduction: str
    request_id: str | None = None
    status: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """Failures with the same key are one finding (hypothesis replays failing examples)."""
        return (self.operation, self.check, self.title)


@dataclass
class Ledger:
    """Accumulates results during a run; `secrets` are redacted from everything recorded."""

    secrets: tuple[str, ...] = ()
    cases: Counter[str] = field(default_factory=Counter)
    failures: list[ContractFailure] = field(default_factory=list)
    retried_429: int = 0
    errors: list[str] = field(default_factory=list)
    #: Every `record_failure` call, duplicates included: tells a test that found something
    #: already known from one that failed for another reason.
    reports: int = 0

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, REDACTED)
        return text

    def record_case(self, operation: str) -> None:
        self.cases[operation] += 1

    def record_failure(
        self,
        *,
        operation: str,
        check: str,
        title: str,
        message: str,
        reproduction: str,
        request_id: str | None = None,
        status: int | None = None,
    ) -> bool:
        """Record a failure unless the same one is already known; True when it was new."""
        self.reports += 1
        failure = ContractFailure(
            operation=operation,
            check=check,
            title=self.redact(title),
            message=self.redact(message),
            reproduction=self.redact(reproduction),
            request_id=request_id,
            status=status,
        )
        if any(known.key == failure.key for known in self.failures):
            return False
        self.failures.append(failure)
        return True

    def record_error(self, message: str) -> None:
        """A problem that is not a contract failure (a test could not run)."""
        self.errors.append(self.redact(message))

    def failed_checks(self, operation: str) -> int:
        return sum(1 for failure in self.failures if failure.operation == operation)

    @property
    def passed(self) -> bool:
        return not self.failures and not self.errors

    # -- output -------------------------------------------------------------------------------

    def summary(self, header: list[str] | None = None) -> str:
        """The readable summary `pingback contract` prints."""
        lines = ["", "Pingback contract summary", "========================="]
        lines += header or []
        operations = sorted(set(self.cases) | {f.operation for f in self.failures})
        width = max([len(op) for op in operations] + [9])
        lines += ["", f"{'operation':<{width}}  {'cases':>6}  {'checks failed':>13}"]
        for op in operations:
            lines.append(f"{op:<{width}}  {self.cases[op]:>6}  {self.failed_checks(op):>13}")
        lines.append(f"429 responses retried after Retry-After: {self.retried_429}")
        for number, failure in enumerate(self.failures, 1):
            lines += [
                "",
                f"FAILURE {number}: {failure.operation} [{failure.check}] {failure.title}",
                *("    " + line for line in failure.message.strip().splitlines()),
                f"    status: {failure.status if failure.status is not None else '-'}"
                f"    requestId: {failure.request_id or '-'}",
                "    reproduce with:",
                *("      " + line for line in failure.reproduction.strip().splitlines()),
            ]
        for error in self.errors:
            lines += ["", f"ERROR: {error}"]
        verdict = (
            "PASS: the server honours the contract"
            if self.passed
            else f"FAIL: {len(self.failures)} failure(s), {len(self.errors)} error(s)"
        )
        return "\n".join([*lines, "", verdict])

    def write_artifacts(self, directory: Path) -> list[Path]:
        """One reproduction file per failure plus summary.json; returns the files written."""
        directory.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for number, failure in enumerate(self.failures, 1):
            slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{failure.operation}-{failure.check}").strip("-")
            path = directory / f"failure-{number:03d}-{slug}.json"
            path.write_text(json.dumps(asdict(failure), indent=2) + "\n", encoding="utf-8")
            written.append(path)
        summary = {
            "passed": self.passed,
            "cases": dict(self.cases),
            "failures": [asdict(failure) for failure in self.failures],
            "errors": self.errors,
            "retried429": self.retried_429,
        }
        path = directory / "summary.json"
        path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        return [*written, path]

    @classmethod
    def load(cls, directory: Path) -> Ledger:
        """Read back `summary.json` (used when the suite ran in another process)."""
        data = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
        ledger = cls(cases=Counter(data["cases"]), retried_429=int(data["retried429"]))
        ledger.failures = [ContractFailure(**item) for item in data["failures"]]
        ledger.errors = list(data["errors"])
        return ledger
