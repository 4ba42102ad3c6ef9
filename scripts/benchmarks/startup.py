#!/usr/bin/env python3
"""Start-up cost: `import pingback_ext` and `pingback --version` beside a bare `import httpx`.

Each command runs in a fresh interpreter (the same one, same flags), interleaved round by
round so that machine load hits all three alike; the median wall time of each is compared.
Bytecode is cached for all of them alike (in a temporary PYTHONPYCACHEPREFIX, written by a
warm-up run), as after a pip install: PYTHONDONTWRITEBYTECODE would otherwise make an editable
checkout recompile its sources on every start while site-packages use their .pyc files.
Goals: `import pingback_ext` <= 1.5x and `pingback --version` <= 1.6x `import httpx`.
Also lists which optional stacks `import pingback_ext` loaded (should be none of them).

Usage: .venv/bin/python scripts/benchmarks/startup.py [--rounds 21]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PINGBACK = Path(sys.executable).with_name("pingback")
COMMANDS = {
    "import httpx": [sys.executable, "-c", "import httpx"],
    "import pingback_ext": [sys.executable, "-c", "import pingback_ext"],
    "pingback --version": [str(PINGBACK), "--version"],
}
GOALS = {"import pingback_ext": 1.5, "pingback --version": 1.6}
STACKS = ("typer", "rich", "uvicorn", "redis", "schemathesis", "hypothesis", "pytest")
PROBE = (
    "import sys; before = set(sys.modules); import httpx; after_httpx = set(sys.modules);"
    " import pingback_ext;"
    f" print(' '.join(m for m in {STACKS!r} if m in sys.modules and m not in after_httpx))"
)


def wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    with tempfile.TemporaryDirectory(prefix="pingback-startup-") as pycache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = pycache
        for cmd in COMMANDS.values():  # write the .pyc files, warm the OS file cache
            wall(cmd, env)
        for _ in range(args.rounds):
            for name, cmd in COMMANDS.items():
                times[name].append(wall(cmd, env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["import httpx"]
    print(f"start-up, median of {args.rounds} interleaved runs ({sys.executable}):")
    failed = False
    for name, median in medians.items():
        line = f"  {name:<22} {median * 1000:7.1f} ms"
        if name in GOALS:
            ratio = median / base
            ok = ratio <= GOALS[name]
            failed |= not ok
            verdict = "ok" if ok else "MISSED"
            line += f"  {ratio:.2f}x import httpx (goal <= {GOALS[name]}x) {verdict}"
        print(line)
    loaded = subprocess.run(
        [sys.executable, "-c", PROBE], check=True, capture_output=True, text=True
    ).stdout.split()
    print(f"  optional stacks that import pingback_ext adds: {', '.join(loaded) or 'none'}")
    return 1 if failed or loaded else 0


if __name__ == "__main__":
    sys.exit(main())
