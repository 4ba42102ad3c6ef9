"""Creates subscribers through a Redis-shared pacer, starting at an agreed wall-clock time.

Usage: python -m tests.resilience.paced_worker BASE_URL API_KEY REDIS_URL PREFIX COUNT START_AT
Prints the wall-clock time it finished.
"""

from __future__ import annotations

import sys
import time

from pingback_ext import Pingback


def main() -> None:
    base_url, api_key, redis_url, prefix, count, start_at = sys.argv[1:7]
    with Pingback(api_key=api_key, base_url=base_url, redis_url=redis_url, max_retries=0) as pb:
        time.sleep(max(0.0, float(start_at) - time.time()))
        for i in range(int(count)):
            pb.subscribers.create(f"{prefix}{i}@example.com")
    print(time.time(), flush=True)


if __name__ == "__main__":
    main()
