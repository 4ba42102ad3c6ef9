"""A bulk upsert run as its own process, for the kill-and-resume test.

Usage: python -m tests.resilience.bulk_worker BASE_URL API_KEY STATE COUNT REPORT_PATH IN_FLIGHT
Prints one line per finished record (so the test knows when to kill it) and writes the
report's counts as JSON at the end.
"""

from __future__ import annotations

import json
import sys

from pingback_ext import Pingback
from pingback_ext.bulk import BulkReport, RecordOutcome


def main() -> None:
    base_url, api_key, state, count, report_path, in_flight = sys.argv[1:7]
    records = (
        {"email": f"resume{i}@example.com", "name": f"R {i}", "segmentationLists": ["list-a"]}
        for i in range(int(count))
    )

    def progress(outcome: RecordOutcome, report: BulkReport) -> None:
        print(f"{report.total} {outcome.action}", flush=True)

    with Pingback(api_key=api_key, base_url=base_url, rate_limit=None) as pb:
        report = pb.subscribers.bulk_upsert(
            records, state=state, on_progress=progress, max_in_flight=int(in_flight)
        )
    with open(report_path, "w", encoding="utf-8") as out:
        json.dump(
            {
                "total": report.total,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "failed": report.failures,
                "requests": report.requests,
                "emails": [o.email for o in report.outcomes],
            },
            out,
        )


if __name__ == "__main__":
    main()
