#!/usr/bin/env python3
"""Start-up cost: `import pingback_ext` and `pingback --version` beside a bare `import httpx`.

Measured where a user meets them: two fresh venvs made here from this checkout (not editable),
one with `pip install .` (the client alone) and one with `pip install '.[cli]'`. The development
venv would flatter the ratios: it has click installed, and httpx then loads click, rich and
pygments for its own CLI on `import httpx`, inflating the baseline. (The `[cli]` extra brings
no click: Typer carries its own.) When the venvs cannot be made (pip cannot reach PyPI), or with
`--here`, this interpreter is measured instead, and the report says whether its httpx is bare.

Each command runs in a fresh interpreter, interleaved round by round so that machine load hits
all alike; medians are compared. Bytecode is cached for all alike, as after a pip install.
Goals: `import pingback_ext` <= 1.5x and `pingback --version` <= 1.6x a bare `import httpx`.
Also shown, without goals: the import with the generated models loaded (what the first call
adds; they load on first use), and `pingback --help` (the Typer root: `pingback --version`
alone is answered before Typer loads).
Also lists which optional stacks `import pingback_ext` loaded (should be none of them).

Usage: .venv/bin/python scripts/benchmarks/startup.py [--rounds 21] [--here]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOALS = {"import pingback_ext": 1.5, "pingback --version": 1.6}
STACKS = ("typer", "rich", "uvicorn", "redis", "schemathesis", "hypothesis", "pytest")
HTTPX_CLI = ("click", "rich", "pygments")
PROBE = (
    "import sys; import httpx; after_httpx = set(sys.modules); import pingback_ext;"
    f" print(' '.join(m for m in {STACKS!r} if m in sys.modules and m not in after_httpx))"
)


@dataclass(frozen=True)
class Venv:
    """Where to run: a Python interpreter and the `pingback` script beside it."""

    python: Path

    @property
    def pingback(self) -> Path:
        return self.python.with_name("pingback")

    def run(self, code: str) -> str:
        done = subprocess.run(
            [str(self.python), "-c", code], check=True, capture_output=True, text=True
        )
        return done.stdout.strip()


def fresh_venv(where: Path, requirement: str) -> Venv:
    """A new venv with `requirement` installed from this checkout (as a user's pip does)."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    venv = Venv(where / "bin" / "python")
    subprocess.run(
        [str(venv.python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         requirement],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=900,
    )  # fmt: skip
    return venv


def wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def measure(commands: dict[str, list[str]], rounds: int, env: dict[str, str]) -> dict[str, float]:
    """Median wall time of each command, run interleaved round by round."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():  # write any .pyc files, warm the OS file cache
        wall(cmd, env)
    for _ in range(rounds):
        for name, cmd in commands.items():
            times[name].append(wall(cmd, env))
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--here", action="store_true", help="measure this interpreter's install")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pingback-startup-") as tmp:
        here = Venv(Path(sys.executable))
        lean = cli = here
        where = f"this interpreter ({sys.executable})"
        if not args.here:
            try:
                lean = fresh_venv(Path(tmp, "lean"), str(REPO))
                cli = fresh_venv(Path(tmp, "cli"), f"{REPO}[cli]")
                where = "fresh venvs: `pip install .` and `pip install '.[cli]'`"
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as failed:
                detail = (getattr(failed, "stderr", "") or "").strip().splitlines()[-1:]
                print(f"startup: could not make fresh venvs ({' '.join(detail) or failed});"
                      " measuring this interpreter instead", file=sys.stderr)  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp, "pycache"))  # for an editable checkout
        commands = {
            "import httpx": [str(lean.python), "-c", "import httpx"],
            "import pingback_ext": [str(lean.python), "-c", "import pingback_ext"],
            "  + generated models": [
                str(lean.python), "-c", "from pingback_ext import Pingback, Subscriber"
            ],
            "pingback --version": [str(cli.pingback), "--version"],
            "pingback --help": [str(cli.pingback), "--help"],
        }  # fmt: skip
        medians = measure(commands, args.rounds, env)
        httpx_loads = lean.run(
            f"import sys, httpx; print(' '.join(m for m in {HTTPX_CLI!r} if m in sys.modules))"
        )
        loaded = lean.run(PROBE).split()
    base = medians["import httpx"]
    print(f"start-up, median of {args.rounds} interleaved runs, in {where}:")
    if httpx_loads:
        print(f"  (here `import httpx` also loads {httpx_loads} for httpx's CLI: the baseline is"
              " inflated and the ratios flattered; a fresh install has none of them)")  # fmt: skip
    failed = False
    for name, median in medians.items():
        line = f"  {name:<22} {median * 1000:7.1f} ms  {median / base:.2f}x import httpx"
        if name in GOALS:
            ok = median / base <= GOALS[name]
            failed |= not ok
            line += f" (goal <= {GOALS[name]}x) {'ok' if ok else 'MISSED'}"
        print(line)
    print(f"  optional stacks that import pingback_ext adds: {', '.join(loaded) or 'none'}")
    return 1 if failed or loaded else 0


if __name__ == "__main__":
    sys.exit(main())
