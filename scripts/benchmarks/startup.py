#!/usr/bin/env python3
"""Start-up: `from pingback_ext import Pingback` and `pingback --version` beside `import httpx`.

Measured where a user meets them: two fresh venvs made here from this checkout (not editable),
one with `pip install .` (the client alone) and one with `pip install '.[cli]'`. The development
venv would flatter the ratios: it has click installed, and httpx then loads click, rich and
pygments for its own CLI on `import httpx`, inflating the baseline. (The `[cli]` extra brings
no click: Typer carries its own.) When the venvs cannot be made (pip cannot reach PyPI), or with
`--here`, this interpreter is measured instead, and the report says whether its httpx is bare.

Each command runs in a fresh interpreter, interleaved round by round (in a shuffled order each
round) so that machine load hits all alike; medians are compared. Bytecode is cached for all
alike, as after a pip install.
`import pingback_ext` alone loads nothing (each public name loads its module on first use), so
what an application pays is measured as it imports the client: `from pingback_ext import
Pingback`, which must load httpx, the one thing the client cannot do without (the floor, 1.0x).
Goals: `from pingback_ext import Pingback` and `pingback --version` <= 1.15x a bare `import httpx`,
judged on CPU time (user + system of the child): on a busy machine wall time mostly measures
the wait for a core (medians of identical imports were seen 20 % apart). Wall medians are
printed too; on an idle machine the two agree.
Also shown, without goals: the import with the generated models loaded (what the first call
adds; they load on first use), and `pingback --help` (the Typer root: `pingback --version`
alone is answered before Typer loads).
Also lists which optional stacks `import pingback_ext` loaded (should be none of them).

Usage: .venv/bin/python scripts/benchmarks/startup.py [--rounds 21] [--here]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GOALS = {"from pingback_ext import Pingback": 1.15, "pingback --version": 1.15}
STACKS = ("typer", "rich", "uvicorn", "redis", "schemathesis", "hypothesis", "pytest")
HTTPX_CLI = ("click", "rich", "pygments")
PROBE = (
    "import sys; import httpx; after_httpx = set(sys.modules); from pingback_ext import Pingback;"
    f" print(' '.join(m for m in {STACKS!r} if m in sys.modules and m not in after_httpx))"
)


@dataclass(frozen=True)
class Venv:
    """Where to run: a Python interpreter and the `pingback` script beside it."""

    python: Path

    @property
    def pingback(self) -> Path:
        return self.python.with_name("pingback")

    def run(self, code: str, cwd: Path) -> str:
        done = subprocess.run(
            [str(self.python), "-c", code], check=True, capture_output=True, text=True, cwd=cwd
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


def run_once(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run; runs are sequential, so the children's usage
    grows by this child's alone. `cwd` must not be the checkout: `python -c` puts the current
    directory first on sys.path, and would import its pingback_ext instead of the installed one."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return cpu, wall


def measure(
    commands: dict[str, list[str]], rounds: int, env: dict[str, str], cwd: Path
) -> dict[str, tuple[float, float]]:
    """Median (CPU, wall) time of each command, run interleaved round by round."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for cmd in commands.values():  # write any .pyc files, warm the OS file cache
        run_once(cmd, env, cwd)
    order = list(commands)
    shuffle = random.Random(0).shuffle
    for _ in range(rounds):
        shuffle(order)  # no command always runs right after another one
        for name in order:
            times[name].append(run_once(commands[name], env, cwd))
    return {
        name: (statistics.median(c for c, _ in values), statistics.median(w for _, w in values))
        for name, values in times.items()
    }


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
            "from pingback_ext import Pingback": [
                str(lean.python), "-c", "from pingback_ext import Pingback"
            ],
            "  + generated models": [
                str(lean.python), "-c", "from pingback_ext import Pingback, Subscriber"
            ],
            "pingback --version": [str(cli.pingback), "--version"],
            "pingback --help": [str(cli.pingback), "--help"],
        }  # fmt: skip
        elsewhere = Path(tmp)  # not the checkout (see run_once)
        medians = measure(commands, args.rounds, env, elsewhere)
        httpx_loads = lean.run(
            f"import sys, httpx; print(' '.join(m for m in {HTTPX_CLI!r} if m in sys.modules))",
            elsewhere,
        )
        loaded = lean.run(PROBE, elsewhere).split()
    base_cpu, base_wall = medians["import httpx"]
    print(f"start-up, median of {args.rounds} interleaved runs, in {where}:")
    if httpx_loads:
        print(f"  (here `import httpx` also loads {httpx_loads} for httpx's CLI: the baseline is"
              " inflated and the ratios flattered; a fresh install has none of them)")  # fmt: skip
    failed = False
    print(f"  {'':<34} {'CPU':>8} {'ratio':>6}   {'wall':>8} {'ratio':>6}")
    for name, (cpu, wall) in medians.items():
        line = (f"  {name:<34} {cpu * 1000:5.1f} ms {cpu / base_cpu:5.2f}x"
                f"   {wall * 1000:5.1f} ms {wall / base_wall:5.2f}x")  # fmt: skip
        if name in GOALS:
            ok = cpu / base_cpu <= GOALS[name]
            failed |= not ok
            line += f"   goal <= {GOALS[name]}x (CPU): {'ok' if ok else 'MISSED'}"
        print(line)
    print(f"  optional stacks that importing the client adds: {', '.join(loaded) or 'none'}")
    return 1 if failed or loaded else 0


if __name__ == "__main__":
    sys.exit(main())
