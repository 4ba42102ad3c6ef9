"""Mutation testing of the client's core with mutmut: one table, then the survivors.

    scripts/mutation                      the core modules (see CORE)
    scripts/mutation errors paths         some of them (a name, a path or a dotted module)
    scripts/mutation --max-children 1     fewer parallel test runs (default 2)
    scripts/mutation --report             print the table of the last run again

mutmut's settings (which tests, timeouts, files to copy) live in pyproject.toml's [tool.mutmut];
this script narrows `only_mutate` to the modules asked for, starts from an empty mutants/ so every
result is fresh (a cached verdict can predate new tests), and scores each module:

    score = killed / (generated - equivalent)

Equivalent mutants (no test could tell them from the original) are listed with their reason in
scripts/mutation_equivalents.toml and counted apart; a listed mutant that a test kills is reported,
since the list is then wrong. "no tests" (code no selected test reaches) counts as survived; a
timeout or a crashed test run counts as killed (the tests did notice).
"""

from __future__ import annotations

import argparse
import difflib
import io
import os
import shutil
import sys
import time
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENTS_FILE = ROOT / "scripts" / "mutation_equivalents.toml"
#: settings.py was split (the key type, the header rules and PINGBACK_LOG have modules of their
#: own): its three parts stay in the core, so the code mutated is the same as before the split.
CORE = (
    "errors",
    "settings",
    "apikey",
    "headers",
    "logs",
    "retries",
    "bodies",
    "paths",
    "ratelimit",
)
PACKAGE = "pingback_ext"
#: mutmut's exit-code verdicts that count as "a test saw the mutant".
DETECTED = {"killed", "timeout", "caught by type check", "segfault"}
#: pytest's exit code for an internal error (a plugin or conftest that cannot load, ...). mutmut
#: counts it as a kill; here it is not one: a broken test run must not pass for a good score.
PYTEST_INTERNAL_ERROR = 3
INTERNAL = "pytest internal error"


@dataclass
class Mutant:
    name: str
    status: str
    removed: list[str]
    added: list[str]
    reason: str | None = None  # set when the mutant is listed as equivalent

    @property
    def function(self) -> str:
        mangled = self.name.partition("__mutmut_")[0].rpartition(".")[2]
        if mangled.startswith("xǁ"):  # a method: xǁClassǁname
            return mangled.removeprefix("xǁ").replace("ǁ", ".")
        return mangled.removeprefix("x_")


@dataclass
class ModuleResult:
    path: str
    mutants: list[Mutant] = field(default_factory=list)

    def count(self, *statuses: str) -> int:
        return sum(m.status in statuses for m in self.mutants)

    @property
    def equivalent(self) -> list[Mutant]:
        return [m for m in self.mutants if m.status == "equivalent"]

    @property
    def survivors(self) -> list[Mutant]:
        return [m for m in self.mutants if m.status not in DETECTED | {"equivalent"}]

    @property
    def killed(self) -> int:
        return sum(m.status in DETECTED for m in self.mutants)

    @property
    def score(self) -> float | None:
        counted = len(self.mutants) - len(self.equivalent)
        return self.killed / counted if counted else None


def module_path(name: str) -> str:
    """`errors`, `errors.py`, `pingback_ext/errors.py` or `pingback_ext.errors` -> the path."""
    text = name.strip().removesuffix(".py").replace(".", "/")
    if not text.startswith(f"{PACKAGE}/"):
        text = f"{PACKAGE}/{text}"
    path = f"{text}.py"
    if not (ROOT / path).is_file():
        raise SystemExit(f"scripts/mutation: no module {name!r} (looked for {path})")
    return path


# ----------------------------------------------------------------------------- running mutmut


class _LogProgress(io.TextIOBase):
    """mutmut redraws a spinner line with "\\r"; in a log, keep one such line every 30 s."""

    def __init__(self, out: io.TextIOBase, every: float = 30.0) -> None:
        self._out, self._every = out, every
        self._pending: str | None = None
        self._last = 0.0

    def write(self, text: str) -> int:
        if text.startswith("\r"):
            self._pending = text[1:].rstrip()
            if time.monotonic() - self._last >= self._every:
                self._emit()
            return len(text)
        self._emit()
        return self._out.write(text)

    def _emit(self) -> None:
        if self._pending:
            self._out.write(self._pending + "\n")
            self._last = time.monotonic()
        self._pending = None

    def flush(self) -> None:
        self._out.flush()

    def isatty(self) -> bool:
        return False


def run_mutmut(paths: Sequence[str], max_children: int) -> None:
    """`mutmut run` in this process, with `only_mutate` narrowed to `paths`."""
    shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    if not sys.stdout.isatty():
        progress = _LogProgress(sys.stdout)  # type: ignore[arg-type]
        sys.stdout = sys.__stdout__ = progress
    from mutmut.configuration import config

    settings = config()
    settings.only_mutate = list(paths)
    from mutmut.__main__ import cli

    try:
        cli.main(["run", "--max-children", str(max_children)], standalone_mode=False)
    except SystemExit as stop:
        if stop.code not in (0, None):
            raise SystemExit(
                f"scripts/mutation: mutmut stopped (exit {stop.code}); see above"
            ) from None


# ----------------------------------------------------------------------------- reading results


def load_equivalents() -> list[dict[str, str]]:
    with EQUIVALENTS_FILE.open("rb") as fh:
        entries: list[dict[str, str]] = tomllib.load(fh).get("equivalent", [])
    for entry in entries:
        missing = {"module", "function", "original", "mutant", "reason"} - set(entry)
        if missing:
            raise SystemExit(f"{EQUIVALENTS_FILE.name}: entry {entry} lacks {sorted(missing)}")
    return entries


def _norm(line: str) -> str:
    return " ".join(line.split())


def changed_lines(diff: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in diff.splitlines():
        if line.startswith(("---", "+++")):
            continue
        if line.startswith("-"):
            removed.append(_norm(line[1:]))
        elif line.startswith("+"):
            added.append(_norm(line[1:]))
    return removed, added


def matching_entry(
    path: str, mutant: Mutant, entries: list[dict[str, str]]
) -> dict[str, str] | None:
    for entry in entries:
        if (
            module_path(entry["module"]) == path
            and entry["function"] == mutant.function
            and _norm(entry["original"]) in mutant.removed
            and _norm(entry["mutant"]) in mutant.added
        ):
            return entry
    return None


def collect(paths: Sequence[str]) -> tuple[list[ModuleResult], list[str]]:
    """Per-module verdicts from mutants/, equivalents applied; plus warnings about the list."""
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    entries = load_equivalents()
    used: set[int] = set()
    warnings: list[str] = []
    results = []
    for path in paths:
        data = SourceFileMutationData(path=path)
        data.load()
        if not data.exit_code_by_key:
            warnings.append(f"{path}: no mutants recorded (did mutmut run?)")
        result = ModuleResult(path)
        for name, code in sorted(data.exit_code_by_key.items(), key=lambda kv: _natural(kv[0])):
            status = INTERNAL if code == PYTEST_INTERNAL_ERROR else status_by_exit_code[code]
            removed, added = changed_lines(get_diff_for_mutant(name, path=path))
            mutant = Mutant(name, status, removed, added)
            entry = matching_entry(path, mutant, entries)
            if entry is not None:
                used.add(id(entry))
                if status in DETECTED:
                    warnings.append(
                        f"{mutant.name} is listed as equivalent ({entry['reason']}) but a test "
                        "kills it: fix scripts/mutation_equivalents.toml"
                    )
                else:
                    mutant.status, mutant.reason = "equivalent", entry["reason"]
            result.mutants.append(mutant)
        results.append(result)
    broken = sum(m.status == INTERNAL for r in results for m in r.mutants)
    if broken:
        warnings.append(
            f"{broken} mutant(s) ended in a {INTERNAL} (exit 3), counted as survived: when many "
            "end so, the test run itself is broken (a plugin or import that fails); run one with "
            "`.venv/bin/mutmut run NAME` to see why"
        )
    for entry in entries:
        if module_path(entry["module"]) in paths and id(entry) not in used:
            warnings.append(
                f"equivalent entry matches no mutant (stale?): {entry['module']} "
                f"{entry['function']}: {entry['original']!r} -> {entry['mutant']!r}"
            )
    return results, warnings


def _natural(name: str) -> tuple[str, int]:
    base, _, number = name.rpartition("__mutmut_")
    return base, int(number) if number.isdigit() else 0


# ----------------------------------------------------------------------------- the report


def describe(mutant: Mutant) -> str:
    """One line per change: `- old` / `+ new` (a deletion shows no `+`)."""
    parts = []
    matcher = difflib.SequenceMatcher(a=mutant.removed, b=mutant.added)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        parts += [f"      - {line}" for line in mutant.removed[i1:i2]]
        parts += [f"      + {line}" for line in mutant.added[j1:j2]]
    return "\n".join(parts)


def report(results: Sequence[ModuleResult], warnings: Sequence[str], elapsed: float | None) -> None:
    columns = ("generated", 10), ("killed", 8), ("survived", 10), ("equivalent", 12), ("score", 8)
    header = f"{'module':<28}" + "".join(f"{name:>{width}}" for name, width in columns)
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        score = "n/a" if r.score is None else f"{100 * r.score:.1f}%"
        print(
            f"{r.path:<28}{len(r.mutants):>10}{r.killed:>8}{len(r.survivors):>10}"
            f"{len(r.equivalent):>12}{score:>8}"
        )
    if elapsed is not None:
        print(f"\n({elapsed:.0f} s; score = killed / (generated - equivalent))")
    for r in results:
        if r.survivors:
            print(f"\nsurvivors in {r.path}:")
            for mutant in r.survivors:
                print(f"  {mutant.name} [{mutant.status}] in {mutant.function}")
                print(describe(mutant))
    for warning in warnings:
        print(f"\nwarning: {warning}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/mutation", description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", help=f"default: {' '.join(CORE)}")
    parser.add_argument("--max-children", type=int, default=2, help="parallel test runs")
    parser.add_argument(
        "--report", action="store_true", help="print the last run's table without running"
    )
    args = parser.parse_args(argv)
    paths = [module_path(name) for name in (args.modules or CORE)]
    os.chdir(ROOT)  # mutmut works in the current directory: pyproject.toml, mutants/
    started = time.monotonic()
    if not args.report:
        run_mutmut(paths, max(1, args.max_children))
    results, warnings = collect(paths)
    report(results, warnings, None if args.report else time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
