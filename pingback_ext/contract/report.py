"""What a contract run found: cases per operation, problems with reproductions, the summary.

The suite records into a `Ledger` while it runs; `pingback contract` renders it. A *failing
case* is one request the server got wrong for one check; a *problem* is one root cause, the
(check, title) pair, however many operations and cases show it: one auth rule broken on five
operations is one problem with ten failing cases, not ten lines. Every text that goes in passes
through `Ledger.redact` (every encoding of the key, see `redaction.py`), so the key never
reaches the terminal, the JUnit file or the artifacts.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pingback_ext.contract.redaction import Secret, redact_all

#: Failing cases kept per problem in its artifact (the count is always exact).
EXAMPLES_PER_PROBLEM = 20


def paced_seconds(requests: int, rate: float = 5.0, burst: int = 2) -> float:
    """The least time `requests` take through a token bucket of `rate`/s holding `burst`."""
    return max(0, math.ceil(requests - burst)) / rate


@dataclass(frozen=True)
class ContractFailure:
    """One failing case: a request the server answered against one check."""

    operation: str
    check: str
    title: str
    message: str
    reproduction: str
    request_id: str | None = None
    status: int | None = None
    #: In a replay: which recorded exchange (cassette entry) failed.
    exchange: str | None = None

    @property
    def problem_key(self) -> tuple[str, str]:
        return (self.check, self.title)


@dataclass
class Problem:
    """One root cause: every failing case with the same check and title."""

    check: str
    title: str
    cases: list[ContractFailure] = field(default_factory=list)

    @property
    def operations(self) -> list[str]:
        return sorted({case.operation for case in self.cases})

    def to_json(self) -> dict[str, object]:
        return {
            "check": self.check,
            "title": self.title,
            "operations": self.operations,
            "failingCases": len(self.cases),
            "cases": [asdict(case) for case in self.cases[:EXAMPLES_PER_PROBLEM]],
        }


@dataclass
class Ledger:
    """Accumulates results during a run; `secrets` are redacted from everything recorded."""

    secrets: tuple[Secret, ...] = ()
    cases: Counter[str] = field(default_factory=Counter)
    failures: list[ContractFailure] = field(default_factory=list)
    retried_429: int = 0
    errors: list[str] = field(default_factory=list)
    #: Every `record_failure` call, duplicates included: tells a test that found something
    #: already known from one that failed for another reason.
    reports: int = 0
    #: Why the target could not be reached (the run stops at the first such failure).
    unreachable: str | None = None
    #: Every request sent to the target (probes and 429 retries included): a live run's cost.
    requests_sent: int = 0
    started: float = field(default_factory=time.monotonic)
    #: Which checks ran and which did not, by what they assume of the data (set by the suite).
    assumptions: list[str] = field(default_factory=list)

    def redact(self, text: str) -> str:
        return redact_all(self.secrets, text)

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
        exchange: str | None = None,
    ) -> bool:
        """Record a failing case unless the very same one is known (hypothesis replays failing
        examples); True when it was new."""
        self.reports += 1
        failure = ContractFailure(
            operation=operation,
            check=check,
            title=self.redact(title),
            message=self.redact(message),
            reproduction=self.redact(reproduction),
            request_id=None if request_id is None else self.redact(request_id),
            status=status,
            exchange=exchange,
        )
        same = (operation, check, failure.title, failure.reproduction, status, exchange)
        if any(
            (f.operation, f.check, f.title, f.reproduction, f.status, f.exchange) == same
            for f in self.failures
        ):
            return False
        self.failures.append(failure)
        return True

    def record_unreachable(self, reason: str) -> None:
        """The target did not answer (refused, reset, timed out): said once, whatever how many
        tests saw it."""
        if self.unreachable is None:
            self.unreachable = self.redact(reason)

    def record_error(self, message: str) -> None:
        """A problem that is not a contract failure (a test could not run)."""
        self.errors.append(self.redact(message))

    def problems(self) -> list[Problem]:
        """Failing cases grouped by root cause, in the order each was first seen."""
        grouped: dict[tuple[str, str], Problem] = {}
        for failure in self.failures:
            check, title = failure.problem_key
            grouped.setdefault(failure.problem_key, Problem(check, title)).cases.append(failure)
        return list(grouped.values())

    def failed_cases(self, operation: str) -> int:
        return sum(1 for failure in self.failures if failure.operation == operation)

    @property
    def passed(self) -> bool:
        return not self.failures and not self.errors and self.unreachable is None

    def verdict(self) -> str:
        if self.passed:
            return "PASS: the server honours the contract"
        if self.unreachable is not None and not self.failures:
            return "FAIL: the target is unreachable; nothing was checked after that"
        problems = self.problems()
        return (
            f"FAIL: {len(problems)} distinct problem(s), {len(self.failures)} failing case(s), "
            f"{len(self.errors)} error(s)"
        )

    # -- output -------------------------------------------------------------------------------

    def summary(self, header: list[str] | None = None) -> str:
        """The readable summary `pingback contract` prints (already redacted)."""
        lines = ["", "Pingback contract summary", "========================="]
        lines += header or []
        operations = sorted(set(self.cases) | {f.operation for f in self.failures})
        width = max([len(op) for op in operations] + [9])
        lines += ["", f"{'operation':<{width}}  {'cases':>6}  {'failing cases':>13}"]
        for op in operations:
            lines.append(f"{op:<{width}}  {self.cases[op]:>6}  {self.failed_cases(op):>13}")
        lines.append(f"429 responses retried after Retry-After: {self.retried_429}")
        lines += self.assumptions
        lines.append(self.cost())
        for number, problem in enumerate(self.problems(), 1):
            first = problem.cases[0]
            lines += [
                "",
                f"PROBLEM {number}: [{problem.check}] {problem.title}",
                f"    {len(problem.cases)} failing case(s) on: {', '.join(problem.operations)}",
                f"    first case: {first.operation}"
                + (f" (recorded exchange {first.exchange})" if first.exchange else ""),
                *("    " + line for line in first.message.strip().splitlines()),
                f"    status: {first.status if first.status is not None else '-'}"
                f"    requestId: {first.request_id or '-'}",
                "    reproduce with:",
                *("      " + line for line in first.reproduction.strip().splitlines()),
            ]
        if self.unreachable is not None:
            lines += ["", f"ERROR: the target is unreachable: {self.unreachable}"]
        for error in self.errors:
            lines += ["", f"ERROR: {error}"]
        return self.redact("\n".join([*lines, "", self.verdict()]))

    def cost(self) -> str:
        """How many requests the run sent, and how long they take at Pingback's limit."""
        at_limit = paced_seconds(self.requests_sent)
        return (
            f"requests sent: {self.requests_sent}; at 5/s with bursts of 2 they take "
            f"{at_limit:.0f} s; this run took {time.monotonic() - self.started:.0f} s"
        )

    def write_artifacts(self, directory: Path) -> list[Path]:
        """One file per problem (with its failing cases) plus summary.json; returns them."""
        directory.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        problems = self.problems()
        for number, problem in enumerate(problems, 1):
            slug = re.sub(r"[^A-Za-z0-9]+", "-", problem.check).strip("-")
            path = directory / f"problem-{number:03d}-{slug}.json"
            self._write_json(path, problem.to_json())
            written.append(path)
        summary = {
            "passed": self.passed,
            "verdict": self.verdict(),
            "cases": dict(self.cases),
            "problems": [
                {k: v for k, v in problem.to_json().items() if k != "cases"} for problem in problems
            ],
            "failures": [asdict(failure) for failure in self.failures],
            "errors": self.errors,
            "unreachable": self.unreachable,
            "retried429": self.retried_429,
            "requestsSent": self.requests_sent,
            "secondsAtRateLimit": round(paced_seconds(self.requests_sent), 1),
            "assumptions": self.assumptions,
        }
        path = directory / "summary.json"
        self._write_json(path, summary)
        return [*written, path]

    def _write_json(self, path: Path, data: object) -> None:
        path.write_text(self.redact(json.dumps(data, indent=2)) + "\n", encoding="utf-8")
