"""What a sync costs: requests per row for `pingback import`, and its memory and start.

Pingback allows 5 requests/s, so requests per row are the price of a sync. Running 10,000 rows
at that limit would take hours, so the mock runs with its limit off, the requests it answers are
counted, and the time at 5/s is projected from the count:

  (a) first import (every row new)       goal <= 1.0 request per row, lists in the create
  (b) the same export again              goal 0 requests
  (c) 1 % of the rows changed            goal <= 1.05 requests per changed row
  (d) --full (compare every row)

Then, for 200,000 rows (the file is streamed, never held): seconds from start to the first
request of a first import (goal <= 5 s), and peak RSS of a whole re-import of those rows (goal
<= 100 MB; every row is read, checked, looked up in the state). Each import runs as its own
`pingback` process, as a user would run it, under GNU time for its peak RSS.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pingback_ext.mock import RunningMock, serve_mock
from pingback_ext.settings import resolve
from pingback_ext.sync_state import SyncState
from pingback_ext.upsert import Record

PINGBACK = str(Path(sys.executable).with_name("pingback"))
TIME = shutil.which("time") or "/usr/bin/time"  # GNU time (Debian's `time` package)
KEY = "bench-sync-key"
LIMIT = 5.0
GOALS = {"first": 1.0, "unchanged": 0.0, "changed": 1.05}


def write_csv(path: Path, rows: int, changed: frozenset[int] = frozenset()) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "phone", "status", "plan", "segmentation_lists"])
        for n in range(rows):
            name = f"Renamed {n}" if n in changed else f"User {n}"
            writer.writerow([f"user{n:06d}@example.com", name, f"+5511{n:09d}",
                             "free_subscriber", "gold", "newsletter"])  # fmt: skip


def env_for(mock: RunningMock, home: Path) -> dict[str, str]:
    env = {**os.environ, "PINGBACK_API_KEY": KEY, "PINGBACK_BASE_URL": mock.base_url,
           "PINGBACK_RATE_LIMIT": "0", "XDG_STATE_HOME": str(home)}  # fmt: skip
    env.pop("PINGBACK_DEVELOPER_MODE", None)
    return env


def sent(mock: RunningMock) -> int:
    return sum(mock.app.request_counts().values())


def run_import(mock: RunningMock, home: Path, *args: str) -> dict[str, Any]:
    """One `pingback import` process: requests, seconds, peak RSS (MB).

    The peak comes from GNU time, which starts the import from its own small process: a child
    forked from this one (the mock and its data live here) would count this process's pages.
    """
    before, started = sent(mock), time.monotonic()
    with tempfile.NamedTemporaryFile("r") as peak:
        done = subprocess.run(
            [TIME, "-f", "%M", "-o", peak.name, PINGBACK, "--json", "import", *args],
            env=env_for(mock, home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        peak_kb = peak.read().strip().splitlines()[-1]
    if done.returncode != 0:
        raise SystemExit(f"import {args} failed: {done.stderr.decode()[-2000:]}")
    return {
        "requests": sent(mock) - before,
        "seconds": time.monotonic() - started,
        "rss_mb": int(peak_kb) / 1024,
    }


def first_request_seconds(mock: RunningMock, home: Path, source: Path) -> float:
    """Seconds from starting an import of `source` to the mock's first answer; then stop it."""
    before = sent(mock)
    started = time.monotonic()
    proc = subprocess.Popen([PINGBACK, "--json", "import", str(source)], env=env_for(mock, home),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        while sent(mock) == before:
            if proc.poll() is not None or time.monotonic() - started > 120:
                raise SystemExit("the import ended or hung before its first request")
            time.sleep(0.005)
        return time.monotonic() - started
    finally:
        proc.kill()
        proc.wait()


def seed_state(mock: RunningMock, home: Path, rows: int) -> None:
    """Write the state a finished import of `write_csv(rows)` leaves (setup, not measured)."""
    settings = resolve(api_key=KEY, base_url=mock.base_url, developer_mode=False,
                       timeout=None, max_retries=0)  # fmt: skip
    from pingback_ext.sync_state import default_path

    with SyncState(default_path(settings, {"XDG_STATE_HOME": str(home)}), settings) as state:
        state._db.execute("BEGIN")  # one transaction: setup, not what is measured
        for n in range(rows):
            record = Record.from_fields(
                f"user{n:06d}@example.com",
                {"name": f"User {n}", "phone": f"+5511{n:09d}", "status": "free_subscriber",
                 "custom_fields": {"plan": "gold"}, "segmentation_lists": ["newsletter"]},
            )  # fmt: skip
            state.accept(record, None)
        state._db.execute("COMMIT")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=200_000)
    args = parser.parse_args()
    if not Path(TIME).is_file():
        parser.error("needs GNU time for peak RSS: apt-get install time")
    rows, changed = args.rows, frozenset(range(0, args.rows, 100))
    failed = False
    with tempfile.TemporaryDirectory() as folder, serve_mock(
        api_keys=[KEY], segmentation_lists=["newsletter"], rate_limit=0
    ) as mock:  # fmt: skip
        work = Path(folder)
        home = work / "state"
        today, tomorrow = work / "export-today.csv", work / "export-tomorrow.csv"
        write_csv(today, rows)
        write_csv(tomorrow, rows, changed)
        print(f"{rows} rows, mock limit off; projected at {LIMIT:g} requests/s")
        print(f"  {'case':<28}{'requests':>9}{'per row':>9}{'per changed':>12}"
              f"{'hours at 5/s':>14}{'peak RSS':>10}")  # fmt: skip
        cases = [
            ("(a) first import", "first", [str(today)], rows),
            ("(b) unchanged re-import", "unchanged", [str(today)], rows),
            ("(c) 1% changed", "changed", [str(tomorrow)], len(changed)),
            ("(d) --full", None, [str(tomorrow), "--full"], rows),
        ]
        for label, goal_key, import_args, divisor in cases:
            figures = run_import(mock, home, *import_args)
            per_row = figures["requests"] / rows
            per_changed = figures["requests"] / divisor if goal_key == "changed" else None
            hours = figures["requests"] / LIMIT / 3600
            shown = f"{per_changed:.2f}" if per_changed is not None else "-"
            verdict = ""
            if goal_key is not None:
                value = per_changed if per_changed is not None else per_row
                ok = value <= GOALS[goal_key]
                failed |= not ok
                verdict = f"  goal <= {GOALS[goal_key]:g}: {'ok' if ok else 'MISSED'}"
            print(f"  {label:<28}{figures['requests']:>9}{per_row:>9.3f}{shown:>12}"
                  f"{hours:>14.3f}{figures['rss_mb']:>8.1f}MB{verdict}")  # fmt: skip

        big = work / "big.csv"
        write_csv(big, args.big)
        big_home = work / "big-state"
        seconds = first_request_seconds(mock, big_home, big)
        ok = seconds <= 5.0
        failed |= not ok
        print(f"{args.big} rows: first request after {seconds:.2f} s "
              f"(goal <= 5 s: {'ok' if ok else 'MISSED'})")  # fmt: skip
        seed_state(mock, big_home, args.big)
        figures = run_import(mock, big_home, str(big))
        ok = figures["rss_mb"] <= 100 and figures["requests"] == 0
        failed |= not ok
        print(f"{args.big} rows re-imported: peak RSS {figures['rss_mb']:.1f} MB, "
              f"{figures['requests']} requests, {figures['seconds']:.1f} s "
              f"(goal <= 100 MB: {'ok' if ok else 'MISSED'})")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
